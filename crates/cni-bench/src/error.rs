//! The crate's one error type. Every variant says what the benchmark was doing, so a run that
//! stops half way tells which subject, verb and step broke.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Result alias used throughout the benchmark.
pub type Result<T, E = BenchError> = std::result::Result<T, E>;

/// Everything that can stop a benchmark run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The command line was not understood.
    #[error("{0}")]
    Usage(String),

    /// A binary the run needs is not where it should be.
    #[error("{what}: no executable at {path}")]
    Missing {
        /// What the binary is for ("our bridge", "the reference host-local").
        what: String,
        /// Where it was looked for.
        path: PathBuf,
    },

    /// A file or directory operation failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What we were doing ("write", "read dir").
        what: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// A system call on a namespace or process failed.
    #[error("{what}: {source}")]
    Sys {
        /// The call and its object ("setns into /run/netns/x", "spawn /usr/lib/cni/bridge").
        what: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// A measured command ran and failed where the benchmark needs it to succeed.
    #[error("{what} failed (exit {status}): {detail}")]
    Failed {
        /// Subject, scenario and verb ("ours bridge ADD #17").
        what: String,
        /// The exit status (128 + signal for a signal).
        status: i32,
        /// Its stdout and stderr, trimmed.
        detail: String,
    },

    /// A measured command outlived its bound and was killed with its process group.
    #[error("{what} did not finish within {after:?}")]
    Timeout {
        /// What was running.
        what: String,
        /// The bound.
        after: Duration,
    },

    /// The sandbox (namespaces, iproute2 setup) failed.
    #[error(transparent)]
    Sandbox(#[from] cni_sandbox::SandboxError),

    /// The conflist runner failed.
    #[error("conflist runner: {0}")]
    Runner(#[from] cni_conformance::ConformanceError),

    /// The RSS probe's report was not what it prints.
    #[error("rss probe: {0}")]
    Probe(String),
}

impl BenchError {
    /// An I/O error on `path`.
    pub fn io(what: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        BenchError::Io {
            what,
            path: path.into(),
            source,
        }
    }

    /// A failed system call, with its object in words.
    pub fn sys(what: impl Into<String>, source: io::Error) -> Self {
        BenchError::Sys {
            what: what.into(),
            source,
        }
    }
}
