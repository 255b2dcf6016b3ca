//! The plugin's error type, and the one place it becomes a CNI error code.
//!
//! Messages name the thing and the reason (`master "eth1" is a port of bridge "br0": ...`),
//! because the runtime shows them to a user who did not write the plugin.

use cni_spec::{CniError, ErrorCode};

/// Kernel failures get their context (and code 999) from the shared attachment code, so a
/// failed netlink call reads the same in every plugin.
pub(crate) use cni_attach::Context;

/// Everything that can go wrong in a macvlan verb.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A key has a value the plugin cannot use (code 7).
    #[error("{0}")]
    Config(String),
    /// The master interface cannot carry macvlan children; the message says why (code 7).
    #[error("master {name:?} {reason}")]
    Master {
        /// The master's name as configured or resolved.
        name: String,
        /// Why it cannot be used, e.g. `not found in the node's network namespace`.
        reason: String,
    },
    /// No master was configured and no default route names one (code 7).
    #[error(
        "no master given and no default route in {netns} to take it from; set \"master\" \
         in the config"
    )]
    NoDefaultRoute {
        /// The namespace searched.
        netns: String,
    },
    /// `CNI_IFNAME` already exists in the pod; the spec says ADD must then fail (code 999).
    #[error("interface {ifname:?} already exists in {netns}")]
    Exists {
        /// The interface name.
        ifname: String,
        /// The pod's namespace.
        netns: String,
    },
    /// The host shim is in a state this plugin did not make (code 999).
    #[error("{0}")]
    Shim(String),
    /// CHECK found the attachment differs from what ADD promised (code 999, as Go).
    #[error("{0}")]
    Check(String),
    /// STATUS: an ADD could not succeed now (code 50).
    #[error("{0}")]
    Unavailable(String),
    /// An error from the shared attachment code, with its own code.
    #[error(transparent)]
    Attach(#[from] cni_attach::Error),
    /// An error from the protocol layer (IPAM delegation, results), with its own code.
    #[error(transparent)]
    Cni(#[from] CniError),
}

/// Shorthand.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for CniError {
    fn from(err: Error) -> CniError {
        // Errors from the layers below already carry their code.
        let err = match err {
            Error::Attach(e) => return e.into(),
            Error::Cni(e) => return e,
            other => other,
        };
        let code = match &err {
            Error::Config(_) | Error::Master { .. } | Error::NoDefaultRoute { .. } => {
                ErrorCode::InvalidConfig
            }
            Error::Unavailable(_) => ErrorCode::PluginNotAvailable,
            // Go's skel reports every untyped plugin error as 999; these are those.
            Error::Shim(_)
            | Error::Exists { .. }
            | Error::Check(_)
            | Error::Attach(_)
            | Error::Cni(_) => ErrorCode::Internal,
        };
        CniError::new(code, err.to_string())
    }
}
