//! The owner index: which of the store's reservations are ours, of this boot, and whose, known
//! from two directory listings instead of reading every file (issue 8: the duplicate check of
//! every ADD read all reservations, 12 ms at 1000).
//!
//! Layout: `<dataDir>/.host-local-index/<network>@<boot id>/<ip>_<owner key>`, each entry a
//! hard link to the inode of our reservation `<dataDir>/<network>/<ip>`. (Network names start
//! with a letter or digit and contain no `@`, so the names collide with no network and split
//! unambiguously.) Outside the store directory, so the store stays the reference's, byte for
//! byte, and the reference never reads or removes an entry.
//!
//! Why a listed match is proof: an entry is created only by linking our temporary file, whose
//! content (that owner) and stamp are complete, before that file is published under `<ip>`. The
//! entry keeps the inode alive, so while it exists no other file can have its inode number. So
//! if the listing of the store shows `<ip>` with the same `d_ino` as the entry, `<ip>` is that
//! file: neither we nor the reference write into an existing reservation. Anything else (the
//! reference's reservations, ours made before this index or by an older version, a name the
//! reference released and made again) does not match and is read as before. Inode numbers
//! alone would prove nothing (ext4 reuses them at once); the link is what pins them.
//!
//! Crash safety: the entry is made before the publish and removed before the release, so a
//! kill leaves at worst an entry whose reservation is gone or another file (an orphan, which
//! never matches and which the next repair removes) or a reservation without an entry (read
//! like the reference's). A new boot has a new directory; its first use removes the old one,
//! and the reservations that one indexed are judged by their stamps.
//!
//! Every index failure only costs speed: the store is then read as if there were no index.
//!
//! Not here: reading the store (`store`), what an owner is (`entry`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::entry::OwnerKey;
use super::fsops::{self, Kind};
use crate::addr;
use crate::boot::BootId;
use crate::error::Error;

/// The directory inside `dataDir` that holds every network's index.
const ROOT: &str = ".host-local-index";

/// One network's index of the current boot.
#[derive(Debug)]
pub struct Index {
    /// `<dataDir>/.host-local-index`.
    root: OwnedFd,
    /// `<network>@`: the prefix of this network's directories in `root`.
    prefix: String,
    /// `<network>@<boot id>`.
    name: String,
    /// That directory.
    dir: OwnedFd,
    /// Its path, for messages.
    path: PathBuf,
}

impl Index {
    /// Opens (creating if absent) the index of `network` for `boot`; `None` if it cannot be
    /// used: not a directory, or not on the store's filesystem, or on a filesystem whose inode
    /// numbers are not trusted (see `fsops::same_trusted_fs`).
    pub fn open(
        data: &OwnedFd,
        data_path: &Path,
        network: &str,
        store: &OwnedFd,
        boot: &BootId,
    ) -> Option<Index> {
        // cni-spec refuses such network names; were one to get here, its prefix could match
        // another network's directories.
        if network.contains('@') {
            return None;
        }
        let (root, _) = fsops::open_or_create_dir(data, ROOT).ok()?;
        let prefix = format!("{network}@");
        let name = format!("{prefix}{}", boot.as_str());
        let (dir, created) = fsops::open_or_create_dir(&root, &name).ok()?;
        if !fsops::same_trusted_fs(store, &dir) {
            return None;
        }
        let path = data_path.join(ROOT).join(&name);
        let index = Index {
            root,
            prefix,
            name,
            dir,
            path,
        };
        // The first use in a boot removes the earlier boots' directories (under the store
        // lock). One left by a kill right here stays until the next boot's first use: its
        // entries vouch for nothing, they only keep released inodes allocated.
        if created {
            let _ = index.remove_other_boots();
        }
        Some(index)
    }

    /// The entries, by address. An entry whose name is not `<ip>_<key>` is listed as an
    /// orphan straight away.
    pub fn entries(&self) -> Result<Entries, Error> {
        let listed = fsops::list(&self.dir, &self.path)?;
        let mut entries = Entries {
            by_ip: HashMap::with_capacity(listed.len()),
            orphans: Vec::new(),
        };
        for listed in listed {
            match parse_name(&listed.name) {
                Some((ip, key)) if listed.kind != Kind::Other => {
                    entries.by_ip.entry(ip).or_default().push(Entry {
                        key,
                        ino: listed.ino,
                        name: listed.name,
                    });
                }
                _ => entries.orphans.push(listed.name),
            }
        }
        Ok(entries)
    }

    /// Links `temp` (in the store directory `store`) into the index as `ip` held by `key`.
    pub fn add(&self, store: &OwnedFd, temp: &str, ip: IpAddr, key: OwnerKey) -> nix::Result<()> {
        let name = entry_name(ip, key);
        match fsops::link_into(store, temp, &self.dir, &name) {
            // Left by a killed ADD of the same attachment on the same address: the address
            // is free (the caller checked), so the entry is an orphan; replace it. (Were the
            // address taken after all, the publish fails and its reservation merely loses its
            // entry: it is then read like the reference's.)
            Err(Errno::EEXIST) => {
                fsops::unlink(&self.dir, &name)?;
                fsops::link_into(store, temp, &self.dir, &name)
            }
            other => other,
        }
    }

    /// Removes the entry of `ip` held by `key`; already gone is fine.
    pub fn remove(&self, ip: IpAddr, key: OwnerKey) -> Result<(), Error> {
        self.remove_name(&entry_name(ip, key))
    }

    /// Removes one entry by name; already gone is fine.
    pub fn remove_name(&self, name: &str) -> Result<(), Error> {
        match fsops::unlink(&self.dir, name) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(Error::errno(
                format!("remove {:?}", self.path.join(name)),
                e,
            )),
        }
    }

    /// Removes this network's index directories of other boots.
    pub fn remove_other_boots(&self) -> Result<(), Error> {
        let root_path = self.path.parent().unwrap_or(&self.path).to_owned();
        for listed in fsops::list(&self.root, &root_path)? {
            if listed.name.starts_with(&self.prefix) && listed.name != self.name {
                fsops::remove_flat_dir(&self.root, &listed.name, &root_path)?;
            }
        }
        Ok(())
    }
}

/// One listed entry.
#[derive(Debug)]
struct Entry {
    key: OwnerKey,
    ino: u64,
    name: String,
}

/// The entries of one listing, consumed as the store's listing is matched against them.
#[derive(Debug, Default)]
pub struct Entries {
    by_ip: HashMap<IpAddr, Vec<Entry>>,
    orphans: Vec<String>,
}

impl Entries {
    /// The key of the entry that vouches for reservation `ip` listed with inode `ino`, if
    /// one does; that entry is no orphan.
    pub fn vouch(&mut self, ip: IpAddr, ino: u64) -> Option<OwnerKey> {
        if ino == 0 {
            return None; // no number listed: nothing to compare
        }
        let list = self.by_ip.get_mut(&ip)?;
        let at = list.iter().position(|e| e.ino == ino)?;
        Some(list.swap_remove(at).key)
    }

    /// The names of the entries nothing vouched through.
    pub fn into_orphans(self) -> Vec<String> {
        let mut orphans = self.orphans;
        orphans.extend(self.by_ip.into_values().flatten().map(|e| e.name));
        orphans
    }
}

fn entry_name(ip: IpAddr, key: OwnerKey) -> String {
    format!("{ip}_{:016x}", key.0)
}

fn parse_name(name: &str) -> Option<(IpAddr, OwnerKey)> {
    let (ip_text, key_text) = name.rsplit_once('_')?;
    // Any spelling of the address will do: an entry vouches for the store name of the same
    // address value, and is removed by its own listed name.
    let ip = addr::parse_ip(ip_text)?;
    if key_text.len() != 16 {
        return None;
    }
    let key = u64::from_str_radix(key_text, 16).ok()?;
    Some((ip, OwnerKey(key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_round_trip() {
        let ip: IpAddr = "2001:db8::7".parse().expect("ip");
        let key = OwnerKey(0x0123_4567_89ab_cdef);
        let name = entry_name(ip, key);
        assert_eq!(name, "2001:db8::7_0123456789abcdef");
        assert_eq!(parse_name(&name), Some((ip, key)));
        for bad in [
            "10.1.2.2",
            "10.1.2.2_12",
            "10.1.2.02_0123456789abcdef",
            "x_0123456789abcdef",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }
}
