//! The bridge plugin's own failures, and the one place they become CNI errors. Messages are the
//! reference's where it has one, since users and runbooks search for them.

use cni_spec::{CniError, ErrorCode};

/// Everything the bridge plugin itself can report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A shared attachment step failed (veth, bridge device and port, pod setup, masquerade,
    /// kernel calls).
    #[error(transparent)]
    Attach(#[from] cni_attach::Error),
    /// The config parses but is invalid (ranges, conflicting keys).
    #[error("{0}")]
    Config(String),
    /// The kernel refused a VLAN setting: it was built without bridge VLAN filtering.
    #[error(
        "{what}: the kernel does not support bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING); {source}"
    )]
    VlanUnsupported {
        /// What was being set up.
        what: String,
        /// The kernel's refusal.
        #[source]
        source: cni_netlink::Error,
    },
    /// CHECK found the attachment differs from what ADD promised.
    #[error("{0}")]
    Check(String),
}

/// Shorthand.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for CniError {
    fn from(err: Error) -> CniError {
        match err {
            Error::Attach(e) => e.into(),
            Error::Config(msg) => CniError::new(ErrorCode::InvalidConfig, msg),
            // Go's skel reports these untyped errors as 999.
            other => CniError::new(ErrorCode::Internal, other.to_string()),
        }
    }
}
