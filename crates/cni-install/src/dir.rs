//! A destination directory held under an exclusive lock for the length of one install.
//!
//! Why a lock: during a DaemonSet rolling update with `maxSurge`, or when the init container
//! and the long-running container of the same pod overlap with a restarted one, two installers
//! can write the same `/opt/cni/bin`. Holding `flock` on the directory itself serialises them
//! (the lock is on the host's inode, so it works across containers and mount namespaces) and
//! leaves no lock file behind among the plugins. Under the lock, any temp file of ours is a
//! leftover of a killed run and can be removed.
//! Not here: what is written into the directory (`publish`).

use std::fs::{self, File};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::error::{Error, Result};

/// The prefix of every temp file the installer creates, so leftovers are recognisable and no
/// runtime mistakes one for a plugin (libcni never looks up dotted names) or a config (libcni
/// skips files that do not end in `.conf`, `.conflist` or `.json`).
pub const TEMP_PREFIX: &str = ".cni-install.";
/// The suffix of every temp file.
pub const TEMP_SUFFIX: &str = ".tmp";

/// An open, exclusively locked directory. Unlocks on drop.
#[derive(Debug)]
pub struct LockedDir {
    path: PathBuf,
    lock: Flock<File>,
}

impl LockedDir {
    /// Creates the directory if needed (kubernetes #115629: a package upgrade on the node
    /// recreated `/opt/cni/bin` empty) and waits for its lock.
    pub fn open(path: &Path) -> Result<LockedDir> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(path)
            .map_err(|e| Error::io("create directory", path, e))?;
        let dir = File::open(path).map_err(|e| Error::io("open directory", path, e))?;
        let lock = Flock::lock(dir, FlockArg::LockExclusive)
            .map_err(|(_, errno)| Error::io("lock directory", path, errno.into()))?;
        Ok(LockedDir {
            path: path.to_owned(),
            lock,
        })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temp path used while publishing `name`. One per name is enough: the lock keeps
    /// other installers out, and `create_new` refuses to reuse a leftover.
    pub fn temp_path(&self, name: &str) -> PathBuf {
        self.path.join(format!("{TEMP_PREFIX}{name}{TEMP_SUFFIX}"))
    }

    /// Makes renames in the directory durable: a rename is a directory change, and without
    /// this a power cut could bring back the old name after the installer reported success.
    pub fn sync(&self) -> Result<()> {
        self.lock
            .sync_all()
            .map_err(|e| Error::io("fsync directory", &self.path, e))
    }

    /// Removes temp files that a killed installer left; returns their paths.
    pub fn sweep_leftovers(&self) -> Result<Vec<PathBuf>> {
        let entries =
            fs::read_dir(&self.path).map_err(|e| Error::io("list directory", &self.path, e))?;
        let mut removed = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list directory", &self.path, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX) {
                let path = entry.path();
                fs::remove_file(&path).map_err(|e| Error::io("remove leftover", &path, e))?;
                removed.push(path);
            }
        }
        if !removed.is_empty() {
            self.sync()?;
        }
        removed.sort();
        Ok(removed)
    }
}
