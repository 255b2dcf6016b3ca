//! IPAM by delegation, as every plugin's ADD uses it: ask the config's IPAM plugin for
//! addresses when there is one (without, the attachment is L2 only), and refuse an IPAM answer
//! that has no address (the reference's message). The reservation is a guard: dropped before
//! [`IpamReservation::commit`], it runs IPAM DEL, so a failed ADD takes no address with it.
//!
//! IPAM runs beside the plugin's own work: [`start`] launches it, the plugin creates its links
//! (which need no address), and [`PendingIpam::wait`] collects the addresses when the pod side
//! needs them. An ADD is two process starts and two sets of kernel work; run one after the
//! other they add up, run together they overlap on a second core. The reference runs IPAM
//! first, so an ADD that fails in both reports IPAM's error, as the reference would.
//!
//! Not here: running the IPAM plugin (`cni_spec::ipam_add_start`).

use cni_spec::{CniError, CniResult, IpamReservation, PendingReservation, Request, ipam_add_start};

use crate::error::Error;

/// IPAM ADD started when the config has IPAM (`None` inside: L2 only).
#[derive(Debug)]
#[must_use = "dropping a pending IPAM ADD waits for it and releases what it reserved"]
pub struct PendingIpam(Option<PendingReservation>);

/// Starts IPAM ADD when the config has IPAM. A missing IPAM plugin fails here, before the
/// plugin touches the kernel.
pub fn start(req: &Request) -> Result<PendingIpam, CniError> {
    if req.conf.ipam_type().is_none() {
        return Ok(PendingIpam(None));
    }
    Ok(PendingIpam(Some(ipam_add_start(req)?)))
}

impl PendingIpam {
    /// Waits for IPAM: its reservation, `None` without IPAM. IPAM's error comes back unchanged;
    /// an answer without addresses is refused (and released).
    pub fn wait(self) -> Result<Option<IpamReservation>, CniError> {
        let Some(pending) = self.0 else {
            return Ok(None);
        };
        let reservation = pending.wait()?;
        if reservation.result().ips.is_empty() {
            return Err(Error::NoIpamAddresses.into());
        }
        Ok(Some(reservation))
    }
}

/// A copy of IPAM's result to build the plugin's on: empty without IPAM.
pub fn result_of(reservation: Option<&IpamReservation>) -> CniResult {
    reservation
        .map(IpamReservation::result)
        .cloned()
        .unwrap_or_default()
}
