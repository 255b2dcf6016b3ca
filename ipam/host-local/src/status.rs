//! STATUS: could an ADD succeed now? (Not in the reference, which silently succeeds.)
//!
//! Code 50 when the store cannot be written (probed by creating and removing a temporary file
//! under the lock, which also catches read-only mounts and full disks) or when a range set has
//! no free address. Reservations the next ADD would reclaim (garbled, other boot) count as
//! free. A config whose only ranges come from `runtimeConfig.ipRanges` (absent on STATUS,
//! where libcni sends no runtimeConfig) gets the store check only. STATUS changes nothing.

use std::collections::HashSet;
use std::net::IpAddr;

use cni_spec::Request;

use crate::boot::BootId;
use crate::config::{self, IpamConfig};
use crate::error::Error;
use crate::range_set::RangeSet;
use crate::store::{Interest, Scan, Store};

/// Runs STATUS.
pub fn status(req: &Request) -> Result<(), Error> {
    let (location, sets) = match IpamConfig::load(&req.conf, &req.args) {
        Ok(conf) => (conf.store, conf.sets),
        Err(Error::NoRanges) => (config::load_location(&req.conf)?, Vec::new()),
        Err(e) => return Err(e),
    };
    let dir = location.data_dir.join(&location.network);
    let not_writable = |source: Error| Error::StoreNotWritable {
        dir: dir.clone(),
        source: Box::new(source),
    };
    let store = Store::open(&location.data_dir, &location.network).map_err(not_writable)?;
    let locked = store.lock().map_err(not_writable)?;
    locked.probe_writable().map_err(not_writable)?;
    let live = live_addresses(&locked.scan(BootId::current().as_ref(), Interest::Nobody)?);
    for (index, set) in sets.iter().enumerate() {
        if !has_free(set, &live) {
            return Err(Error::NoFreeAddress {
                index,
                set: set.to_string(),
            });
        }
    }
    Ok(())
}

/// Addresses that stay taken after the next ADD's repair.
fn live_addresses(scan: &Scan) -> HashSet<IpAddr> {
    scan.reservations
        .iter()
        .filter(|r| !r.is_stale())
        .map(|r| r.ip)
        .collect()
}

/// True if some range of the set has more handable addresses than live reservations in it.
fn has_free(set: &RangeSet, live: &HashSet<IpAddr>) -> bool {
    set.ranges().iter().any(|range| {
        let used = live
            .iter()
            .filter(|ip| range.contains(**ip) && **ip != range.gateway())
            .count();
        range.capacity() > used as u128
    })
}
