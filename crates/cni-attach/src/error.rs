//! This crate's error type, and the one place it becomes a CNI error.

use cni_spec::{CniError, ErrorCode};

/// Everything that can go wrong while attaching, checking or detaching a pod.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A kernel operation failed; `context` says what the plugin was doing.
    #[error("{context}: {source}")]
    Netlink {
        /// What was being done, e.g. `set up "eth0"`.
        context: String,
        /// The netlink layer's error (keeps the errno).
        #[source]
        source: cni_netlink::Error,
    },
    /// A MAC address from the config or the runtime is not usable on a link.
    #[error("invalid MAC address {value:?} in {origin}: {reason}")]
    InvalidMac {
        /// The text given.
        value: String,
        /// Where it came from (`runtimeConfig.mac`, `CNI_ARGS MAC`, ...).
        origin: &'static str,
        /// Why it cannot be used.
        reason: &'static str,
    },
    /// `CNI_IFNAME` already exists in the pod; the spec says ADD must then fail.
    #[error("container veth name {0:?} already exists")]
    InterfaceExists(String),
    /// Every random host-side veth name tried was taken.
    #[error("could not find a free host veth name after {0} attempts")]
    NoFreeVethName(u32),
    /// Reading randomness for a veth name failed.
    #[error("read /dev/urandom: {0}")]
    Random(#[source] std::io::Error),
    /// IPv6 duplicate address detection found a duplicate.
    #[error("IPv6 duplicate address detection failed for {address} on {ifname:?}")]
    DadFailed {
        /// The interface.
        ifname: String,
        /// The duplicate address.
        address: ipnetwork::IpNetwork,
    },
    /// IPv6 addresses stayed tentative past the deadline on an interface that is up.
    #[error("IPv6 addresses on {ifname:?} still tentative after {waited_ms} ms: {addresses:?}")]
    DadTimeout {
        /// The interface.
        ifname: String,
        /// How long we waited.
        waited_ms: u128,
        /// The addresses still tentative.
        addresses: Vec<ipnetwork::IpNetwork>,
    },
    /// A firewall tool (`nft`, `iptables`, ...) could not run or refused the request.
    #[error("{tool} {action}: {detail}")]
    Firewall {
        /// The program.
        tool: &'static str,
        /// What it was asked to do.
        action: String,
        /// Its stderr, or why it could not start.
        detail: String,
    },
    /// A firewall tool is not installed (absent from `PATH`).
    #[error("{0} is not installed (not found in PATH)")]
    ToolMissing(&'static str),
    /// A sysctl the attachment needs could not be written.
    #[error("{0}")]
    Sysctl(String),
    /// A link with the bridge's name exists and is something else.
    #[error("{0:?} already exists but is not a bridge")]
    NotABridge(String),
    /// The bridge already holds another address and `forceAddress` is off.
    #[error("{link:?} already has an IP address different from {wanted}")]
    AddressConflict {
        /// The link.
        link: String,
        /// The gateway address wanted on it.
        wanted: ipnetwork::IpNetwork,
    },
    /// A new bridge port did not reach forwarding state in time.
    #[error("bridge port in error state: {0}")]
    PortNotForwarding(String),
    /// CHECK found the attachment differs from what ADD promised.
    #[error("{0}")]
    Check(String),
    /// A node-wide lock file could not be created, locked or removed.
    #[error("{action} lock {path}: {source}")]
    Lock {
        /// What failed: `create`, `open`, `lock`, `stat` or `remove`.
        action: &'static str,
        /// The lock file or its directory.
        path: String,
        /// The file system's error.
        #[source]
        source: std::io::Error,
    },
    /// IPAM answered ADD without any address.
    #[error("IPAM plugin returned missing IP config")]
    NoIpamAddresses,
    /// A config value this crate interprets is invalid (e.g. an unknown `ipMasqBackend`).
    #[error("{0}")]
    InvalidConfig(String),
}

/// Shorthand.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for CniError {
    fn from(err: Error) -> CniError {
        let code = match &err {
            Error::InvalidMac { .. } | Error::InvalidConfig(_) => ErrorCode::InvalidConfig,
            Error::Random(_) | Error::Lock { .. } => ErrorCode::Io,
            // Go's skel reports every untyped plugin error as 999; these are those.
            Error::Netlink { .. }
            | Error::InterfaceExists(_)
            | Error::NoFreeVethName(_)
            | Error::DadFailed { .. }
            | Error::DadTimeout { .. }
            | Error::Firewall { .. }
            | Error::ToolMissing(_)
            | Error::Sysctl(_)
            | Error::NotABridge(_)
            | Error::AddressConflict { .. }
            | Error::PortNotForwarding(_)
            | Error::NoIpamAddresses
            | Error::Check(_) => ErrorCode::Internal,
        };
        CniError::new(code, err.to_string())
    }
}

/// Adds "what we were doing" to a netlink result.
pub trait Context<T> {
    /// Wraps the error with `context()`.
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for cni_netlink::Result<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Netlink {
            context: context(),
            source,
        })
    }
}

impl<T> Context<T> for std::result::Result<T, cni_netlink::NetnsError> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::Netlink {
            context: context(),
            source: e.into(),
        })
    }
}
