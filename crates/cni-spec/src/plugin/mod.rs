//! The verb dispatcher: what a plugin's `main` calls.
//!
//! Order as Go's skel: no `CNI_COMMAND` -> banner on stderr, exit 0; VERSION -> supported
//! versions (stdin not read); then environment, stdin, version and verb-floor checks
//! ([`Request::parse`]); then the verb. One deliberate difference: an unknown verb is reported
//! before stdin is read (skel validates stdin first), since no input can make it valid.
//!
//! Output discipline: a result is serialised whole and written with one `write_all`; an error
//! is a JSON object on stdout with exit 1; stderr is for logs only; DEL, CHECK, STATUS and GC
//! print nothing on success. A panic in a verb is caught (the workspace builds with
//! `panic = "unwind"` for this) and printed as a code 999 error, never a half-printed result;
//! unwinding also drops an uncommitted [`crate::IpamReservation`], which releases the address.
//!
//! Not done here: skel's code-8 check that the plugin did not end up in `CNI_NETNS` itself
//! (that needs the kernel; plugins here never `setns` the main thread).

mod request;

use std::any::Any;
use std::io::{self, Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

use serde::Serialize;

pub use request::Request;

use crate::error::Error;
use crate::{CniError, CniResult, Command, Environment, SpecVersion};

/// A CNI plugin: one method per verb. There are no defaults: every plugin decides what
/// STATUS and GC mean for it (the reference plugins silently succeed; the spec asks more).
pub trait Plugin {
    /// The plugin's name, as in its `type` (`"bridge"`); used in the banner.
    const NAME: &'static str;
    /// The plugin's version for the banner.
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    /// ADD: attach the container and return the result (printed in the config's version).
    fn add(&self, req: &Request) -> Result<CniResult, CniError>;
    /// DEL: detach; must succeed when things are already gone.
    fn del(&self, req: &Request) -> Result<(), CniError>;
    /// CHECK: verify the attachment described by `req.conf.prev_result`.
    fn check(&self, req: &Request) -> Result<(), CniError>;
    /// STATUS: whether an ADD could succeed now (codes 50/51 when not).
    fn status(&self, req: &Request) -> Result<(), CniError>;
    /// GC: release what belongs to attachments not in `req.conf.valid_attachments`.
    fn gc(&self, req: &Request) -> Result<(), CniError>;
}

/// Runs the plugin against the real environment, stdin and stdout; `main` returns this.
pub fn run<P: Plugin>(plugin: &P) -> ExitCode {
    let code = dispatch(
        plugin,
        Environment::from_process(),
        io::stdin().lock(),
        &mut io::stdout().lock(),
        &mut io::stderr().lock(),
    );
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// The testable core of [`run`]: returns the exit status (0 or 1). `stdin` is read only when
/// the verb takes input (VERSION and the banner never read it, as a runtime may leave it open).
pub fn dispatch<P: Plugin>(
    plugin: &P,
    environ: Environment,
    mut stdin: impl Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let Some(command) = environ.get_text("CNI_COMMAND") else {
        banner::<P>(stderr);
        return 0;
    };
    let mut version = None;
    let outcome = Command::parse(&command).and_then(|command| {
        if command == Command::Version {
            return version_json().map(Some);
        }
        let mut bytes = Vec::new();
        stdin.read_to_end(&mut bytes).map_err(Error::ReadStdin)?;
        let req = request::build(command, environ, bytes, &mut version)?;
        call_verb(plugin, &req)
    });
    let (bytes, status) = match outcome {
        Ok(None) => return 0,
        Ok(Some(bytes)) => (bytes, 0),
        Err(err) => match serde_json::to_vec(&err.to_json(version)) {
            Ok(bytes) => (bytes, 1),
            Err(e) => {
                let _ = writeln!(stderr, "cannot encode error {err}: {e}");
                return 1;
            }
        },
    };
    emit(stdout, stderr, bytes, status)
}

/// Writes the whole output at once; a failed write can only be logged.
fn emit(stdout: &mut dyn Write, stderr: &mut dyn Write, mut bytes: Vec<u8>, status: i32) -> i32 {
    bytes.push(b'\n');
    match stdout.write_all(&bytes).and_then(|()| stdout.flush()) {
        Ok(()) => status,
        Err(e) => {
            let _ = writeln!(stderr, "cannot write to stdout: {e}");
            1
        }
    }
}

/// Runs the verb, turning a panic into code 999. Returns the bytes to print, if any.
fn call_verb<P: Plugin>(plugin: &P, req: &Request) -> Result<Option<Vec<u8>>, CniError> {
    let caught = panic::catch_unwind(AssertUnwindSafe(|| match req.command {
        Command::Add => plugin
            .add(req)
            .and_then(|result| result.to_bytes(req.conf.cni_version))
            .map(Some),
        Command::Del => plugin.del(req).map(|()| None),
        Command::Check => plugin.check(req).map(|()| None),
        Command::Status => plugin.status(req).map(|()| None),
        Command::Gc => plugin.gc(req).map(|()| None),
        Command::Version => version_json().map(Some),
    }));
    caught.unwrap_or_else(|payload| Err(Error::Panic(panic_text(payload.as_ref())).into()))
}

fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic payload".to_owned())
}

/// skel's `about` text plus the supported versions, for a human running the binary by hand.
fn banner<P: Plugin>(stderr: &mut dyn Write) {
    let versions: Vec<&str> = SpecVersion::ALL.iter().map(|v| v.as_str()).collect();
    let _ = writeln!(stderr, "CNI {} plugin v{}", P::NAME, P::VERSION);
    let _ = writeln!(
        stderr,
        "CNI protocol versions supported: {}",
        versions.join(", ")
    );
}

/// VERSION's answer. `cniVersion` is the newest version, not the input's (Go does the same).
fn version_json() -> Result<Vec<u8>, CniError> {
    #[derive(Serialize)]
    struct VersionInfo {
        #[serde(rename = "cniVersion")]
        cni_version: SpecVersion,
        #[serde(rename = "supportedVersions")]
        supported_versions: [SpecVersion; 7],
    }
    let info = VersionInfo {
        cni_version: SpecVersion::CURRENT,
        supported_versions: SpecVersion::ALL,
    };
    serde_json::to_vec(&info).map_err(|e| Error::Encode(e).into())
}
