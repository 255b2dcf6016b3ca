//! STATUS and GC: forwarded to IPAM, as the spec requires of a plugin with a delegate (the
//! reference forwards STATUS and ignores GC, plugins #1013), plus GC of this network's
//! masquerade rules whose attachment is no longer valid.

use cni_attach::masq;
use cni_spec::{CniError, Request, ipam_gc, ipam_status};

use crate::config;
use crate::error::Error;

/// The STATUS verb: the bridge itself needs nothing to serve an ADD; IPAM may.
pub fn status(req: &Request) -> Result<(), CniError> {
    config::parse(&req.conf)?;
    match req.conf.ipam_type() {
        Some(_) => ipam_status(req),
        None => Ok(()),
    }
}

/// The GC verb. Both steps run; the first failure is reported. A request without
/// `cni.dev/valid-attachments` (cnitool sends none) removes no rules: an absent list is not
/// an empty one (host-local reads it the same way, so addresses and rules stay in step).
pub fn gc(req: &Request) -> Result<(), CniError> {
    config::parse(&req.conf)?;
    let ipam = match req.conf.ipam_type() {
        Some(_) => ipam_gc(req),
        None => Ok(()),
    };
    // Whatever ipMasq says now: rules of this network may outlive a config that has since
    // turned it off.
    let rules = match req.conf.valid_attachments.as_deref() {
        Some(valid) => masq::gc(&req.conf.name, valid).map_err(|e| CniError::from(Error::from(e))),
        None => Ok(()),
    };
    ipam.and(rules)
}
