//! GC: release reservations of attachments the runtime no longer knows. (Not in the reference;
//! plugins #1047, PR #1289.)
//!
//! The valid set is `cni.dev/valid-attachments`, else the older `cni.dev/attachments`
//! (cni #1101; libcni sends both). With neither key, as `cnitool gc` sends, no reservation is
//! released for being unlisted: an absent list is not an empty one. A current-format
//! reservation is kept if its (containerID, ifname) is listed; a legacy ID-only one if its
//! container is. `lock`, `last_reserved_ip.*` and foreign entries are never touched.
//!
//! GC also runs the store repair (crash leftovers, reservations of earlier boots) whatever
//! the keys say: those reservations are dead by construction, and the issue asks GC to
//! reclaim them. Every removal is tried; failures are reported together.

use std::collections::HashSet;

use cni_spec::Request;

use crate::boot::BootId;
use crate::config;
use crate::error::Error;
use crate::store::entry::{Holder, Owner};
use crate::store::{Interest, Store};

/// Runs GC.
pub fn gc(req: &Request) -> Result<(), Error> {
    let location = config::load_location(&req.conf)?;
    let store = Store::open(&location.data_dir, &location.network)?;
    let boot = BootId::current();
    let locked = store.lock()?;
    let repaired = locked.repair(locked.scan(boot.as_ref(), Interest::Everyone)?);
    let mut errors = repaired.errors;
    if let Some(valid) = &req.conf.valid_attachments {
        let owners: Vec<Owner> = valid
            .iter()
            .map(|a| Owner::new(&a.container_id, &a.ifname))
            .collect();
        let keys: HashSet<String> = owners
            .iter()
            .map(|o| o.content().trim().to_owned())
            .collect();
        let ids: HashSet<&str> = owners.iter().map(Owner::id).collect();
        for r in &repaired.scan.reservations {
            let Holder::Text(text) = &r.holder else {
                continue;
            };
            if keys.contains(text) || ids.contains(text.as_str()) {
                continue;
            }
            if let Err(e) = locked.release(r) {
                errors.push(e);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Many(errors))
    }
}
