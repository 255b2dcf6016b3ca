//! DEL: release every address of (containerID, ifname).
//!
//! As the reference: all current-format reservations of the attachment anywhere in the
//! network's store (not only in today's ranges), else its legacy ID-only ones; an unknown
//! attachment succeeds; no netns is needed. Every removal is tried; failures are joined
//! with `;`.
//!
//! Deliberately more lenient than the reference: only the store location is read from the
//! config (no range validation, no `CNI_ARGS` check), so a config whose ranges were edited
//! into something invalid can still release what it reserved. DEL also runs the store repair
//! (crash leftovers, other boots), like every lock holder that scans.

use cni_spec::Request;

use crate::boot::BootId;
use crate::config;
use crate::error::Error;
use crate::store::entry::Owner;
use crate::store::{Interest, Store};

/// Runs DEL.
pub fn del(req: &Request) -> Result<(), Error> {
    let owner = Owner::new(
        req.require_container_id()?.as_str(),
        req.require_ifname()?.as_str(),
    );
    let location = config::load_location(&req.conf)?;
    let store = Store::open(&location.data_dir, &location.network)?;
    let boot = BootId::current();
    let locked = store.lock()?;
    let repaired = locked.repair(locked.scan(boot.as_ref(), Interest::Owner(&owner))?);
    let errors: Vec<Error> = repaired
        .scan
        .releasable_by(&owner)
        .into_iter()
        .filter_map(|r| locked.release(r).err())
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Many(errors))
    }
}
