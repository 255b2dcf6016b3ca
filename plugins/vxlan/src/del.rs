//! DEL: release everything this attachment holds, whatever state it is in, and the network's
//! VTEP and bridge when it was the last pod of the network on the node.
//!
//! Every step runs even if an earlier one failed, and the first failure is reported at the end
//! (so the runtime retries). An empty `CNI_NETNS` or a vanished namespace skips only the in-pod
//! step: the pod's veth died with its namespace, or is not ours to find. Nothing here needs the
//! underlay, so a node that lost it can still clean up. A DEL for an attachment never added,
//! or a repeated DEL, finds nothing and succeeds.

use std::path::Path;

use cni_attach::NsConn;
use cni_attach::masq::{self, MasqOwner};
use cni_spec::{CniError, Request, ipam_del};

use crate::config;
use crate::error::{Error, Result};
use crate::network::NodeNetwork;

/// The DEL verb.
pub fn del(req: &Request) -> Result<(), CniError> {
    let conf = config::parse(&req.conf)?;
    let container_id = req.require_container_id()?.as_str();
    let ifname = req.require_ifname()?.as_str();
    let mut errors: Vec<CniError> = Vec::new();

    if let Some(netns) = &req.netns {
        if let Err(e) = delete_pod_link(netns, ifname) {
            errors.push(e.into());
        }
    }
    if req.conf.ipam_type().is_some() {
        if let Err(e) = ipam_del(req) {
            errors.push(e);
        }
    }
    // By comment and chain name: no addresses, no namespace needed. Both backends are tried.
    if conf.ip_masq.is_some() {
        let owner = MasqOwner {
            network: &req.conf.name,
            ifname,
            container_id,
        };
        if let Err(e) = masq::teardown(&owner) {
            errors.push(Error::from(e).into());
        }
    }
    // After the pod's port is gone, so it is not counted.
    let release = NsConn::current()
        .map_err(Error::from)
        .and_then(|node| NodeNetwork::lock(&node, &conf)?.release_if_unused());
    if let Err(e) = release {
        errors.push(e.into());
    }
    match errors.into_iter().next() {
        Some(first) => Err(first),
        None => Ok(()),
    }
}

/// Deletes `ifname` in the pod; a missing namespace or link is already done.
fn delete_pod_link(netns: &Path, ifname: &str) -> Result<()> {
    let pod = match NsConn::open(netns) {
        Ok(pod) => pod,
        Err(e) if e.is_gone() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let link = match pod.handle.link_get(ifname) {
        Ok(Some(link)) => link,
        Ok(None) => return Ok(()),
        Err(source) => {
            let context = format!("look up {ifname:?} in {}", pod.label());
            return Err(cni_attach::Error::Netlink { context, source }.into());
        }
    };
    match pod.handle.link_del(link.index) {
        Err(e) if !e.is_not_found() => {
            let context = format!("failed to delete {ifname:?} in {}", pod.label());
            Err(cni_attach::Error::Netlink { context, source: e }.into())
        }
        _ => Ok(()),
    }
}
