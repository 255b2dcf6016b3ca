//! STATUS and GC: forwarded to IPAM, as the spec requires of a plugin with a delegate (the
//! reference forwards STATUS and ignores GC, plugins #1013), plus GC of this network's
//! masquerade rules whose attachment is no longer valid.

use cni_attach::bridged;
use cni_spec::{CniError, Request, ipam_status};

use crate::config;

/// The STATUS verb: the bridge itself needs nothing to serve an ADD; IPAM may.
pub fn status(req: &Request) -> Result<(), CniError> {
    config::parse(&req.conf)?;
    match req.conf.ipam_type() {
        Some(_) => ipam_status(req),
        None => Ok(()),
    }
}

/// The GC verb: `cni_attach::bridged::gc` (IPAM, then this network's stale masquerade rules).
pub fn gc(req: &Request) -> Result<(), CniError> {
    config::parse(&req.conf)?;
    bridged::gc(req)
}
