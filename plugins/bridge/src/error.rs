//! The bridge plugin's own failures, and the one place they become CNI errors. Messages are the
//! reference's where it has one, since users and runbooks search for them.

use cni_spec::{CniError, ErrorCode};

/// Everything the bridge plugin itself can report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A shared attachment step failed (veth, pod setup, masquerade, kernel calls).
    #[error(transparent)]
    Attach(#[from] cni_attach::Error),
    /// The config parses but is invalid (ranges, conflicting keys).
    #[error("{0}")]
    Config(String),
    /// A link with the bridge's name exists and is something else.
    #[error("{0:?} already exists but is not a bridge")]
    NotABridge(String),
    /// The bridge (or VLAN gateway) holds another address and `forceAddress` is off.
    #[error("{link:?} already has an IP address different from {wanted}")]
    AddressConflict {
        /// The link.
        link: String,
        /// The gateway address wanted on it.
        wanted: ipnetwork::IpNetwork,
    },
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
    /// IPAM returned a result without addresses.
    #[error("IPAM plugin returned missing IP config")]
    NoIpamAddresses,
    /// The host veth did not reach forwarding state in time.
    #[error("bridge port in error state: {0}")]
    PortNotForwarding(String),
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

impl From<cni_attach::OpenError> for Error {
    fn from(e: cni_attach::OpenError) -> Error {
        Error::Attach(e.into())
    }
}
