//! The suite's only kernel-facing code: network namespace handles, a synchronous rtnetlink
//! transport, and the link, address, route, neighbour and FDB operations the plugins need, each
//! named after the iproute2 command it mirrors (`link_add_veth` is `ip link add ... type veth`,
//! `fdb_append` is `bridge fdb append`).
//!
//! Plugins depend on this crate and never name rtnetlink or netlink-packet-* themselves; every
//! type in the API is this crate's own. What it does not do: CNI semantics (which link to create,
//! what to do on EEXIST during DEL) belong to the plugins; creating and deleting namespaces
//! belongs to the runtime (and to `cni-sandbox` in tests).
//!
//! ```no_run
//! use cni_netlink::{Handle, Netns, VethEnd, VethSpec};
//! # fn main() -> Result<(), cni_netlink::Error> {
//! let pod = Netns::open("/run/netns/pod")?;
//! let host = Handle::current()?;
//! host.link_add_veth(&VethSpec {
//!     local: VethEnd::named("veth1234abcd"),
//!     peer: VethEnd::named("eth0"),
//!     peer_netns: Some(&pod),
//! })?;
//! let in_pod = pod.handle()?;
//! let eth0 = in_pod.link_get("eth0")?.expect("just created");
//! in_pod.link_set_up(eth0.index)?;
//! # Ok(()) }
//! ```

mod addr;
mod bridge;
mod error;
mod handle;
mod link_create;
mod link_ops;
mod link_spec;
mod link_view;
mod neigh;
mod netns;
mod route;
pub mod sysctl;
mod transport;
mod types;

#[cfg(test)]
mod fixtures;

pub use addr::{AddrFlags, AddrOptions, Address};
pub use bridge::{BridgePortSettings, BridgeVlan, PortVlans, VlanRange, VlanSpec, VlanTarget};
pub use error::{Error, Result};
pub use handle::Handle;
pub use link_ops::{LinkId, ListKind};
pub use link_spec::{BridgeSpec, MacvlanSpec, VethEnd, VethSpec, VxlanSpec};
pub use link_view::{
    BridgeInfo, BridgePortInfo, Link, LinkKind, MacvlanInfo, MacvlanMode, OperState, PortState,
    VxlanInfo,
};
pub use neigh::{FdbEntry, Neighbour};
pub use netns::{Netns, NetnsError, NetnsId};
pub use route::{RT_TABLE_MAIN, Route, RouteKind, RouteSpec};
pub use sysctl::SysctlKey;
pub use types::{IpFamily, MacAddr, ParseMacError, Scope, VlanId, Vni};
