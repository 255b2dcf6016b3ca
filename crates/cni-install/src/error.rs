//! The installer's one error type. Every variant names the path it failed on and keeps the
//! OS error, because the operator reads it in `kubectl logs` on a node they cannot see.

use std::io;
use std::path::PathBuf;

/// What can go wrong while installing or checking.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line is wrong; the text says how.
    #[error("{0}")]
    Usage(String),
    /// A file or directory operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done ("read", "rename to", ...).
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The image directory holds no plugin binary: installing nothing would look like success.
    #[error("no plugin binaries in {}", .0.display())]
    NothingToInstall(PathBuf),
    /// A conflist would be rejected or ignored by the runtime, so it is not written.
    #[error("conflist {}: {reason}", path.display())]
    BadConflist {
        /// The conflist's source path.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An installed plugin is missing, not executable, or does not answer VERSION.
    #[error("{} is not ready: {reason}", path.display())]
    NotReady {
        /// The installed binary or conflist.
        path: PathBuf,
        /// Why it is not usable.
        reason: String,
    },
    /// Some files failed; the others were installed. Each failure is listed.
    #[error("{} of {total} files failed:\n  {}", failures.len(), list(failures))]
    Partial {
        /// How many files were attempted.
        total: usize,
        /// The failures, in order.
        failures: Vec<Error>,
    },
}

fn list(errors: &[Error]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n  ")
}

impl Error {
    /// An I/O error with its action and path.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
