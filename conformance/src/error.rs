//! The crate's one error type: what the runner (a runtime) can hit while driving plugins.
//!
//! A plugin's own CNI error is a value here ([`ConformanceError::Plugin`]), not a panic: the
//! suite's cases compare codes, and a runtime built on the runner decides what to do with it,
//! as libcni's callers do.

use std::io;
use std::path::PathBuf;

use cni_sandbox::SandboxError;
use cni_spec::Command;

/// Result alias used throughout the crate.
pub type Result<T, E = ConformanceError> = std::result::Result<T, E>;

/// Everything the runner and the suite's plumbing can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// The sandbox (namespaces, processes, probes) failed; not the plugin's fault.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),

    /// A network configuration (list) was refused the way libcni refuses it.
    #[error("{0}")]
    Config(String),

    /// No executable called `plugin` in any directory of the plugin path (libcni FindInPath).
    #[error("failed to find plugin {plugin:?} in path {path:?}")]
    NotFound {
        /// The plugin `type`.
        plugin: String,
        /// The directories searched.
        path: Vec<PathBuf>,
    },

    /// The plugin exited non-zero and printed a CNI error object.
    #[error("plugin {plugin} failed ({verb}): code {}: {msg}{}", code.map_or("none".to_owned(), |c| c.to_string()), details_suffix(details))]
    Plugin {
        /// The plugin `type`.
        plugin: String,
        /// The verb it ran.
        verb: Command,
        /// The error `code`, if the object had a numeric one.
        code: Option<u64>,
        /// The error `msg`.
        msg: String,
        /// The error `details` (empty if absent).
        details: String,
    },

    /// The plugin's output could not be read as the protocol requires (libcni raw_exec /
    /// result decoding): empty stdout on failure, non-JSON, a result of no known version.
    #[error("plugin {plugin} ({verb}): {detail}")]
    Output {
        /// The plugin `type`.
        plugin: String,
        /// The verb it ran.
        verb: Command,
        /// What was wrong, with the output quoted.
        detail: String,
    },

    /// The runtime refused the operation before running anything, as libcni does (CHECK on a
    /// 0.3.1 list, DEL of a list without a parsable version).
    #[error("{0}")]
    Refused(String),

    /// The libcni result cache could not be read or written.
    #[error("result cache {}: {detail}", path.display())]
    Cache {
        /// The cache file or directory.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },

    /// File-system work of the runner or the suite failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// The action ("read conflist", "create plugin dir").
        what: &'static str,
        /// The path acted on.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// Several operations failed (GC and validation go on past errors, as libcni does).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Many(Vec<ConformanceError>),

    /// A gap table or a pattern could not be read.
    #[error("{0}")]
    Gaps(String),
}

fn details_suffix(details: &str) -> String {
    if details.is_empty() {
        String::new()
    } else {
        format!(" ({details})")
    }
}

impl ConformanceError {
    /// Shorthand for [`ConformanceError::Io`].
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            what,
            path: path.into(),
            source,
        }
    }

    /// The CNI error code, if this is a plugin's error object with one.
    pub fn plugin_code(&self) -> Option<u64> {
        match self {
            Self::Plugin { code, .. } => *code,
            Self::Many(all) => all.iter().find_map(Self::plugin_code),
            _ => None,
        }
    }
}
