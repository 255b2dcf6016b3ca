//! DEL: release IPAM first, then the attachment's host-shim routes, then the pod's link; each
//! step runs even if an earlier one failed, and the first error is reported.
//!
//! DEL succeeds when the master, the link or the namespace is already gone: it never looks the
//! master up (plugins #953: a vanished VLAN master made DEL fail with "Link not found"), finds
//! the shim routes by the attachment's tag rather than by the pod's addresses, and treats a
//! missing namespace or link as deleted. The plugin's own keys are not even parsed: a config
//! edited since ADD must not keep a pod's address allocated.

use cni_attach::{FirstError, NsConn, delete_pod_link};
use cni_spec::{Request, ipam_del};

use crate::error::{Error, Result};
use crate::shim::{self, Shim};

pub(crate) fn del(req: &Request) -> Result<()> {
    let mut errors: FirstError<Error> = FirstError::new();
    if req.conf.ipam_type().is_some() {
        errors.keep(ipam_del(req));
    }
    let ifname = req.require_ifname()?.as_str();
    let container_id = req.require_container_id()?.as_str();
    errors.keep(detach_shim(shim::tag(container_id, ifname)));
    if let Some(netns) = req.netns.as_deref() {
        errors.keep(delete_pod_link(netns, ifname));
    }
    errors.finish()
}

fn detach_shim(tag: u32) -> Result<()> {
    let node = NsConn::current()?;
    Shim::detach_everywhere(&node.handle, tag)
}
