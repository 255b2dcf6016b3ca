//! Handles on network namespaces, and the one safe way to act inside one.
//!
//! `setns(2)` moves only the calling thread, and a netlink socket stays in the namespace it was
//! created in for life (research: rust-anchors §4). So nothing here ever switches the namespace of
//! a thread that does other work: [`Netns::run`] starts a short-lived thread, moves *that* thread,
//! runs the closure, and lets the thread die. Sockets are made that way ([`Netns::handle`]) and so
//! are `/proc/sys` writes (see [`crate::sysctl`]), which resolve against the opening thread's
//! namespace. There is deliberately no guard type that switches the caller's own thread.
//!
//! When the calling thread already is in the namespace (a plugin's node-side sysctls: the node is
//! where it runs), [`Netns::run`] calls the closure in place: there is nothing to switch, and a
//! thread start plus `setns` was about a tenth of a bridge ADD's CPU (issue 8). The check is one
//! `stat` of `/proc/thread-self/ns/net` per call, never a cached answer, so a handle that moves
//! to a thread of another namespace still gets a helper thread.
//!
//! This module does not create or delete namespaces; the runtime owns them (tests use
//! `cni-sandbox`).

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::errno::Errno;
use nix::sched::{CloneFlags, setns};
use nix::sys::statfs::{NSFS_MAGIC, PROC_SUPER_MAGIC, fstatfs};

use crate::error::{Error, describe_errno};
use crate::handle::Handle;
use crate::transport::Transport;

/// Why a namespace could not be opened or entered.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    /// Nothing exists at the path. CNI DEL treats this as "already gone".
    #[error("network namespace {path} does not exist")]
    NotFound {
        /// The path that was asked for.
        path: String,
    },
    /// Something exists at the path but it is not a network namespace (a regular file, a
    /// directory, another namespace type).
    #[error("{path} is not a network namespace: {reason}")]
    NotNetns {
        /// The path that was asked for.
        path: String,
        /// What it is instead.
        reason: String,
    },
    /// The path could not be opened or inspected for another reason (e.g. permission).
    #[error("open network namespace {path}: {source}")]
    Open {
        /// The path that was asked for.
        path: String,
        /// The file system error.
        #[source]
        source: io::Error,
    },
    /// `setns(2)` into the namespace failed on the helper thread.
    #[error("enter network namespace {path}: {}", describe_errno(*errno, None))]
    Enter {
        /// The namespace's path.
        path: String,
        /// The positive errno from `setns`.
        errno: i32,
    },
    /// The helper thread that enters the namespace could not be started.
    #[error("start a thread for network namespace {path}: {source}")]
    Thread {
        /// The namespace's path.
        path: String,
        /// The error from the thread builder.
        #[source]
        source: io::Error,
    },
}

impl NetnsError {
    /// The errno behind this error, if there is one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetnsError::NotFound { .. } => Some(libc::ENOENT),
            NetnsError::Open { source, .. } | NetnsError::Thread { source, .. } => {
                source.raw_os_error()
            }
            NetnsError::Enter { errno, .. } => Some(*errno),
            NetnsError::NotNetns { .. } => None,
        }
    }
}

/// An open network namespace. Holding it keeps the namespace alive even if its bind mount goes.
#[derive(Debug)]
pub struct Netns {
    file: File,
    /// What errors call this namespace: the path it was opened from, or `net:[inode]`.
    label: String,
    /// Its identity, read once at open: the nsfs inode of an open file cannot change.
    id: NetnsId,
}

/// The identity of a namespace: two handles name the same namespace when their ids are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NetnsId {
    /// Device of the nsfs file.
    pub dev: u64,
    /// Inode of the nsfs file (what `ip netns identify` and `/proc/*/ns/net` links show).
    pub ino: u64,
}

impl NetnsId {
    fn of(meta: &std::fs::Metadata) -> NetnsId {
        NetnsId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// The calling thread's namespace (`/proc/self` would name the thread group leader's).
const THREAD_NETNS: &str = "/proc/thread-self/ns/net";

impl std::fmt::Display for NetnsId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "net:[{}]", self.ino)
    }
}

impl Netns {
    /// Opens a namespace from `/run/netns/NAME`, `/proc/PID/ns/net`, or any bind mount of one.
    pub fn open(path: impl AsRef<Path>) -> Result<Netns, NetnsError> {
        let path = path.as_ref();
        let label = path.display().to_string();
        let file = File::open(path).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                NetnsError::NotFound {
                    path: label.clone(),
                }
            } else {
                NetnsError::Open {
                    path: label.clone(),
                    source,
                }
            }
        })?;
        check_is_netns(&file, &label)?;
        let id = NetnsId::of(&file.metadata().map_err(|source| NetnsError::Open {
            path: label.clone(),
            source,
        })?);
        Ok(Netns { file, label, id })
    }

    /// The namespace of the calling thread (not of the process: `/proc/self` names the thread
    /// group leader's, which can differ).
    pub fn current() -> Result<Netns, NetnsError> {
        let mut ns = Netns::open(THREAD_NETNS)?;
        ns.label = ns.id.to_string();
        Ok(ns)
    }

    /// The name errors use for this namespace.
    pub fn path(&self) -> &str {
        &self.label
    }

    /// The namespace's identity (device and inode of its nsfs file).
    pub fn id(&self) -> io::Result<NetnsId> {
        Ok(self.id)
    }

    /// Whether the calling thread is inside this namespace now.
    pub fn is_current(&self) -> io::Result<bool> {
        Ok(NetnsId::of(&std::fs::metadata(THREAD_NETNS)?) == self.id)
    }

    /// Runs `f` inside this namespace and returns its result: in place when the calling thread
    /// already is inside, else on a fresh thread that enters it. The calling thread never
    /// changes namespace. A panic in `f` reaches the caller.
    pub fn run<T, F>(&self, f: F) -> Result<T, NetnsError>
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        // If the check itself fails, the helper thread is the answer that is right anyway.
        if self.is_current().unwrap_or(false) {
            return Ok(f());
        }
        std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("netns".into())
                .spawn_scoped(scope, || {
                    setns(self.file.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|e| {
                        NetnsError::Enter {
                            path: self.label.clone(),
                            errno: e as i32,
                        }
                    })?;
                    Ok(f())
                })
                .map_err(|source| NetnsError::Thread {
                    path: self.label.clone(),
                    source,
                })?;
            match worker.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// Opens a netlink socket inside this namespace (on a throwaway thread, see the module doc).
    pub fn handle(&self) -> Result<Handle, Error> {
        let transport = self.run(Transport::open)?;
        let transport = transport.map_err(|source| Error::Io {
            op: "open netlink socket".into(),
            netns: self.label.clone(),
            source,
        })?;
        Ok(Handle::new(transport, self.label.clone()))
    }
}

impl AsFd for Netns {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl AsRawFd for Netns {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

/// The same check Go's `ns.GetNS` makes (the file lives on nsfs, or on procfs for kernels before
/// 3.19), plus `NS_GET_NSTYPE` so that a mount or UTS namespace file is refused up front instead
/// of failing later in `setns`.
fn check_is_netns(file: &File, label: &str) -> Result<(), NetnsError> {
    let stat = fstatfs(file).map_err(|e| NetnsError::Open {
        path: label.to_string(),
        source: io::Error::from(e),
    })?;
    let fs = stat.filesystem_type();
    if fs != NSFS_MAGIC && fs != PROC_SUPER_MAGIC {
        return Err(NetnsError::NotNetns {
            path: label.to_string(),
            reason: format!("its file system has magic {:#x}, not nsfs", fs.0),
        });
    }
    // SAFETY: NS_GET_NSTYPE takes no argument and only reads the fd, which `file` keeps open.
    let nstype = unsafe { libc::ioctl(file.as_raw_fd(), libc::NS_GET_NSTYPE) };
    if nstype < 0 {
        let errno = Errno::last();
        // Kernels before 4.11 lack the ioctl; a non-nsfs procfs file (kernel < 3.19) answers
        // ENOTTY too. Leave the verdict to setns then.
        if errno == Errno::ENOTTY || errno == Errno::EINVAL {
            return Ok(());
        }
        return Err(NetnsError::Open {
            path: label.to_string(),
            source: errno.into(),
        });
    }
    if nstype != libc::CLONE_NEWNET {
        return Err(NetnsError::NotNetns {
            path: label.to_string(),
            reason: format!("it is a namespace of another type (CLONE flag {nstype:#x})"),
        });
    }
    Ok(())
}
