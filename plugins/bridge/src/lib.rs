//! The `bridge` CNI plugin: each pod gets a veth pair whose node end is a port of a Linux
//! bridge (default `cni0`), as the reference plugin does, with the same config keys and
//! results, so existing configs (flannel's delegate, Multus NADs) work unchanged.
//!
//! | Module | For |
//! |---|---|
//! | [`config`] | the config keys, defaults and validation |
//! | [`add`] | ADD, top to bottom |
//! | [`del`] | DEL, which cleans up even without the pod namespace |
//! | [`check`] | CHECK, including L2, hairpin, isolation, VLANs, MTU and firewall rules |
//! | [`status`] | STATUS and GC, forwarded to IPAM; GC of masquerade rules |
//! | [`device`] | the bridge as this plugin configures it (shared code in `cni_attach::bridge`), the `<bridge>.<vlan>` gateway |
//! | [`port`] | the host veth as a bridge port: flags and VLANs |
//! | [`spoofchk`] | `macspoofchk` nftables rules |
//!
//! Shared attachment code (veth, pod interface, gateways, ipMasq) is in `cni-attach`; kernel
//! access in `cni-netlink`; the protocol in `cni-spec`.

pub mod add;
pub mod check;
pub mod config;
pub mod del;
pub mod device;
mod error;
pub mod port;
pub mod spoofchk;
pub mod status;

pub use error::Error;

use cni_spec::{CniError, CniResult, Plugin, Request};

/// The plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bridge;

impl Plugin for Bridge {
    const NAME: &'static str = "bridge";

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
