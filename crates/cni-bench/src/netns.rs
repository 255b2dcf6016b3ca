//! Entering a node's namespace on the bench thread, just for the moment a child is spawned.
//!
//! A runtime execs a plugin from the node's host namespace with a vfork-style clone (Go's
//! `os/exec`, glibc's `posix_spawn`). To measure the same cost we spawn the same way, so the
//! child has to inherit the namespace from the spawning thread: the thread enters the node, spawns,
//! and goes back home. (Entering in the child between fork and exec, as `cni-sandbox` does, would
//! force a full `fork` of the benchmark process into every measurement.)
//!
//! Only the measuring thread ([`crate::phases::on_bench_thread`]) switches, and [`Entered`]
//! restores on drop, panics included. It is `!Send`: it belongs to the thread it switched.

use std::fs::File;
use std::io;
use std::marker::PhantomData;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::error::{BenchError, Result};

/// An open network namespace file.
#[derive(Debug)]
pub struct NsFile {
    file: File,
    path: PathBuf,
}

impl NsFile {
    /// Opens the namespace at `path` (`/run/netns/<name>` or `/proc/thread-self/ns/net`).
    pub fn open(path: &Path) -> Result<NsFile> {
        let file = File::open(path).map_err(|e| BenchError::io("open netns", path, e))?;
        Ok(NsFile {
            file,
            path: path.to_path_buf(),
        })
    }

    /// The calling thread's own namespace, to come back to.
    pub fn current_thread() -> Result<NsFile> {
        NsFile::open(Path::new("/proc/thread-self/ns/net"))
    }

    /// Enters this namespace on the calling thread until the guard drops; `home` is where the
    /// thread goes back to.
    pub fn enter<'h>(&self, home: &'h NsFile) -> Result<Entered<'h>> {
        setns(&self.file)
            .map_err(|e| BenchError::sys(format!("setns into {}", self.path.display()), e))?;
        Ok(Entered {
            home,
            _not_send: PhantomData,
        })
    }
}

/// The calling thread is inside another namespace until this drops.
#[must_use = "dropping the guard returns the thread to its own namespace at once"]
pub struct Entered<'h> {
    home: &'h NsFile,
    _not_send: PhantomData<*const ()>,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        if let Err(e) = setns(&self.home.file) {
            // A measuring thread stuck in a node namespace would spawn the next subject's
            // plugin in the wrong node; nothing sensible can follow, so stop here.
            eprintln!(
                "cni-bench: cannot return to {}: {e}; aborting",
                self.home.path.display()
            );
            std::process::abort();
        }
    }
}

fn setns(file: &File) -> io::Result<()> {
    // SAFETY: setns only reads the fd number and the flag; a bad fd yields EBADF, not UB.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
