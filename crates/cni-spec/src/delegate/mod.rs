//! IPAM delegation as libcni does it (`pkg/ipam`, `pkg/invoke/delegate.go`): run the plugin
//! named by `ipam.type` with our environment and stdin, read its result or pass its error up.
//!
//! [`ipam_add`] returns an [`IpamReservation`]: until [`IpamReservation::commit`] is called,
//! dropping it runs the delegate's DEL, so an ADD that fails (or panics) after IPAM does not
//! leak the address. This is the spec's "if a delegated ADD ... fails, run DEL" and what every
//! reference plugin does with a deferred `ipam.ExecDel`.
//! Not here: what the plugin does with the addresses.

mod exec;

use std::path::PathBuf;

use exec::Running;
pub use exec::find_in_path;

use crate::error::Error;
use crate::result::parse_any as parse_result;
use crate::{CniError, CniResult, Command, Environment, Request, SpecVersion};

/// One delegated plugin, ready to run; owns what it needs so a reservation can outlive the
/// borrow of the request.
#[derive(Debug, Clone)]
pub struct Delegate {
    plugin: String,
    exe: PathBuf,
    environ: Environment,
    stdin: Vec<u8>,
    version: SpecVersion,
}

impl Delegate {
    /// The plugin `plugin`, found on the request's `CNI_PATH`, to be fed the request's stdin.
    pub fn find(plugin: &str, req: &Request) -> Result<Delegate, CniError> {
        Ok(Delegate {
            plugin: plugin.to_owned(),
            exe: find_in_path(plugin, &req.path)?,
            environ: req.environ.clone(),
            stdin: req.stdin.clone(),
            version: req.conf.cni_version,
        })
    }

    /// The request's IPAM plugin (`ipam.type`); empty or absent -> `no plugin name provided`.
    pub fn ipam(req: &Request) -> Result<Delegate, CniError> {
        Delegate::find(req.conf.ipam_type().unwrap_or_default(), req)
    }

    /// The executable that will run.
    pub fn exe(&self) -> &std::path::Path {
        &self.exe
    }

    /// Runs ADD and reads the result, whatever version the plugin printed (one without
    /// `cniVersion` takes the config's, like libcni's `fixupResultVersion`).
    pub fn add(&self) -> Result<CniResult, CniError> {
        let stdout = exec::exec(&self.exe, Command::Add, &self.environ, &self.stdin)?;
        self.parse_add(&stdout)
    }

    /// Starts ADD and returns at once; [`PendingReservation::wait`] reads the result.
    pub fn start_add(self) -> Result<PendingReservation, CniError> {
        let running = Running::start(&self.exe, Command::Add, &self.environ, &self.stdin)?;
        Ok(PendingReservation {
            delegate: self,
            running: Some(running),
        })
    }

    /// Starts a verb that prints nothing on success; [`PendingRun::wait`] reads the outcome.
    pub fn start(&self, command: Command) -> Result<PendingRun, CniError> {
        let running = Running::start(&self.exe, command, &self.environ, &self.stdin)?;
        Ok(PendingRun { running })
    }

    /// DEL from a guard's `drop`, which cannot return the error: it goes to stderr, the
    /// plugin's log.
    fn release_from_drop(&self) {
        if let Err(err) = self.run(Command::Del) {
            eprintln!(
                "releasing IPAM reservation via {} failed: {err}",
                self.exe.display()
            );
        }
    }

    fn parse_add(&self, stdout: &[u8]) -> Result<CniResult, CniError> {
        let bad = |reason: String| -> CniError {
            let plugin = self.plugin.clone();
            Error::DelegateOutput { plugin, reason }.into()
        };
        let value = serde_json::from_slice(stdout).map_err(|e| bad(e.to_string()))?;
        parse_result(&value, self.version).map_err(bad)
    }

    /// Runs a verb that prints nothing on success (DEL, CHECK, STATUS, GC).
    pub fn run(&self, command: Command) -> Result<(), CniError> {
        exec::exec(&self.exe, command, &self.environ, &self.stdin).map(drop)
    }
}

/// An IPAM ADD that is released (DEL) on drop unless committed.
#[derive(Debug)]
#[must_use = "dropping the reservation releases the addresses at once"]
pub struct IpamReservation {
    delegate: Delegate,
    result: CniResult,
    armed: bool,
}

impl IpamReservation {
    /// What IPAM returned.
    pub fn result(&self) -> &CniResult {
        &self.result
    }

    /// Keeps the addresses: the ADD succeeded. Returns the IPAM result.
    pub fn commit(mut self) -> CniResult {
        self.armed = false;
        std::mem::take(&mut self.result)
    }

    /// Releases now and reports the DEL's outcome (Drop can only log it).
    pub fn release(mut self) -> Result<(), CniError> {
        self.armed = false;
        self.delegate.run(Command::Del)
    }
}

impl Drop for IpamReservation {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        self.delegate.release_from_drop();
    }
}

/// An IPAM ADD started but not yet waited for, so the plugin can build its links while IPAM
/// picks the addresses (two processes, two cores). [`PendingReservation::wait`] turns it into
/// the [`IpamReservation`]. Dropped without waiting (the plugin's own step failed first), it
/// waits for the ADD and releases whatever it reserved, as a dropped reservation would.
#[derive(Debug)]
#[must_use = "dropping a pending reservation waits for it and releases the addresses"]
pub struct PendingReservation {
    delegate: Delegate,
    /// `None` once waited for.
    running: Option<Running>,
}

impl PendingReservation {
    /// Waits for the ADD; its error is IPAM's, unchanged.
    pub fn wait(mut self) -> Result<IpamReservation, CniError> {
        let delegate = self.delegate.clone();
        let outcome = self.finish()?;
        Ok(IpamReservation {
            result: delegate.parse_add(&outcome)?,
            delegate,
            armed: true,
        })
    }

    fn finish(&mut self) -> Result<Vec<u8>, CniError> {
        match self.running.take() {
            Some(running) => running.finish(),
            None => Ok(Vec::new()),
        }
    }
}

impl Drop for PendingReservation {
    fn drop(&mut self) {
        if self.running.is_none() {
            return;
        }
        // Only an ADD that succeeded holds anything; a failed one reserved nothing (the same
        // rule as a failed `ipam_add`, which never runs DEL either).
        if self.finish().is_ok() {
            self.delegate.release_from_drop();
        }
    }
}

/// A verb started but not yet waited for (an IPAM DEL running while the plugin deletes its
/// links). Dropped without waiting, it still waits for the child.
#[derive(Debug)]
#[must_use = "the outcome is only known after wait"]
pub struct PendingRun {
    running: Running,
}

impl PendingRun {
    /// Waits for the verb; its error is the delegate's, unchanged.
    pub fn wait(self) -> Result<(), CniError> {
        self.running.finish().map(drop)
    }
}

/// IPAM ADD for the request; see [`IpamReservation`].
pub fn ipam_add(req: &Request) -> Result<IpamReservation, CniError> {
    let delegate = Delegate::ipam(req)?;
    let result = delegate.add()?;
    Ok(IpamReservation {
        delegate,
        result,
        armed: true,
    })
}

/// IPAM ADD for the request, started; see [`PendingReservation`].
pub fn ipam_add_start(req: &Request) -> Result<PendingReservation, CniError> {
    Delegate::ipam(req)?.start_add()
}

/// IPAM DEL for the request.
pub fn ipam_del(req: &Request) -> Result<(), CniError> {
    Delegate::ipam(req)?.run(Command::Del)
}

/// IPAM DEL for the request, started; see [`PendingRun`].
pub fn ipam_del_start(req: &Request) -> Result<PendingRun, CniError> {
    Delegate::ipam(req)?.start(Command::Del)
}

/// IPAM CHECK for the request.
pub fn ipam_check(req: &Request) -> Result<(), CniError> {
    Delegate::ipam(req)?.run(Command::Check)
}

/// IPAM STATUS for the request (the spec requires forwarding STATUS to delegates).
pub fn ipam_status(req: &Request) -> Result<(), CniError> {
    Delegate::ipam(req)?.run(Command::Status)
}

/// IPAM GC for the request (the spec requires forwarding GC to delegates).
pub fn ipam_gc(req: &Request) -> Result<(), CniError> {
    Delegate::ipam(req)?.run(Command::Gc)
}
