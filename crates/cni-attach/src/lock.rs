//! [`NodeLock`]: an exclusive lock on something several CNI invocations share on one node (the
//! vxlan plugin's VTEP and bridge, the macvlan plugin's host shim), so "look at the kernel, then change it" steps of concurrent
//! ADDs and DELs do not interleave. It is an `flock` on a file under [`LOCK_ROOT`], named for
//! the shared thing and for the node's network namespace (one host may run several node
//! namespaces, as the test sandboxes do, and each has its own devices).
//!
//! The holder that removes the shared thing also unlinks the lock file while it still holds
//! the lock, so /run does not collect files. A process that opened the file just before the
//! unlink then holds a lock on an orphan inode: it notices (the path no longer names its inode)
//! and starts over on the path's current file, so two processes never both believe they hold
//! the lock. The kernel drops an `flock` when its holder dies, so a crash cannot wedge a node.
//!
//! Each plugin keeps its locks in its own directory under [`LOCK_ROOT`], which an environment
//! variable of the plugin's may move ([`lock_dir`]): tests give each sandbox its own, and a host
//! whose /run is not a tmpfs may point it at one.
//!
//! Not here: what is protected; counting users is the caller's (from the kernel, not a file).

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use cni_netlink::Netns;
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::error::{Error, Result};

/// Where lock directories live by default. /run is a tmpfs: a reboot, which also removes every
/// device the locks protect, removes the locks with them.
pub const LOCK_ROOT: &str = "/run/cni";

/// The lock directory in effect: the value of environment variable `env` when set and not
/// empty, else `default`.
pub fn lock_dir(default: &str, env: &str) -> PathBuf {
    std::env::var_os(env)
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// A held lock; released on drop.
#[derive(Debug)]
pub struct NodeLock {
    path: PathBuf,
    _lock: Flock<File>,
}

impl NodeLock {
    /// The lock file for `key` in `dir`, for the node namespace `node`:
    /// `DIR/KEY@<netns inode>.lock`. `key` should be a file-name-safe token (a CNI network
    /// name, a device name); anything else is replaced by `_`.
    pub fn path_for(dir: &Path, key: &str, node: &Netns) -> Result<PathBuf> {
        let id = node.id().map_err(|source| Error::Lock {
            action: "stat the namespace for",
            path: dir.display().to_string(),
            source,
        })?;
        let safe: String = key
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
                _ => '_',
            })
            .collect();
        Ok(dir.join(format!("{safe}@{}-{}.lock", id.dev, id.ino)))
    }

    /// Blocks until this process holds the lock at `path`, creating the file (and its
    /// directory, mode 0700) when missing.
    pub fn acquire(path: PathBuf) -> Result<NodeLock> {
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
                return Ok(NodeLock { path, _lock: lock });
            }
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Unlinks the lock file (what it protected is gone); the lock itself is released on drop.
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
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("attach-lock-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir.join("sub").join("x.lock")
    }

    #[test]
    fn path_names_key_and_namespace() {
        let node = Netns::current().unwrap();
        let id = node.id().unwrap();
        let p = NodeLock::path_for(Path::new("/run/cni/vxlan"), "vni 7/x", &node).unwrap();
        assert_eq!(
            p,
            PathBuf::from(format!("/run/cni/vxlan/vni_7_x@{}-{}.lock", id.dev, id.ino))
        );
    }

    #[test]
    fn excludes_and_survives_the_holder_unlinking_the_file() {
        let path = scratch("unlink");
        let inside = Arc::new(AtomicU32::new(0));
        let barrier = Arc::new(Barrier::new(4));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (path, inside, barrier) = (path.clone(), inside.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..20 {
                        let lock = NodeLock::acquire(path.clone()).unwrap();
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                        std::thread::sleep(Duration::from_micros(200));
                        // Every holder removes the file, as a last DEL would.
                        lock.remove_file().unwrap();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        assert!(!path.exists());
        let _ = fs::remove_dir_all(path.parent().unwrap().parent().unwrap());
    }
}
