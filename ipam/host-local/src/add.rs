//! ADD: one address from each range set, reserved in the store, returned as the result.
//!
//! Order: config (all validation, requested addresses split among the sets), resolvConf,
//! then under the store lock: scan + repair (crash leftovers, other boots), allocate set by
//! set, move the cursors. The lock is held for the whole ADD rather than per set as the
//! reference does, so a failed ADD can undo exactly what it reserved before anyone else looks.
//!
//! Differences from the reference, both only in what a failed ADD leaves behind:
//! - requested addresses that no set takes fail the ADD before anything is reserved (the
//!   reference reserves first, then fails and releases, with the same message);
//! - a failed ADD releases only what it reserved (the reference releases every address of the
//!   container/interface, including those of an earlier ADD), and cursors move only on success.

use std::net::IpAddr;

use cni_spec::{CniResult, Dns, IpConfig, Request};
use ipnetwork::IpNetwork;

use crate::allocator::{self, Allocation, Ask};
use crate::boot::BootId;
use crate::config::IpamConfig;
use crate::error::Error;
use crate::resolv;
use crate::store::entry::Owner;
use crate::store::{Interest, Locked, Store};

/// Runs ADD.
pub fn add(req: &Request) -> Result<CniResult, Error> {
    let owner = Owner::new(
        req.require_container_id()?.as_str(),
        req.require_ifname()?.as_str(),
    );
    let conf = IpamConfig::load(&req.conf, &req.args)?;
    let dns = match &conf.resolv_conf {
        Some(path) => resolv::load(path)?,
        None => Dns::default(),
    };
    let (requested, leftover) = allocator::assign_requests(&conf.sets, &conf.requested);
    if !leftover.is_empty() {
        return Err(Error::RequestedLeftover(leftover));
    }

    let store = Store::open(&conf.store.data_dir, &conf.store.network)?;
    let boot = BootId::current();
    let locked = store.lock()?;
    let scan = locked
        .repair(locked.scan(boot.as_ref(), Interest::Owner(&owner))?)
        .scan;
    let held = scan.held_by(&owner);
    let taken = scan.taken();
    let mut pending = Pending::new(&locked, &owner);
    for (index, set) in conf.sets.iter().enumerate() {
        let ask = Ask {
            requested: requested[index],
            held: &held,
            id: owner.id(),
            last_reserved: locked.last_reserved(index),
        };
        // The scan is exact while we hold the lock, so known names are skipped without a
        // syscall; `reserve` still reports EEXIST for anything created behind our back.
        let got = allocator::allocate(set, &ask, |ip| {
            Ok(!taken.contains(&ip) && locked.reserve(ip, &owner, boot.as_ref())?)
        })
        .map_err(|e| Error::AllocateFailed {
            index,
            source: Box::new(e),
        })?;
        pending.push(index, got);
    }
    let made = pending.commit();
    for (index, got) in &made {
        // The cursor only steers round-robin; failing to move it must not fail an ADD whose
        // reservations are already durable.
        let _ = locked.set_last_reserved(*index, got.ip);
    }
    drop(locked);
    Ok(result(&conf, &made, dns))
}

/// The result: addresses (no interface index: IPAM results have none), routes, dns.
fn result(conf: &IpamConfig, made: &[(usize, Allocation)], dns: Dns) -> CniResult {
    let ips = made
        .iter()
        .filter_map(|(_, a)| {
            let address = IpNetwork::new(a.ip, a.prefix).ok()?;
            Some(IpConfig {
                address,
                gateway: Some(a.gateway),
                interface: None,
            })
        })
        .collect();
    CniResult {
        interfaces: Vec::new(),
        ips,
        routes: conf.routes.clone(),
        dns,
    }
}

/// Reservations made by this ADD and not yet committed: released on drop, so an error or a
/// panic between two sets leaves nothing behind.
struct Pending<'l, 's> {
    locked: &'l Locked<'s>,
    owner: &'l Owner,
    made: Vec<(usize, Allocation)>,
}

impl<'l, 's> Pending<'l, 's> {
    fn new(locked: &'l Locked<'s>, owner: &'l Owner) -> Self {
        Pending {
            locked,
            owner,
            made: Vec::new(),
        }
    }

    fn push(&mut self, index: usize, got: Allocation) {
        self.made.push((index, got));
    }

    fn commit(mut self) -> Vec<(usize, Allocation)> {
        std::mem::take(&mut self.made)
    }
}

impl Drop for Pending<'_, '_> {
    fn drop(&mut self) {
        let ips: Vec<IpAddr> = self.made.iter().map(|(_, a)| a.ip).collect();
        for ip in ips {
            let _ = self.locked.unreserve(ip, self.owner);
        }
    }
}
