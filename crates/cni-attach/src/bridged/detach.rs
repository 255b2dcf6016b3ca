//! DEL and GC of a pod behind a bridge port.
//!
//! DEL runs every step even if an earlier one failed and reports the first failure, so the
//! runtime retries. An empty `CNI_NETNS` or a vanished namespace skips only the in-pod step:
//! IPAM is released and the masquerade rules are removed by name, since neither needs the
//! namespace (plugins #810; the reference returns right after IPAM there and leaks the rules).
//! Removing the pod's veth removes its host peer, and so the bridge port. A DEL for an
//! attachment never added, or a repeated DEL, finds nothing and succeeds.

use cni_spec::{CniError, PendingRun, Request, ipam_del_start, ipam_gc};

use crate::masq::{self, MasqOwner};
use crate::teardown::{FirstError, delete_pod_link};

/// DEL's steps every bridged pod has: the pod's veth, the IPAM reservation, and with `ip_masq`
/// the masquerade rules. The caller adds its own steps and calls [`FirstError::finish`].
pub fn detach(req: &Request, ip_masq: bool) -> Result<FirstError<CniError>, CniError> {
    let container_id = req.require_container_id()?.as_str();
    let ifname = req.require_ifname()?.as_str();
    let mut errors = FirstError::new();
    // IPAM's DEL runs beside ours: the link's delete mostly waits on the kernel (RCU grace
    // periods as the veth unregisters), time the IPAM process can use.
    let ipam = req.conf.ipam_type().map(|_| ipam_del_start(req));
    if let Some(netns) = &req.netns {
        errors.keep(delete_pod_link(netns, ifname));
    }
    // By comment and chain name: no addresses, no namespace needed. Both backends are tried,
    // since the pod may have been added under another backend or by the Go plugin.
    let masq = ip_masq.then(|| {
        let owner = MasqOwner {
            network: &req.conf.name,
            ifname,
            container_id,
        };
        masq::teardown(&owner)
    });
    if let Some(ipam) = ipam {
        errors.keep(ipam.and_then(PendingRun::wait));
    }
    if let Some(masq) = masq {
        errors.keep(masq);
    }
    Ok(errors)
}

/// GC: forwarded to IPAM (a spec MUST; the reference bridge ignores GC, plugins #1013), then
/// the masquerade rules of this network whose attachment is no longer valid, whatever
/// `ipMasq` says now (rules may outlive a config that has since turned it off). Both steps
/// run; the first failure is reported. A request without `cni.dev/valid-attachments`
/// (cnitool sends none) removes no rules: an absent list is not an empty one (host-local reads
/// it the same way, so addresses and rules stay in step).
pub fn gc(req: &Request) -> Result<(), CniError> {
    let mut errors: FirstError<CniError> = FirstError::new();
    if req.conf.ipam_type().is_some() {
        errors.keep(ipam_gc(req));
    }
    if let Some(valid) = req.conf.valid_attachments.as_deref() {
        errors.keep(masq::gc(&req.conf.name, valid));
    }
    errors.finish()
}
