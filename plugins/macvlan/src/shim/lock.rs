//! The lock that serialises every change to one host shim: an exclusive `flock` on a file under
//! `/run/cni/macvlan`, named after the shim and the node's namespace.
//!
//! The last pod's DEL removes the shim and unlinks the lock file while still holding the lock,
//! so /run does not collect files. A process that opened the file just before the unlink then
//! holds a lock on an orphan inode; it notices (the path no longer names its inode) and starts
//! over on the path's current file, so two processes never both believe they hold the lock.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::error::{Error, Result};

/// Where shim lock files live. /run is a tmpfs: a reboot, which also removes every shim,
/// removes the locks with them.
pub const LOCK_DIR: &str = "/run/cni/macvlan";

/// Environment variable that moves [`LOCK_DIR`] (tests give each sandbox its own; a host
/// whose /run is not a tmpfs may point it at one).
pub const LOCK_DIR_ENV: &str = "CNI_MACVLAN_LOCK_DIR";

/// The lock directory in effect.
pub fn lock_dir() -> PathBuf {
    std::env::var_os(LOCK_DIR_ENV)
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from(LOCK_DIR), PathBuf::from)
}

/// A held lock on one shim; released on drop.
#[derive(Debug)]
pub struct ShimLock {
    path: PathBuf,
    _lock: Flock<File>,
}

impl ShimLock {
    /// Blocks until this process holds the lock at `path`.
    pub fn acquire(path: PathBuf) -> Result<ShimLock> {
        if let Some(dir) = path.parent() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|source| lock_error("create", dir, source))?;
        }
        loop {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .mode(0o600)
                .open(&path)
                .map_err(|source| lock_error("open", &path, source))?;
            let lock = flock(file, &path)?;
            if still_named_by(&lock, &path)? {
                return Ok(ShimLock { path, _lock: lock });
            }
        }
    }

    /// Removes the lock file (the shim is gone); the lock itself is released on drop.
    pub fn remove_file(&self) -> Result<()> {
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(lock_error("remove", &self.path, e))
            }
            _ => Ok(()),
        }
    }
}

/// `flock(LOCK_EX)`, retried when a signal interrupts the wait.
fn flock(mut file: File, path: &Path) -> Result<Flock<File>> {
    loop {
        match Flock::lock(file, FlockArg::LockExclusive) {
            Ok(lock) => return Ok(lock),
            Err((back, Errno::EINTR)) => file = back,
            Err((_, errno)) => return Err(lock_error("lock", path, errno.into())),
        }
    }
}

/// Whether `path` still names the inode we locked (see the module doc).
fn still_named_by(lock: &Flock<File>, path: &Path) -> Result<bool> {
    let ours = lock
        .metadata()
        .map_err(|source| lock_error("stat", path, source))?;
    match fs::metadata(path) {
        Ok(now) => Ok(now.ino() == ours.ino() && now.dev() == ours.dev()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(lock_error("stat", path, source)),
    }
}

fn lock_error(action: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::Lock {
        action,
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("macvlan-lock-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir.join("sub").join("x.lock")
    }

    #[test]
    fn excludes_and_survives_the_holder_unlinking_the_file() {
        let path = scratch("unlink");
        let first = ShimLock::acquire(path.clone()).unwrap();
        let inside = Arc::new(AtomicBool::new(true));
        let barrier = Arc::new(Barrier::new(2));
        let waiter = {
            let (path, inside, barrier) = (path.clone(), inside.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let lock = ShimLock::acquire(path).unwrap();
                // The first holder must be out before we get in.
                assert!(!inside.load(Ordering::SeqCst));
                lock
            })
        };
        barrier.wait();
        std::thread::sleep(Duration::from_millis(100));
        // What the last DEL does: done with the shim, unlink, release.
        inside.store(false, Ordering::SeqCst);
        first.remove_file().unwrap();
        drop(first);
        let second = waiter.join().unwrap();
        // The waiter ended up on a file that the path names, not on the unlinked one.
        assert!(still_named_by(&second._lock, &path).unwrap());
        second.remove_file().unwrap();
        drop(second);
        let _ = fs::remove_dir_all(path.parent().unwrap().parent().unwrap());
    }
}
