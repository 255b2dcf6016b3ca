//! DEL: release IPAM first, then the attachment's host-shim routes, then the pod's link; each
//! step runs even if an earlier one failed, and the first error is reported.
//!
//! DEL succeeds when the master, the link or the namespace is already gone: it never looks the
//! master up (plugins #953: a vanished VLAN master made DEL fail with "Link not found"), finds
//! the shim routes by the attachment's tag rather than by the pod's addresses, and treats a
//! missing namespace or link as deleted. The plugin's own keys are not even parsed: a config
//! edited since ADD must not keep a pod's address allocated.

use cni_attach::NsConn;
use cni_spec::{Request, ipam_del};

use crate::error::{Error, Result};
use crate::shim::{self, Shim};

pub(crate) fn del(req: &Request) -> Result<()> {
    let mut first_error: Option<Error> = None;
    let mut keep = |outcome: Result<()>| {
        if let Err(e) = outcome {
            first_error.get_or_insert(e);
        }
    };
    if req.conf.ipam_type().is_some() {
        keep(ipam_del(req).map_err(Error::from));
    }
    let ifname = req.require_ifname()?.as_str();
    let container_id = req.require_container_id()?.as_str();
    keep(detach_shim(shim::tag(container_id, ifname)));
    if let Some(netns) = req.netns.as_deref() {
        keep(delete_pod_link(netns, ifname));
    }
    first_error.map_or(Ok(()), Err)
}

fn detach_shim(tag: u32) -> Result<()> {
    let node = NsConn::current()?;
    Shim::detach_everywhere(&node.handle, tag)
}

fn delete_pod_link(netns: &std::path::Path, ifname: &str) -> Result<()> {
    let pod = match NsConn::open(netns) {
        Ok(pod) => pod,
        Err(e) if e.is_gone() => return Ok(()),
        Err(e) => return Err(cni_attach::Error::from(e).into()),
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
        Err(source) if !source.is_not_found() => {
            let context = format!("failed to delete {ifname:?} in {}", pod.label());
            Err(cni_attach::Error::Netlink { context, source }.into())
        }
        _ => Ok(()),
    }
}
