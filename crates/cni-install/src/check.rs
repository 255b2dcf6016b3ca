//! The readiness check: is every plugin of the image usable on the node right now?
//!
//! "Usable" is what the runtime needs: the file exists under the plugin's name, is a regular
//! file with execute permission, and answers `CNI_COMMAND=VERSION` with a list of supported
//! versions. Executing it is the real test (a binary built for the wrong libc or architecture
//! passes a `test -x`); our plugins are static and answer VERSION without reading stdin or
//! touching the kernel, so this costs about a millisecond each. The conflist, when the plan
//! has one, must be present and loadable.
//! Not here: repairing anything (the `watch` loop reinstalls).

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::conflist::Conflist;
use crate::error::{Error, Result};
use crate::install::{Plan, load_conflist, plugin_sources};

/// How long a plugin may take to answer VERSION before it counts as broken.
pub const VERSION_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks every plugin of the plan and its conflist; returns one line per ready path, or every
/// problem found.
pub fn check(plan: &Plan) -> Result<Vec<String>> {
    let mut ready = Vec::new();
    let mut problems = Vec::new();
    for (name, _) in plugin_sources(&plan.from)? {
        let path = plan.bin_dir.join(&name);
        match check_binary(&path) {
            Ok(versions) => ready.push(format!("ready {} ({versions})", path.display())),
            Err(e) => problems.push(e),
        }
    }
    if let Some(src) = &plan.conflist {
        let (name, _) = load_conflist(src)?;
        let path = plan.conf_dir.join(name);
        match check_conflist(&path) {
            Ok(()) => ready.push(format!("ready {}", path.display())),
            Err(e) => problems.push(e),
        }
    }
    if problems.is_empty() {
        Ok(ready)
    } else {
        Err(Error::Partial {
            total: ready.len() + problems.len(),
            failures: problems,
        })
    }
}

fn not_ready(path: &Path, reason: impl Into<String>) -> Error {
    Error::NotReady {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Checks one installed plugin; returns its supported versions, joined.
pub fn check_binary(path: &Path) -> Result<String> {
    let meta = fs::metadata(path).map_err(|e| not_ready(path, e.to_string()))?;
    if !meta.is_file() {
        return Err(not_ready(path, "not a regular file"));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(not_ready(path, "not executable"));
    }
    let child = Command::new(path)
        .env_clear()
        .env("CNI_COMMAND", "VERSION")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| not_ready(path, format!("cannot execute: {e}")))?;
    let stdout = wait_bounded(child, VERSION_TIMEOUT).map_err(|why| not_ready(path, why))?;
    supported_versions(&stdout).ok_or_else(|| {
        let text = String::from_utf8_lossy(&stdout);
        not_ready(path, format!("VERSION answered {:?}", text.trim()))
    })
}

/// Waits for the child's exit at most `limit`, killing it after that; returns its stdout.
fn wait_bounded(mut child: Child, limit: Duration) -> std::result::Result<Vec<u8>, String> {
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("VERSION did not answer within {limit:?}"));
            }
            Err(e) => return Err(format!("wait: {e}")),
        }
    };
    let mut out = Vec::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout
            .read_to_end(&mut out)
            .map_err(|e| format!("read VERSION output: {e}"))?;
    }
    if !status.success() {
        return Err(format!("VERSION exited with {status}"));
    }
    Ok(out)
}

/// The `supportedVersions` of a VERSION answer, joined with commas; `None` if absent.
fn supported_versions(stdout: &[u8]) -> Option<String> {
    let answer: Value = serde_json::from_slice(stdout).ok()?;
    let versions: Vec<&str> = answer
        .get("supportedVersions")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    (!versions.is_empty()).then(|| versions.join(","))
}

fn check_conflist(path: &Path) -> Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let bytes = fs::read(path).map_err(|e| not_ready(path, e.to_string()))?;
    Conflist::parse_file(name, &bytes)
        .map(|_| ())
        .map_err(|why| not_ready(path, why))
}
