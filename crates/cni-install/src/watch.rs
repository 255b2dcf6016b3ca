//! The long-running mode of the DaemonSet's main container: install, then install again every
//! interval until told to stop.
//!
//! Why keep running: the files on the node can go away under us (kubernetes #115629: a package
//! upgrade recreated `/opt/cni/bin` empty; weave #2586: binaries never upgraded), and the
//! readiness probe needs a running container to report on. A re-run of identical files
//! writes nothing, so the loop is cheap. After the first round only changes are printed.
//!
//! In a container this process is PID 1, which gets no default signal handling: a SIGTERM
//! with the default disposition is ignored and the pod takes its whole grace period to die.
//! So SIGTERM/SIGINT/SIGHUP are blocked and taken with `sigtimedwait`, which is also the sleep.
//! Not here: what one round does (`install`).

use std::io::Write;
use std::ptr;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{SigSet, Signal};

use crate::error::{Error, Result};
use crate::install::{Action, Plan, install};

/// Runs the loop; returns `Ok` when a stop signal arrives. Fails only when the first round
/// fails (so a broken image crash-loops visibly); later failures are printed and retried.
pub fn watch(plan: &Plan, interval: Duration, out: &mut dyn Write) -> Result<()> {
    let signals = stop_signals();
    signals
        .thread_block()
        .map_err(|e| Error::io("block signals", "", e.into()))?;
    install(plan, &mut |entry| {
        let _ = writeln!(out, "{entry}");
    })?;
    loop {
        if let Some(signal) = wait_for(&signals, interval)? {
            let _ = writeln!(out, "cni-install: {signal}, exiting");
            return Ok(());
        }
        let result = install(plan, &mut |entry| {
            if entry.action != Action::Unchanged {
                let _ = writeln!(out, "{entry}");
            }
        });
        if let Err(e) = result {
            let _ = writeln!(out, "cni-install: error: {e}");
        }
    }
}

fn stop_signals() -> SigSet {
    let mut set = SigSet::empty();
    for signal in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        set.add(signal);
    }
    set
}

/// Sleeps for `timeout` or until one of the blocked `signals` is pending.
fn wait_for(signals: &SigSet, timeout: Duration) -> Result<Option<Signal>> {
    let ts = libc::timespec {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(timeout.subsec_nanos()),
    };
    loop {
        // SAFETY: `signals` is a valid, initialised sigset_t for the duration of the call;
        // a null siginfo pointer is allowed (the info is not wanted); `ts` lives on the stack
        // for the whole call. The signals are blocked on this thread, as sigtimedwait requires.
        let signo = unsafe { libc::sigtimedwait(signals.as_ref(), ptr::null_mut(), &ts) };
        if signo >= 0 {
            return Ok(Some(Signal::try_from(signo).unwrap_or(Signal::SIGTERM)));
        }
        match Errno::last() {
            Errno::EAGAIN => return Ok(None),
            // Another (unblocked) signal interrupted the wait; a shorter remaining sleep does
            // not matter for a periodic reinstall, so simply wait again.
            Errno::EINTR => continue,
            e => return Err(Error::io("wait for signals", "", e.into())),
        }
    }
}
