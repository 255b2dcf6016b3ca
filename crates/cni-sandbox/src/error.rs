//! The crate's one error type.
//!
//! Every variant names the command or path involved, so a failing test says what the harness
//! was doing (`ip -n cnisb-1-2-node link add ...: RTNETLINK answers: File exists`) rather than
//! only that something failed.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Result alias used throughout the harness.
pub type Result<T, E = SandboxError> = std::result::Result<T, E>;

/// Everything that can go wrong while building, probing or tearing down a test world.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The harness needs root (namespaces, links, bind mounts under /run/netns).
    #[error("the sandbox needs root (euid 0); this process runs as euid {euid}")]
    NotRoot {
        /// The effective user id we run as.
        euid: u32,
    },

    /// A program could not be started at all (missing binary, bad netns fd, ...).
    #[error("start `{cmd}`: {source}")]
    Spawn {
        /// The command line, for the reader.
        cmd: String,
        /// What exec/fork/setns said.
        #[source]
        source: io::Error,
    },

    /// A program ran and exited unsuccessfully where success was required.
    #[error("`{cmd}` failed with {status}: {stderr}{}", stdout_suffix(stdout))]
    Command {
        /// The command line.
        cmd: String,
        /// How it ended ("exit status 2", "signal 9").
        status: String,
        /// Its stderr, trimmed.
        stderr: String,
        /// Its stdout, trimmed (often empty).
        stdout: String,
    },

    /// A program outlived its time bound and was killed together with its process group.
    #[error(
        "`{cmd}` did not finish within {after:?} and was killed; stdout: {stdout:?}; stderr: {stderr:?}"
    )]
    Timeout {
        /// The command line.
        cmd: String,
        /// The bound that was exceeded.
        after: Duration,
        /// What it printed on stdout before it was killed.
        stdout: String,
        /// What it printed on stderr before it was killed.
        stderr: String,
    },

    /// A program's output did not have the shape the probe expects (iproute2 JSON changed?).
    #[error("parse output of `{cmd}`: {detail}")]
    Parse {
        /// The command line whose output was parsed.
        cmd: String,
        /// What did not fit.
        detail: String,
    },

    /// File-system work of the harness failed (temp dirs, netns files, sysctl files).
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// The action ("create temp dir", "read sysctl").
        what: &'static str,
        /// The path it acted on.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// A caller passed something the harness refuses (an empty role, a 16-byte interface name).
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// Which argument.
        what: &'static str,
        /// Why it was refused.
        detail: String,
    },
}

fn stdout_suffix(stdout: &str) -> String {
    if stdout.is_empty() {
        String::new()
    } else {
        format!(" (stdout: {stdout})")
    }
}

impl SandboxError {
    /// Shorthand for an [`SandboxError::Io`] with its context.
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            what,
            path: path.into(),
            source,
        }
    }

    /// Shorthand for an [`SandboxError::Invalid`].
    pub(crate) fn invalid(what: &'static str, detail: impl Into<String>) -> Self {
        Self::Invalid {
            what,
            detail: detail.into(),
        }
    }
}
