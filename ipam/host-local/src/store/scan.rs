//! Reading the whole store under the lock, and the repair every writer runs on what it read.
//!
//! A scan lists the store directory and reads each address-named file, except those the
//! owner index vouches for (see `index`): those are ours, of this boot and complete, so they
//! are read only when their owner matters to the caller ([`Interest`]).
//!
//! Not here: the files' format (`entry`), the file operations (`fsops`).

use std::collections::HashSet;
use std::net::IpAddr;

use super::entry::{Holder, Owner, OwnerKey};
use super::fsops::{self, Kind};
use super::index::Entries;
use super::{Locked, TEMP_PREFIX};
use crate::addr;
use crate::boot::BootId;
use crate::error::Error;

/// Whose reservations a scan must name exactly.
#[derive(Clone, Copy, Debug)]
pub enum Interest<'a> {
    /// Everyone's (GC): every file is read.
    Everyone,
    /// This attachment's (ADD, DEL, CHECK): an indexed reservation is read only if its key is
    /// this attachment's, so the others show as [`Holder::Indexed`].
    Owner(&'a Owner),
    /// Nobody's (STATUS): only which addresses are taken and which are stale.
    Nobody,
}

impl Interest<'_> {
    /// Which indexed reservations must be read (the owner's key computed once per scan).
    fn reads(&self) -> Reads {
        match self {
            Interest::Everyone => Reads::All,
            Interest::Owner(owner) => Reads::Key(owner.key()),
            Interest::Nobody => Reads::None,
        }
    }
}

/// [`Interest`] reduced to what the scan loop asks of it.
enum Reads {
    All,
    Key(OwnerKey),
    None,
}

impl Reads {
    fn reads(&self, key: OwnerKey) -> bool {
        match self {
            Reads::All => true,
            Reads::Key(wanted) => *wanted == key,
            Reads::None => false,
        }
    }
}

/// One address-named file found in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservation {
    /// The address (the file's name).
    pub ip: IpAddr,
    /// Whose it is.
    pub holder: Holder,
    /// Its stamp names another boot than the one the scan was given.
    pub other_boot: bool,
    /// The key of the owner-index entry that vouched for it, if one did.
    pub indexed: Option<OwnerKey>,
}

impl Reservation {
    /// True if the repair rule reclaims it: garbled content, or made in another boot.
    pub fn is_stale(&self) -> bool {
        self.holder == Holder::Corrupt || self.other_boot
    }
}

/// What a scan of the store found.
#[derive(Debug, Default)]
pub struct Scan {
    /// The address-named files.
    pub reservations: Vec<Reservation>,
    /// Our temporary files (leftovers, since the scanner holds the lock).
    temps: Vec<String>,
    /// Owner-index entries that vouch for nothing.
    pub(super) orphans: Vec<String>,
}

impl Scan {
    /// The addresses some file blocks, for constant-time lookups during a walk.
    pub fn taken(&self) -> HashSet<IpAddr> {
        self.reservations.iter().map(|r| r.ip).collect()
    }

    /// The addresses `owner` holds: its current-format and its legacy ID-only reservations
    /// (the reference's `GetByID` matches both). The scan must have been made for `owner`.
    pub fn held_by(&self, owner: &Owner) -> Vec<IpAddr> {
        self.reservations
            .iter()
            .filter(|r| owner.holds(&r.holder) || owner.holds_legacy(&r.holder))
            .map(|r| r.ip)
            .collect()
    }

    /// The reservations DEL releases for `owner`: its current-format ones, or if there are
    /// none, its legacy ID-only ones (the reference's `ReleaseByID`). The scan must have been
    /// made for `owner`.
    pub fn releasable_by(&self, owner: &Owner) -> Vec<&Reservation> {
        let current: Vec<&Reservation> = self
            .reservations
            .iter()
            .filter(|r| owner.holds(&r.holder))
            .collect();
        if !current.is_empty() {
            return current;
        }
        self.reservations
            .iter()
            .filter(|r| owner.holds_legacy(&r.holder))
            .collect()
    }
}

/// The outcome of [`Locked::repair`].
#[derive(Debug)]
pub struct Repaired {
    /// The scan without what was removed.
    pub scan: Scan,
    /// Addresses whose stale reservations were removed.
    pub reclaimed: Vec<IpAddr>,
    /// Removals that failed.
    pub errors: Vec<Error>,
}

impl Locked<'_> {
    /// Lists the store: every address-named entry with its holder, and our leftovers. `lock`,
    /// the cursors and unknown names are not listed. With `boot` (the current boot) known,
    /// stamps are judged against it and its owner index is used; without, no stamp is read.
    pub fn scan(&self, boot: Option<&BootId>, interest: Interest<'_>) -> Result<Scan, Error> {
        // A listing that fails only costs speed: everything is read.
        let mut entries = boot
            .and_then(|b| self.index(b))
            .and_then(|ix| ix.entries().ok())
            .unwrap_or_default();
        let reads = interest.reads();
        let mut scan = Scan::default();
        for listed in fsops::list(&self.store.dir, &self.store.path)? {
            if listed.name.starts_with(TEMP_PREFIX) {
                scan.temps.push(listed.name);
                continue;
            }
            let name = &listed.name;
            let Some(ip) = addr::parse_ip_name(name) else {
                continue;
            };
            let vouched = match listed.kind {
                Kind::Regular => entries.vouch(ip, listed.ino),
                Kind::Other | Kind::Unknown => None,
            };
            if let Some(key) = vouched.filter(|key| !reads.reads(*key)) {
                scan.reservations.push(Reservation {
                    ip,
                    holder: Holder::Indexed(key),
                    other_boot: false,
                    indexed: Some(key),
                });
                continue;
            }
            // A vouched file is of this boot: its stamp decides nothing.
            let judge = boot.filter(|_| vouched.is_none());
            let what = || format!("read reservation {:?}", self.store.path.join(name));
            match fsops::read_reservation(&self.store.dir, name, listed.kind, judge)
                .map_err(|e| Error::io(what(), e))?
            {
                Some((holder, other_boot)) => scan.reservations.push(Reservation {
                    ip,
                    holder,
                    other_boot,
                    indexed: vouched,
                }),
                None => continue, // removed since listed: not a reservation any more
            }
        }
        scan.orphans = Entries::into_orphans(entries);
        Ok(scan)
    }

    /// Removes what crashes and reboots left (see the module docs): temporary files, stale
    /// reservations and orphaned index entries. Never fails: an
    /// entry that cannot be removed stays in the scan (its address stays taken) and the error
    /// is reported in [`Repaired::errors`] for the verbs that report such things (GC).
    pub fn repair(&self, scan: Scan) -> Repaired {
        let mut errors = Vec::new();
        for temp in &scan.temps {
            if let Err(e) = self.unlink(temp) {
                errors.push(e);
            }
        }
        // Index leftovers vouch for nothing, so failing to remove them costs nothing either;
        // they are not reported.
        if let Some(Some(ix)) = self.index.get() {
            for orphan in &scan.orphans {
                let _ = ix.remove_name(orphan);
            }
        }
        let mut kept = Vec::with_capacity(scan.reservations.len());
        let mut reclaimed = Vec::new();
        for r in scan.reservations {
            if !r.is_stale() {
                kept.push(r);
            } else if let Err(e) = self.release(&r) {
                errors.push(e);
                kept.push(r);
            } else {
                reclaimed.push(r.ip);
            }
        }
        Repaired {
            scan: Scan {
                reservations: kept,
                ..Scan::default()
            },
            reclaimed,
            errors,
        }
    }
}
