//! host-local: the IPAM plugin that hands out addresses from configured ranges and records
//! them in files on the node, a drop-in for the reference plugin
//! (containernetworking/plugins `plugins/ipam/host-local`).
//!
//! Drop-in means: the same config keys with the same defaults and validation messages, the
//! same allocation order (round-robin per range set), and the same on-disk store, byte for
//! byte and under the same lock, so the reference and this plugin can release each other's
//! reservations and share one round-robin cursor during a migration.
//!
//! Beyond the reference (issue 3):
//! - crash safety: reservations are published atomically (temp file + `link`), and every lock
//!   holder repairs what a killed writer left (see [`store`]);
//! - reboot leaks: reservations are stamped with the kernel boot id and those of earlier boots
//!   are reclaimed by the next ADD, DEL or GC, never those of the current boot (see [`boot`]);
//! - STATUS (code 50 when the store is not writable or a set is full) and GC (by
//!   `cni.dev/valid-attachments`);
//! - the network directory is created 0700 and symlinks in the store are never followed;
//! - speed with many pods (issue 8): an owner index of hard links tells which reservations are
//!   ours and whose without reading them, so an ADD reads only the reference's files.
//!
//! | Module | For |
//! |---|---|
//! | [`addr`] | address arithmetic and Go-compatible parsing |
//! | [`range`], [`range_set`] | range rules and defaults |
//! | [`config`] | every config key, merged and validated |
//! | [`allocator`] | the round-robin walk and requested-address rules (pure) |
//! | [`store`] | the files, the lock, atomic publish, repair, the owner index |
//! | [`boot`] | boot stamps |
//! | [`resolv`] | `resolvConf` parsing |
//! | `add`, `del`, `check`, `status`, `gc` | the verbs |
//!
//! Not here: the CNI protocol itself (cni-spec), anything touching interfaces.

pub mod addr;
pub mod allocator;
pub mod boot;
pub mod config;
pub mod error;
pub mod range;
pub mod range_set;
pub mod resolv;
pub mod store;

mod add;
mod check;
mod del;
mod gc;
mod status;

#[cfg(test)]
mod testutil;

use cni_spec::{CniError, CniResult, Plugin, Request};

pub use error::Error;

/// The plugin, for `cni_spec::run`.
#[derive(Debug, Default, Clone, Copy)]
pub struct HostLocal;

impl Plugin for HostLocal {
    const NAME: &'static str = "host-local";

    fn add(&self, req: &Request) -> Result<CniResult, CniError> {
        add::add(req).map_err(CniError::from)
    }

    fn del(&self, req: &Request) -> Result<(), CniError> {
        del::del(req).map_err(CniError::from)
    }

    fn check(&self, req: &Request) -> Result<(), CniError> {
        check::check(req).map_err(CniError::from)
    }

    fn status(&self, req: &Request) -> Result<(), CniError> {
        status::status(req).map_err(CniError::from)
    }

    fn gc(&self, req: &Request) -> Result<(), CniError> {
        gc::gc(req).map_err(CniError::from)
    }
}
