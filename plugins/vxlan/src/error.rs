//! The vxlan plugin's own failures, and the one place they become CNI errors.
//!
//! The kernel's answers about VXLAN devices are terse (`EEXIST`, `EADDRINUSE` on link up,
//! `EOPNOTSUPP`); the variants here say what they mean for a network (vxlan-multus.md §2.3).

use std::net::IpAddr;

use cni_spec::{CniError, ErrorCode};

/// Everything the vxlan plugin itself can report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A shared attachment step failed (veth, bridge, pod setup, masquerade, lock, kernel).
    #[error(transparent)]
    Attach(#[from] cni_attach::Error),
    /// The config parses but is invalid (ranges, conflicting keys, families).
    #[error("{0}")]
    Config(String),
    /// The underlay device named by `dev` is not in the node's namespace.
    #[error("underlay device {name:?} not found in {netns}")]
    UnderlayMissing {
        /// The name looked for.
        name: String,
        /// The node namespace.
        netns: String,
    },
    /// No `dev` was given and the node has no default route to take it from.
    #[error("no underlay: \"dev\" is not set and {netns} has no default route")]
    NoDefaultRoute {
        /// The node namespace.
        netns: String,
    },
    /// The underlay has no address to use as the tunnel source.
    #[error("underlay {dev:?} has no global {family} address to use as the VXLAN local address")]
    NoLocalAddress {
        /// The underlay.
        dev: String,
        /// `IPv4` or `IPv6`.
        family: &'static str,
    },
    /// `local` is not an address of the underlay.
    #[error("local address {local} is not an address of underlay {dev:?}")]
    LocalNotOnUnderlay {
        /// The configured address.
        local: IpAddr,
        /// The underlay.
        dev: String,
    },
    /// `mtu` leaves no room for the encapsulation on this underlay.
    #[error(
        "mtu {mtu} is too large for underlay {dev:?} (MTU {underlay_mtu}): at most {max} fits \
         with the {overhead}-byte VXLAN encapsulation"
    )]
    MtuTooLarge {
        /// The configured MTU.
        mtu: u32,
        /// The underlay.
        dev: String,
        /// Its MTU.
        underlay_mtu: u32,
        /// The largest inner MTU that fits.
        max: u32,
        /// 50 (IPv4) or 70 (IPv6).
        overhead: u32,
    },
    /// The kernel cannot create VXLAN devices (no `vxlan` module).
    #[error(
        "the kernel does not support VXLAN devices (CONFIG_VXLAN, module \"vxlan\" not \
         available): {source}"
    )]
    VxlanUnsupported {
        /// The kernel's refusal.
        #[source]
        source: Box<cni_netlink::Error>,
    },
    /// Another device already owns this VNI on this port in the node's namespace.
    #[error(
        "VNI {vni} on UDP port {port} is already used by device {holder:?} in {netns}: the \
         kernel allows one VXLAN device per (VNI, port) per namespace"
    )]
    VniInUse {
        /// The VNI.
        vni: u32,
        /// The port.
        port: u16,
        /// The other device, or `?` if it could not be named.
        holder: String,
        /// The node namespace.
        netns: String,
    },
    /// Bringing the VTEP up failed because its UDP port is taken by an incompatible socket.
    #[error(
        "UDP port {port} cannot be bound for VTEP {vtep:?} in {netns}: another VXLAN device \
         with different receive flags (e.g. an \"external\" one of Cilium, or flannel's) or \
         another program holds it; set \"port\" to a free port ({source})"
    )]
    PortInUse {
        /// The port.
        port: u16,
        /// Our VTEP.
        vtep: String,
        /// The node namespace.
        netns: String,
        /// The kernel's refusal.
        #[source]
        source: Box<cni_netlink::Error>,
    },
    /// A link with the VTEP's name exists and is not a VXLAN device.
    #[error("{0:?} already exists but is not a VXLAN device")]
    NotAVtep(String),
    /// The VTEP is a port of some other bridge (another config with this VNI?).
    #[error(
        "VTEP {vtep:?} is already a port of {other:?}, not of bridge {bridge:?}: another \
         network on this node uses VNI {vni}"
    )]
    VtepElsewhere {
        /// Our VTEP.
        vtep: String,
        /// The bridge it is in.
        other: String,
        /// Our bridge.
        bridge: String,
        /// The VNI.
        vni: u32,
    },
    /// The bridge already carries another VXLAN device (two VNIs on one bridge).
    #[error(
        "bridge {bridge:?} already carries VXLAN device {other:?}; give each VNI its own bridge"
    )]
    BridgeHasOtherVtep {
        /// Our bridge.
        bridge: String,
        /// The other VXLAN port.
        other: String,
    },
    /// CHECK found the attachment differs from what ADD promised.
    #[error("{0}")]
    Check(String),
}

/// Shorthand.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether STATUS should report this as "cannot serve ADD" (code 50): the node lacks what
    /// the network needs, as opposed to a bug or a transient failure.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Error::UnderlayMissing { .. }
                | Error::NoDefaultRoute { .. }
                | Error::NoLocalAddress { .. }
                | Error::LocalNotOnUnderlay { .. }
                | Error::MtuTooLarge { .. }
                | Error::VxlanUnsupported { .. }
                | Error::VniInUse { .. }
                | Error::PortInUse { .. }
                | Error::NotAVtep(_)
                | Error::VtepElsewhere { .. }
                | Error::BridgeHasOtherVtep { .. }
        )
    }
}

impl From<Error> for CniError {
    fn from(err: Error) -> CniError {
        match err {
            Error::Attach(e) => e.into(),
            Error::Config(msg) => CniError::new(ErrorCode::InvalidConfig, msg),
            e @ Error::MtuTooLarge { .. } => CniError::new(ErrorCode::InvalidConfig, e.to_string()),
            // Go's skel reports untyped errors as 999.
            other => CniError::new(ErrorCode::Internal, other.to_string()),
        }
    }
}
