//! A pod behind a bridge port, as the `bridge` and `vxlan` plugins both attach it: a veth whose
//! node end is a port of a Linux bridge, the pod side configured from IPAM, optionally the
//! gateway on the bridge and masquerading. The two plugins differ in what the bridge is and
//! how it comes to exist (the bridge plugin's VLANs and spoof check; vxlan's VTEP, peers and
//! per-node lock), not in these steps, so the steps live here once.
//!
//! | Module | For |
//! |---|---|
//! | [`attach`](mod@attach) | ADD after IPAM: veth, the plugin's [`NodeSide`], pod side, gateway, masquerading |
//! | [`conf`] | the config keys both plugins read the same way (`isGateway`, `ipMasq`, `mtu`, ...) |
//! | [`check`] | CHECK of the pod's veth, its port flags, addresses, routes and masquerade rules |
//! | [`detach`](mod@detach) | DEL (pod veth, IPAM, masquerade rules) and GC (IPAM, stale masquerade rules) |
//!
//! Not here: the bridge device and port flags themselves ([`crate::bridge`]), and anything
//! only one of the plugins does.

pub mod attach;
pub mod check;
pub mod conf;
pub mod detach;

pub use attach::{Attached, NodeSide, PodPlan, attach};
pub use conf::BridgedConf;
pub use detach::{detach, gc};
