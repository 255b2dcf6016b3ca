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
/// `cni.dev/valid-attachments` (cnitool sends none) means no attachment is valid.
pub fn gc(req: &Request) -> Result<(), CniError> {
    config::parse(&req.conf)?;
    let ipam = match req.conf.ipam_type() {
        Some(_) => ipam_gc(req),
        None => Ok(()),
    };
    // Always: rules of this network may outlive a config that has since turned ipMasq off.
    let valid = req.conf.valid_attachments.as_deref().unwrap_or_default();
    let rules = masq::gc(&req.conf.name, valid).map_err(|e| CniError::from(Error::from(e)));
    ipam.and(rules)
}
