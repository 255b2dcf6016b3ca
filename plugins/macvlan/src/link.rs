//! The pod's macvlan: created directly in the pod's namespace under a temporary name and
//! renamed to `CNI_IFNAME` there (the reference's way: a name chosen for the pod may collide
//! with one on the node, and the kernel names the link in the creating namespace first).
//!
//! Creation goes through the socket of the namespace the master lives in (the node's, or the
//! pod's with `linkInContainer`), since the parent index is resolved there. What the kernel
//! refuses comes back with the reason in words (`master::explain_create_error`).
//! Not here: addresses and routes (`cni_attach::pod`), the host shim (`shim`).

use cni_attach::NsConn;
use cni_netlink::{Handle, Link, MacAddr, MacvlanSpec};

use crate::config::Mode;
use crate::error::{Context, Error, Result};
use crate::master;

/// What the pod's macvlan looks like.
#[derive(Debug, Clone)]
pub struct PodLinkSpec<'a> {
    /// The parent, as seen by the creating socket.
    pub master: &'a Link,
    /// The mode (and source MACs).
    pub mode: &'a Mode,
    /// MTU; `None` inherits the master's.
    pub mtu: Option<u32>,
    /// MAC; `None` lets the kernel pick (passthru always takes the master's).
    pub mac: Option<MacAddr>,
    /// Broadcast queue length.
    pub bc_queue_len: Option<u32>,
}

/// Creates the macvlan in `pod` as `ifname`, through `creator` (the master's namespace), and
/// returns it as the pod sees it.
pub fn create(creator: &Handle, pod: &NsConn, ifname: &str, spec: &PodLinkSpec) -> Result<Link> {
    // The spec: ADD must fail if the interface exists. Say so before the rename does, in words.
    let existing = pod
        .handle
        .link_get(ifname)
        .context(|| format!("look up {ifname:?} in {}", pod.label()))?;
    if existing.is_some() {
        return Err(Error::Exists {
            ifname: ifname.to_owned(),
            netns: pod.label().to_owned(),
        });
    }
    let passthru = *spec.mode == Mode::Passthru;
    let mac = if passthru {
        passthru_mac(spec.master, spec.mac)?
    } else {
        spec.mac
    };
    let request = MacvlanSpec {
        name: "",
        parent: spec.master.index,
        mode: spec.mode.kernel(),
        source_macs: spec.mode.source_macs().to_vec(),
        mtu: spec.mtu,
        mac,
        bc_queue_len: spec.bc_queue_len,
        netns: Some(&pod.netns),
    };
    creator
        .macvlan_add_renamed(&request, &pod.netns, &pod.handle, ifname)
        .map_err(|e| master::explain_create_error(spec.master, passthru, e))
}

/// A passthru macvlan always wears its master's MAC (the kernel overwrites any other with
/// `eth_hw_addr_inherit`). The reference silently returns a different MAC than asked for; we
/// refuse a request that cannot be honoured, and accept one that asks for the master's own.
fn passthru_mac(master: &Link, requested: Option<MacAddr>) -> Result<Option<MacAddr>> {
    match (requested, master.mac) {
        (None, _) => Ok(None),
        (Some(want), Some(have)) if want == have => Ok(None),
        (Some(want), have) => Err(Error::Config(format!(
            "mac {want} cannot be set in mode \"passthru\": a passthru macvlan always has its \
             master's MAC ({})",
            have.map_or_else(|| "unknown".to_owned(), |m| m.to_string())
        ))),
    }
}
