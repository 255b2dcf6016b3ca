//! Programs left running inside a namespace while a test goes on: a listener, a tcpdump.
//!
//! A [`Background`] guard stops its program (and the program's process group) when dropped,
//! so a failing test cannot leave a process holding a namespace alive. For programs that run
//! to completion, see [`crate::process`].

use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::process::{Spec, child_pgid, command, kill_group, open_netns, read_all, spawn};

/// A program left running in the background (a listener, a tcpdump); stopped on drop.
pub struct Background {
    child: Option<Child>,
    cmd: String,
    stdout: Option<thread::JoinHandle<Vec<u8>>>,
    stderr: Option<thread::JoinHandle<Vec<u8>>>,
}

impl Background {
    pub(crate) fn start(spec: &Spec<'_>) -> Result<Self> {
        let ns_file = open_netns(spec.netns)?;
        let mut cmd = command(spec, ns_file.as_ref());
        cmd.stdin(Stdio::null());
        let mut child = spawn(&mut cmd, spec)?;
        let out = child.stdout.take();
        let err = child.stderr.take();
        Ok(Self {
            cmd: spec.display(),
            stdout: Some(thread::spawn(move || read_all(out))),
            stderr: Some(thread::spawn(move || read_all(err))),
            child: Some(child),
        })
    }

    /// The command line, for messages.
    pub fn cmd(&self) -> &str {
        &self.cmd
    }

    /// Whether the program is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Stops the program (SIGTERM, then SIGKILL after 2 s) and returns what it printed.
    pub fn stop(mut self) -> Output {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Output {
        let status = self.child.take().map(terminate);
        let join = |h: Option<thread::JoinHandle<Vec<u8>>>| {
            h.and_then(|h| h.join().ok()).unwrap_or_default()
        };
        Output {
            status: status.unwrap_or_else(|| ExitStatus::from_raw(0)),
            stdout: join(self.stdout.take()),
            stderr: join(self.stderr.take()),
        }
    }
}

/// SIGTERM lets tools like tcpdump flush; SIGKILL bounds the wait.
fn terminate(mut child: Child) -> ExitStatus {
    let pgid = child_pgid(&child);
    kill_group(pgid, libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                // Reap stragglers in the group so they release the pipes.
                kill_group(pgid, libc::SIGKILL);
                return status;
            }
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            _ => {
                kill_group(pgid, libc::SIGKILL);
                return child.wait().unwrap_or_else(|_| ExitStatus::from_raw(0));
            }
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.shutdown();
        }
    }
}

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Background")
            .field("cmd", &self.cmd)
            .finish()
    }
}
