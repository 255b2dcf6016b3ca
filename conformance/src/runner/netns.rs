//! Naming a pod's network namespace the way runtimes do in `CNI_NETNS`.
//!
//! containerd and CRI-O pass a bind mount under `/run/netns/` (or `/var/run/netns/`); Docker-
//! style runtimes and podman's rootful legacy path pass `/proc/<pid>/ns/net` of a process kept
//! in the pod (the pause/infra process). Plugins must accept both: Go's `ns.GetNS` accepts any
//! path whose filesystem is nsfs or procfs. [`NetnsHolder`] is that infra process.

use std::os::unix::fs::MetadataExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cni_sandbox::Ns;

use crate::error::{ConformanceError, Result};

/// How a runtime spells `CNI_NETNS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetnsStyle {
    /// `/run/netns/<name>` (containerd, CRI-O, `ip netns`).
    RunNetns,
    /// `/proc/<pid>/ns/net` of a process parked in the pod namespace.
    ProcPid,
}

/// A `sleep` parked in a pod namespace, so `/proc/<pid>/ns/net` names it; killed on drop.
#[derive(Debug)]
pub struct NetnsHolder {
    child: Child,
}

/// How long the holder may take to enter its namespace.
const ENTER_BOUND: Duration = Duration::from_secs(5);

impl NetnsHolder {
    /// Starts the holder inside `ns` and waits until it is really there (its `ns/net` has the
    /// namespace's inode), so a plugin never sees the holder still in the root namespace.
    pub fn start(ns: &Ns) -> Result<NetnsHolder> {
        // nsenter setns()es and then execs sleep in the same process: the pid we get is the
        // pid that sits in the namespace. Unlike `ip netns exec` it leaves the mount
        // namespace alone, as a pause process would.
        let child = Command::new("nsenter")
            .arg(format!("--net={}", ns.path().display()))
            .args(["sleep", "infinity"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| ConformanceError::io("start netns holder in", ns.path(), e))?;
        let mut holder = NetnsHolder { child };
        let want = ns.inode()?;
        let deadline = Instant::now() + ENTER_BOUND;
        loop {
            let here = std::fs::metadata(holder.path()).map(|m| m.ino());
            if here.as_ref().is_ok_and(|ino| *ino == want) {
                return Ok(holder);
            }
            let exited = matches!(holder.child.try_wait(), Ok(Some(_)));
            if exited || Instant::now() > deadline {
                return Err(ConformanceError::io(
                    "netns holder never entered",
                    ns.path(),
                    std::io::Error::other(format!("now in {here:?}")),
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The holder's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `/proc/<pid>/ns/net`: what the runtime passes as `CNI_NETNS`.
    pub fn path(&self) -> String {
        format!("/proc/{}/ns/net", self.pid())
    }
}

impl Drop for NetnsHolder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
