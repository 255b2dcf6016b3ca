//! The on-disk store, shared byte for byte with the reference plugin.
//!
//! Layout of `<dataDir>/<network>/`:
//! - `<ip>`: one reservation per address, content `<containerID>\r\n<ifname>` (see `entry`),
//!   mode 0600;
//! - `last_reserved_ip.<set index>`: the round-robin cursor of each range set;
//! - `lock`: `flock(LOCK_EX)` on it is held around every reservation and release, by us and by
//!   the reference alike, which is what lets both plugins share one store;
//! - `.host-local.tmp.*`: our temporary files; they exist only while a writer holds the lock,
//!   so any found by a lock holder were left by a killed process and are removed.
//!
//! Beside it, `<dataDir>/.host-local-index/<network>@<boot id>/` holds our owner index: a hard
//! link per reservation we made in this boot, named for its owner, so that an ADD need not read
//! every file to find the attachment's own (see `index`, and `scan` for how it is used).
//!
//! Crash safety against a killed process (SIGKILL, OOM kill, at any instant): a reservation is
//! written to a temporary file (content, boot stamp) and published with `link(2)` under its
//! address name. `link` fails with EEXIST exactly like the reference's `O_EXCL` create, but the
//! name only ever appears with complete content and stamp, so a killed writer leaves no
//! reservation or a complete one. What it wrote is in the kernel's page cache, which outlives
//! the process. The cursor files are replaced by `rename(2)`.
//!
//! Nothing is fsynced, on purpose. A machine crash (power loss, kernel panic) always ends in a
//! new boot, no pod outlives a boot, and every reservation of an earlier boot is reclaimed by
//! the boot rule (`boot`): durability across a machine crash would only preserve what is then
//! reclaimed. (The fsync was most of an ADD's own work, about half a millisecond.) What must
//! hold instead is that whatever a journaling filesystem shows of an unsynced publish after
//! the crash is reclaimed and breaks nothing:
//! - no name, or our temporary name: nothing to do, or a leftover that repair removes;
//! - the name with its data not written back: empty (ext4, xfs and btrfs extend the size on
//!   disk only once the data is written), NUL-filled, or stale bytes (ext4 `data=writeback`):
//!   reclaimed, as [`entry::Holder::Corrupt`] whatever its stamp, as anything else by its stamp;
//! - the name with complete content: reclaimed by its stamp.
//!
//! The journal replays metadata in order and the stamp is set before the link, so the name is
//! not seen without its stamp; and even then empty or NUL content is reclaimed. A complete
//! reservation without a stamp (the reference's, or a filesystem without user xattrs) is kept
//! after a reboot, fsynced or not: only GC can tell it is dead. A file's mtime against the
//! boot time (`btime` in /proc/stat) is no substitute for the stamp: a clock stepped forward
//! after boot (no RTC, NTP's first sync) dates live reservations before the boot.
//!
//! Repair, run by every lock holder that scans (ADD, DEL, GC) before it decides anything:
//! remove leftover temporary files, reservations that are empty or garbled (the reference's
//! create-then-write can leave those when killed), reservations stamped with another boot
//! (see `boot`) and index entries that vouch for nothing (the index of earlier boots goes
//! when this boot's is first made).
//! Reservations without a stamp and of the current boot are never touched here.
//!
//! Safety: the network directory is created 0700 and opened with `O_NOFOLLOW`; every file is
//! reached relative to that directory descriptor with `O_NOFOLLOW`, so a symlink planted in the
//! store is never followed (it is left alone, and its address counts as taken). The network
//! name is checked to be one path component; address names come from parsed addresses.
//!
//! Not here: which address to take (`allocator`), what the verbs do with the store.

pub mod entry;
mod fsops;
mod index;
mod scan;

use std::cell::OnceCell;
use std::net::IpAddr;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg, OFlag};
use nix::sys::stat::Mode;

use crate::addr;
use crate::boot::{self, BootId};
use crate::error::Error;
use entry::Owner;
use index::Index;
pub use scan::{Interest, Repaired, Reservation, Scan};

/// The reference's default `dataDir`.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/cni/networks";

/// Name of the lock file (the reference's).
const LOCK_NAME: &str = "lock";
/// Prefix of the round-robin cursor files (the reference's).
const LAST_RESERVED_PREFIX: &str = "last_reserved_ip.";
/// Prefix of our temporary files. It starts with a dot and is no address, so the reference
/// (which only looks at address-named files) never mistakes one for a reservation.
const TEMP_PREFIX: &str = ".host-local.tmp.";

/// A network's store directory, open and safe to use.
#[derive(Debug)]
pub struct Store {
    dir: OwnedFd,
    path: PathBuf,
    /// The data directory, where the owner index lives.
    data: OwnedFd,
    data_path: PathBuf,
    network: String,
}

impl Store {
    /// Creates (0700) and opens `<data_dir>/<network>`. The data directory may be reached
    /// through symlinks (it is the admin's config); the network directory may not.
    pub fn open(data_dir: &Path, network: &str) -> Result<Store, Error> {
        if network.is_empty()
            || network == "."
            || network == ".."
            || network.contains('/')
            || network.contains('\0')
        {
            return Err(Error::UnsafeNetworkName(network.to_owned()));
        }
        let path = data_dir.join(network);
        let parent = fsops::create_data_dir(data_dir)?;
        let dir = fsops::open_network_dir(&parent, network, &path)?;
        Ok(Store {
            dir,
            path,
            data: parent,
            data_path: data_dir.to_owned(),
            network: network.to_owned(),
        })
    }

    /// The directory's path, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the store lock (blocking) for a read-modify-write of the store.
    pub fn lock(&self) -> Result<Locked<'_>, Error> {
        let what = || format!("lock {:?}", self.path.join(LOCK_NAME));
        let fd = fsops::openat(
            &self.dir,
            LOCK_NAME,
            OFlag::O_RDONLY | OFlag::O_CREAT,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|e| Error::errno(what(), e))?;
        let guard =
            Flock::lock(fd, FlockArg::LockExclusive).map_err(|(_, e)| Error::errno(what(), e))?;
        Ok(Locked {
            store: self,
            index: OnceCell::new(),
            _guard: guard,
        })
    }
}

/// The store with its lock held; dropping it releases the lock.
#[derive(Debug)]
pub struct Locked<'a> {
    store: &'a Store,
    /// The owner index of the current boot, opened on first use (`None`: not usable).
    index: OnceCell<Option<Index>>,
    _guard: Flock<OwnedFd>,
}

impl Locked<'_> {
    /// Claims `ip` for `owner`; false if the address is already taken. The reservation appears
    /// atomically and complete (content, stamp), or not at all. With `boot` known it is also
    /// entered in the owner index, before it is published (see `index`).
    pub fn reserve(&self, ip: IpAddr, owner: &Owner, boot: Option<&BootId>) -> Result<bool, Error> {
        let name = ip.to_string();
        // No fsync: durability across a machine crash is not wanted (see the module docs).
        let temp = self.write_temp(owner.content().as_bytes(), |fd| {
            if let Some(b) = boot {
                boot::stamp(fd, b)?;
            }
            Ok(())
        })?;
        // An entry that fails to be made only costs the next scans a read of this file.
        let indexed = boot
            .and_then(|b| self.index(b))
            .is_some_and(|ix| ix.add(&self.store.dir, &temp, ip, owner.key()).is_ok());
        let linked = fsops::link(&self.store.dir, &temp, &name);
        // The temp name goes in every case; a failure here leaves a leftover that the next
        // lock holder removes, so it does not undo a successful publish.
        let _ = self.unlink(&temp);
        if linked.is_err() && indexed {
            // Not published: the entry would be an orphan (the next repair removes those too).
            self.unindex(ip, owner.key());
        }
        match linked {
            Ok(()) => Ok(true),
            Err(Errno::EEXIST) => Ok(false),
            Err(e) => Err(Error::errno(
                format!("reserve {:?}", self.store.path.join(&name)),
                e,
            )),
        }
    }

    /// Deletes a reservation found by a scan, its index entry first (see `index`); already
    /// gone is fine.
    pub fn release(&self, r: &Reservation) -> Result<(), Error> {
        if let Some(key) = r.indexed {
            self.unindex(r.ip, key);
        }
        self.unlink(&r.ip.to_string())
    }

    /// Deletes the reservation `owner` just made of `ip` (an ADD undoing itself).
    pub fn unreserve(&self, ip: IpAddr, owner: &Owner) -> Result<(), Error> {
        self.unindex(ip, owner.key());
        self.unlink(&ip.to_string())
    }

    /// The owner index of `boot`, opened (or created) on first use.
    fn index(&self, boot: &BootId) -> Option<&Index> {
        self.index
            .get_or_init(|| {
                let s = self.store;
                Index::open(&s.data, &s.data_path, &s.network, &s.dir, boot)
            })
            .as_ref()
    }

    /// Removes an index entry if the index is open. A failure leaves an orphan, which never
    /// vouches for anything and which the next repair retries.
    fn unindex(&self, ip: IpAddr, key: entry::OwnerKey) {
        if let Some(Some(ix)) = self.index.get() {
            let _ = ix.remove(ip, key);
        }
    }

    /// The round-robin cursor of range set `index`, if present and an address.
    pub fn last_reserved(&self, index: usize) -> Option<IpAddr> {
        let name = format!("{LAST_RESERVED_PREFIX}{index}");
        let bytes = fsops::read_small(&self.store.dir, &name).ok()??;
        addr::parse_ip(std::str::from_utf8(&bytes).ok()?.trim())
    }

    /// Replaces the cursor of range set `index` atomically (temp file + rename).
    pub fn set_last_reserved(&self, index: usize, ip: IpAddr) -> Result<(), Error> {
        let name = format!("{LAST_RESERVED_PREFIX}{index}");
        let temp = self.write_temp(ip.to_string().as_bytes(), |_| Ok(()))?;
        fsops::rename(&self.store.dir, &temp, &name).map_err(|e| {
            let _ = self.unlink(&temp);
            Error::errno(format!("write {:?}", self.store.path.join(&name)), e)
        })
    }

    /// Proves the store is writable by creating and deleting a temporary file (STATUS).
    pub fn probe_writable(&self) -> Result<(), Error> {
        let temp = self.write_temp(b"", |_| Ok(()))?;
        self.unlink(&temp)
    }

    /// Creates a fresh temporary file holding `content`, lets `prepare` finish it (the stamp)
    /// and returns its name.
    fn write_temp<F>(&self, content: &[u8], prepare: F) -> Result<String, Error>
    where
        F: FnOnce(std::os::fd::BorrowedFd<'_>) -> std::io::Result<()>,
    {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "{TEMP_PREFIX}{}.{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let what = || format!("write {:?}", self.store.path.join(&name));
        // A name already there was left by a killed process that had our pid: we hold the
        // lock, so it is a leftover; take the name over.
        let file = match fsops::create_exclusive(&self.store.dir, &name) {
            Err(Errno::EEXIST) => {
                self.unlink(&name)?;
                fsops::create_exclusive(&self.store.dir, &name)
            }
            other => other,
        }
        .map_err(|e| Error::errno(what(), e))?;
        let written = fsops::write_all_then(&file, content, prepare);
        if let Err(e) = written {
            drop(file);
            let _ = self.unlink(&name);
            return Err(Error::io(what(), e));
        }
        Ok(name)
    }

    /// Removes one name from the store; already gone is fine.
    fn unlink(&self, name: &str) -> Result<(), Error> {
        match fsops::unlink(&self.store.dir, name) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(Error::errno(
                format!("remove {:?}", self.store.path.join(name)),
                e,
            )),
        }
    }
}

#[cfg(test)]
mod tests;
