//! Plugin-side attachment code shared by the `bridge`, `macvlan` and `vxlan` plugins: what a
//! plugin does between reading the request and printing the result (and undoing it in DEL),
//! in the reference plugins' order and with their observable behaviour. Where a step is the
//! same in several plugins it lives here once; [`bridged`] holds the whole verbs of a pod
//! behind a bridge port, with the plugin's own part behind [`bridged::NodeSide`].
//!
//! | Module | For |
//! |---|---|
//! | [`ns`] | [`NsConn`]: a namespace plus a netlink socket in it (node side, pod side) |
//! | [`target`] | [`PodTarget`]: the pod a request names, with sockets on the node and in the pod |
//! | [`ipam`] | IPAM ADD by delegation: the reservation guard, no addresses refused |
//! | [`report`] | result entries for links, the config's DNS |
//! | [`bridge`] | the node-side bridge: ensure it, gateway address, ports and their flags, forwarding wait |
//! | [`lock`] | [`NodeLock`]: a per-node `flock` for state several invocations share |
//! | [`uplink`] | the node's default-route interface |
//! | [`veth`] | the veth pair, pod end in the pod, host end `veth<8 hex>` on the node; [`LinkGuard`] rollback |
//! | [`mac`] | which MAC the pod interface gets (config, `CNI_ARGS`, `args`, `runtimeConfig`) |
//! | [`pod`] | configuring the pod interface: DAD/ARP sysctls, addresses, up, DAD settle, routes |
//! | [`gateway`] | gateways and default routes per family; forwarding on the node |
//! | [`check`] | CHECK: `prevResult` (after IPAM's CHECK), the pod entry in it, its addresses and routes |
//! | [`masq`] | ipMasq with the nftables (default) or iptables backend; teardown and GC without a netns |
//! | [`teardown`] | DEL for every plugin: delete the pod's interface whatever its state; run every step |
//! | [`bridged`] | the verbs' steps for a pod behind a bridge port, shared by `bridge` and `vxlan` |
//! | [`nft`] | a small client for the `nft` binary's JSON interface |
//! | [`hash`] | the reference's hash-derived rule names and comments |
//!
//! Not here: the CNI protocol (`cni-spec`), kernel messages (`cni-netlink`), and what is
//! particular to one plugin (bridge VLANs, macvlan modes, VXLAN devices).

pub mod bridge;
pub mod bridged;
pub mod check;
mod error;
pub mod gateway;
pub mod hash;
pub mod ipam;
pub mod lock;
pub mod mac;
pub mod masq;
pub mod nft;
pub mod ns;
pub mod pod;
pub mod report;
pub mod target;
pub mod teardown;
mod tool;
pub mod uplink;
pub mod veth;

pub use bridge::{BridgeDevice, PortFlags};
pub use error::{Context, Error, Result};
pub use gateway::{Gateways, enable_forwarding, plan_gateways};
pub use lock::NodeLock;
pub use mac::requested_mac;
pub use masq::{Backend as MasqBackend, MasqOwner};
pub use ns::{NsConn, OpenError};
pub use pod::{PodOptions, configure_pod_interface, pod_addresses};
pub use target::PodTarget;
pub use teardown::{FirstError, delete_pod_link};
pub use veth::{LinkGuard, VethPair, VethRequest, create_veth};
