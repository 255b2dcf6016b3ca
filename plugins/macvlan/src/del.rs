//! DEL: IPAM's release (started first and running beside the rest), the attachment's
//! host-shim routes, the pod's link; each step runs even if an earlier one failed, and the
//! first error in that order is reported.
//!
//! DEL succeeds when the master, the link or the namespace is already gone: it never looks the
//! master up (plugins #953: a vanished VLAN master made DEL fail with "Link not found"), finds
//! the shim routes by the attachment's tag rather than by the pod's addresses, and treats a
//! missing namespace or link as deleted. The plugin's own keys are not even parsed: a config
//! edited since ADD must not keep a pod's address allocated.

use cni_attach::{FirstError, NsConn, delete_pod_link};
use cni_spec::{PendingRun, Request, ipam_del_start};

use crate::error::{Error, Result};
use crate::shim::{self, Shim};

pub(crate) fn del(req: &Request) -> Result<()> {
    let mut errors: FirstError<Error> = FirstError::new();
    let ifname = req.require_ifname()?.as_str();
    let container_id = req.require_container_id()?.as_str();
    // IPAM's DEL runs beside ours (the link's delete mostly waits on the kernel); its outcome
    // is still reported first.
    let ipam = req.conf.ipam_type().map(|_| ipam_del_start(req));
    let shim = detach_shim(shim::tag(container_id, ifname));
    let link = req
        .netns
        .as_deref()
        .map(|netns| delete_pod_link(netns, ifname));
    if let Some(ipam) = ipam {
        errors.keep(ipam.and_then(PendingRun::wait));
    }
    errors.keep(shim);
    if let Some(link) = link {
        errors.keep(link);
    }
    errors.finish()
}

fn detach_shim(tag: u32) -> Result<()> {
    let node = NsConn::current()?;
    Shim::detach_everywhere(&node.handle, tag)
}
