//! DEL: release everything this attachment holds, whatever state it is in.
//!
//! The steps every bridged pod has (the pod's veth, IPAM, masquerade rules) are
//! `cni_attach::bridged::detach`, which also keeps going past failures and skips only the
//! in-pod step when `CNI_NETNS` is empty or gone. This plugin adds the spoof-check rules, also
//! found by name. A DEL for an attachment never added, or a repeated DEL, finds nothing and
//! succeeds.

use cni_attach::bridged;
use cni_spec::{CniError, Request};

use crate::config;
use crate::spoofchk::SpoofCheck;

/// The DEL verb.
pub fn del(req: &Request) -> Result<(), CniError> {
    let conf = config::parse(&req.conf)?;
    let mut errors = bridged::detach(req, conf.bridged.ip_masq.is_some())?;
    if conf.macspoofchk {
        let container_id = req.require_container_id()?.as_str();
        let ifname = req.require_ifname()?.as_str();
        errors.keep(SpoofCheck::new(container_id, ifname).teardown());
    }
    errors.finish()
}
