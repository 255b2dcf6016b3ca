//! CHECK: the attachment's reservation exists and matches prevResult.
//!
//! The reference only checks that some file names (containerID, ifname) (or the legacy ID).
//! We also check that every prevResult address lying in one of our range sets is reserved by
//! this attachment; addresses outside our ranges belong to other plugins and are not ours to
//! judge. CHECK changes nothing in the store.

use cni_spec::Request;

use crate::boot::BootId;
use crate::config::IpamConfig;
use crate::error::Error;
use crate::store::entry::Owner;
use crate::store::{Interest, Store};

/// Runs CHECK.
pub fn check(req: &Request) -> Result<(), Error> {
    let owner = Owner::new(
        req.require_container_id()?.as_str(),
        req.require_ifname()?.as_str(),
    );
    let conf = IpamConfig::load(&req.conf, &req.args)?;
    let store = Store::open(&conf.store.data_dir, &conf.store.network)?;
    let boot = BootId::current();
    let held = store
        .lock()?
        .scan(boot.as_ref(), Interest::Owner(&owner))?
        .held_by(&owner);
    if held.is_empty() {
        return Err(Error::NotFound(owner.id().to_owned()));
    }
    let prev_ips = req.conf.prev_result.iter().flat_map(|r| &r.ips);
    for ip in prev_ips.map(|c| c.address.ip()) {
        if conf.sets.iter().any(|s| s.contains(ip)) && !held.contains(&ip) {
            return Err(Error::NotReserved {
                ip,
                id: owner.id().to_owned(),
                ifname: owner.ifname().to_owned(),
            });
        }
    }
    Ok(())
}
