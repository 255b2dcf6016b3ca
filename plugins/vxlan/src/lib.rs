//! The `vxlan` CNI plugin: pods on different nodes share one L2 segment. There is no reference
//! plugin (containernetworking/plugins#1062: CNI has no remote-host discovery), so the peers
//! come from the config, in three ways (seed vxlan-multicast-unicast-proxy.txt):
//!
//! - `remotes`: the other nodes' underlay addresses. Broadcast and unknown unicast are copied to
//!   each (head-end replication: one all-zero FDB entry per remote). A node skips its own
//!   address, so one config can list every node. Reconciled on every ADD: a remote added or
//!   removed in the config is added or removed on the node.
//! - `group`: a multicast group joined on the underlay; flooding goes to the group and learning
//!   (on by default in this mode) fills in where each MAC lives.
//! - `neighbors`: every remote pod's IP, MAC and VTEP, programmed as permanent FDB and
//!   neighbour entries on a VTEP created with `proxy`, which answers ARP/ND itself, so nothing
//!   floods. The pods' MACs must then be fixed (`mac`, `CNI_ARGS MAC`, `runtimeConfig.mac`).
//!
//! ## The node side
//! Per network and node there is one VTEP, `vxlan<vni>` (the kernel allows one device per VNI
//! and port in a namespace), enslaved to one bridge (`bridge`, default `vxbr<vni>`); each pod is
//! a veth whose node end is another port of that bridge, as with the bridge plugin. The VTEP
//! and bridge are created by the network's first ADD on the node and removed by its last DEL,
//! under a per-node lock, with the pods counted from the kernel ([`network`]). Every VTEP
//! attribute is set explicitly: VNI, UDP port (**default 4789**, the IANA port, not the
//! kernel's 8472), underlay (`dev`, default the default-route interface), local address (from
//! the underlay), learning (off unless `group`), UDP checksums, TTL and MTU (underlay − 50 for
//! IPv4, − 70 for IPv6, unless `mtu`; pods get the same MTU). An existing VTEP that differs in
//! something the kernel cannot change in place is recreated ([`vtep`]).
//!
//! Like the bridge plugin: `hairpinMode`, `isGateway`/`isDefaultGateway` (with the same gateway
//! address on every node's bridge and the same MAC, an anycast gateway: a pod's traffic to it
//! stays on its node; the node itself reaches only its own pods through it), `forceAddress`,
//! `ipMasq`, `mac`, IPAM by delegation.
//!
//! **IPAM must hand out distinct addresses across nodes**: host-local is per node, so give each
//! node its own `rangeStart`/`rangeEnd` slice of the one subnet (or use a cluster-wide IPAM).
//!
//! | Module | For |
//! |---|---|
//! | [`config`] | keys, defaults, validation |
//! | [`underlay`] | underlay device, local address, MTU |
//! | [`vtep`] | the VXLAN device: attributes, compatibility, port clashes, STATUS probe |
//! | [`peers`] | FDB and neighbour entries for `remotes` and `neighbors` |
//! | [`network`] | the lock, and the shared bridge + VTEP from first ADD to last DEL |
//! | [`add`], [`del`], [`check`], [`status`] | the verbs (`status` also has GC) |
//!
//! Veth, pod interface, gateways, bridge device and masquerading are shared code in
//! `cni-attach`; kernel access in `cni-netlink`; the protocol in `cni-spec`.

pub mod add;
pub mod check;
pub mod config;
pub mod del;
mod error;
pub mod network;
pub mod peers;
pub mod status;
pub mod underlay;
pub mod vtep;

pub use error::Error;

use cni_spec::{CniError, CniResult, Plugin, Request};

/// The plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Vxlan;

impl Plugin for Vxlan {
    const NAME: &'static str = "vxlan";

    fn add(&self, req: &Request) -> Result<CniResult, CniError> {
        add::add(req)
    }

    fn del(&self, req: &Request) -> Result<(), CniError> {
        del::del(req)
    }

    fn check(&self, req: &Request) -> Result<(), CniError> {
        check::check(req)
    }

    fn status(&self, req: &Request) -> Result<(), CniError> {
        status::status(req)
    }

    fn gc(&self, req: &Request) -> Result<(), CniError> {
        status::gc(req)
    }
}
