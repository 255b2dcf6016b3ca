//! IPAM by delegation, as every plugin's ADD uses it: ask the config's IPAM plugin for
//! addresses when there is one (without, the attachment is L2 only), and refuse an IPAM answer
//! that has no address (the reference's message). The reservation is a guard: dropped before
//! [`IpamReservation::commit`], it runs IPAM DEL, so a failed ADD takes no address with it.
//!
//! Not here: running the IPAM plugin (`cni_spec::ipam_add`).

use cni_spec::{CniError, CniResult, IpamReservation, Request, ipam_add};

use crate::error::Error;

/// IPAM ADD when the config has IPAM; `None` without.
pub fn reserve(req: &Request) -> Result<Option<IpamReservation>, CniError> {
    if req.conf.ipam_type().is_none() {
        return Ok(None);
    }
    let reservation = ipam_add(req)?;
    if reservation.result().ips.is_empty() {
        return Err(Error::NoIpamAddresses.into());
    }
    Ok(Some(reservation))
}

/// A copy of IPAM's result to build the plugin's on: empty without IPAM.
pub fn result_of(reservation: Option<&IpamReservation>) -> CniResult {
    reservation
        .map(IpamReservation::result)
        .cloned()
        .unwrap_or_default()
}
