//! A test world: the guard that owns every namespace and directory one test creates.
//!
//! Dropping a [`World`] deletes its namespaces (which destroys every link inside them) and its
//! temp directory, also when the test panics. Nothing is created in the root namespace: links
//! are always made inside a world namespace, and a veth's far end is placed straight into its
//! peer namespace (`ip link add ... peer ... netns`), never moved out of the root.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Result, SandboxError};
use crate::names;
use crate::netns::{self, Ns};
use crate::switch::Switch;

/// Owns the namespaces and the temp directory of one test; cleans them up on drop.
#[derive(Debug)]
pub struct World {
    test: String,
    tempdir: PathBuf,
    namespaces: Mutex<Vec<Ns>>,
}

impl World {
    /// Starts a world for `test` (a label for messages; any text). Fails unless we are root.
    ///
    /// Also sweeps leftovers of earlier test processes that were killed before they could clean
    /// up (their names carry a pid that no longer exists).
    pub fn new(test: &str) -> Result<Self> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let euid = unsafe { libc::geteuid() };
        if euid != 0 {
            return Err(SandboxError::NotRoot { euid });
        }
        sweep_stale();
        let tempdir = std::env::temp_dir().join(names::unique("tmp")?);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&tempdir)
            .map_err(|e| SandboxError::io("create temp dir", &tempdir, e))?;
        Ok(Self {
            test: test.to_owned(),
            tempdir,
            namespaces: Mutex::new(Vec::new()),
        })
    }

    /// The label given to [`World::new`].
    pub fn test_name(&self) -> &str {
        &self.test
    }

    /// A private directory (mode 0700) removed on drop: IPAM `dataDir`s, scripts, configs.
    pub fn tempdir(&self) -> &Path {
        &self.tempdir
    }

    /// A new namespace for `role` (`node`, `pod-a`; lowercase, digits, `-`, `_`), loopback up.
    pub fn netns(&self, role: &str) -> Result<Ns> {
        let name = names::unique(role)?;
        // Recorded before creation: if `ip netns add` fails half way, Drop still looks.
        self.record(Ns::handle(name.clone()));
        Ns::create(name)
    }

    /// A namespace holding a bridge that joins node underlays, for multi-node tests.
    pub fn switch(&self, role: &str) -> Result<Switch> {
        Switch::create(self.netns(role)?)
    }

    /// A veth pair with end `a.1` in namespace `a.0` and end `b.1` in `b.0`, both up. The
    /// pair is created inside `a.0` with its peer placed directly into `b.0`.
    pub fn veth(&self, a: (&Ns, &str), b: (&Ns, &str)) -> Result<()> {
        let ((ns_a, name_a), (ns_b, name_b)) = (a, b);
        names::check_ifname(name_a)?;
        names::check_ifname(name_b)?;
        let peer_ns = ns_b.path().to_string_lossy().into_owned();
        ns_a.ip(&[
            "link", "add", name_a, "type", "veth", "peer", "name", name_b, "netns", &peer_ns,
        ])?;
        ns_a.link_up(name_a)?;
        ns_b.link_up(name_b)
    }

    fn record(&self, ns: Ns) {
        self.namespaces
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(ns);
    }

    /// Every namespace this world made, oldest first.
    pub fn namespaces(&self) -> Vec<Ns> {
        self.namespaces
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        // Drop may run during a panic: report problems, never panic (that would abort).
        let namespaces =
            std::mem::take(self.namespaces.get_mut().unwrap_or_else(|p| p.into_inner()));
        // Newest first: pods before the node whose links they hang off, nodes before the switch.
        for ns in namespaces.iter().rev() {
            if let Err(e) = ns.delete() {
                eprintln!("cni-sandbox: world {:?}: {e}", self.test);
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&self.tempdir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                eprintln!(
                    "cni-sandbox: world {:?}: remove {}: {e}",
                    self.test,
                    self.tempdir.display()
                );
            }
        }
    }
}

/// Deletes namespaces and temp dirs left by test processes that died without cleaning up.
fn sweep_stale() {
    for name in netns::stale_namespaces() {
        let _ = Ns::handle(name).delete();
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_str().is_some_and(names::owner_is_dead) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
