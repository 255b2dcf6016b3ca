//! Finding a plugin on `CNI_PATH` and running it, as libcni's `invoke` package does.
//!
//! The child gets exactly the environment it is given (in production: this process's whole
//! environment) with only `CNI_COMMAND` replaced, and the stdin bytes unchanged, so capability
//! arguments such as `runtimeConfig.ips` reach the IPAM plugin as the runtime sent them.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output, Stdio};
use std::thread;
use std::time::Duration;

use crate::error::Error;
use crate::{CniError, Command, Environment};

/// libcni retries exec up to 5 times, a second apart, when the binary is being replaced
/// ("text file busy", e.g. during a DaemonSet upgrade that copies new plugins in place).
const BUSY_RETRIES: u32 = 5;
const BUSY_PAUSE: Duration = Duration::from_secs(1);

/// The executable for `plugin` in the first directory of `path` that holds a regular file of
/// that name. Empty name, a name with `/`, no directories, or not found -> code 999 with
/// libcni's message.
pub fn find_in_path(plugin: &str, path: &[PathBuf]) -> Result<PathBuf, CniError> {
    if plugin.is_empty() {
        return Err(Error::NoPluginName.into());
    }
    if plugin.contains('/') {
        return Err(Error::InvalidPluginName(plugin.to_owned()).into());
    }
    if path.is_empty() {
        return Err(Error::NoPaths.into());
    }
    path.iter()
        .map(|dir| dir.join(plugin))
        .find(|candidate| candidate.metadata().is_ok_and(|m| m.is_file()))
        .ok_or_else(|| {
            Error::PluginNotFound {
                name: plugin.to_owned(),
                dirs: path.to_vec(),
            }
            .into()
        })
}

/// Runs `exe` for `command` and returns its stdout on success. On failure the plugin's own
/// CNI error is returned unchanged; without one, libcni's `netplugin failed...` messages.
/// The child's stderr is logs: copied to ours on success, quoted in the error otherwise.
pub(crate) fn exec(
    exe: &Path,
    command: Command,
    environ: &Environment,
    stdin: &[u8],
) -> Result<Vec<u8>, CniError> {
    let output = spawn_with_retry(exe, command, environ, stdin)?;
    if output.status.success() {
        // Logging only; a closed stderr must not fail the call.
        let _ = io::stderr().write_all(&output.stderr);
        return Ok(output.stdout);
    }
    Err(failure(output).into())
}

fn spawn_with_retry(
    exe: &Path,
    command: Command,
    environ: &Environment,
    stdin: &[u8],
) -> Result<Output, CniError> {
    let mut attempt = 0;
    loop {
        match spawn(exe, command, environ, stdin) {
            Err(e) if e.kind() == io::ErrorKind::ExecutableFileBusy && attempt < BUSY_RETRIES => {
                attempt += 1;
                thread::sleep(BUSY_PAUSE);
            }
            Err(source) => {
                let path = exe.to_owned();
                return Err(Error::Spawn { path, source }.into());
            }
            Ok(output) => return Ok(output),
        }
    }
}

fn spawn(exe: &Path, command: Command, environ: &Environment, stdin: &[u8]) -> io::Result<Output> {
    let inherited = environ
        .vars()
        .iter()
        .filter(|(k, _)| k.as_os_str() != "CNI_COMMAND");
    let mut child = Process::new(exe)
        .env_clear()
        .envs(inherited.map(|(k, v)| (k, v)))
        .env("CNI_COMMAND", command.as_str())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let child_stdin = child.stdin.take();
    // Feed stdin from another thread: a child that prints before it reads would otherwise
    // deadlock against us on full pipes.
    thread::scope(|scope| {
        if let Some(mut pipe) = child_stdin {
            scope.spawn(move || {
                // A plugin may exit without reading stdin; EPIPE here is not our failure.
                let _ = pipe.write_all(stdin);
            });
        }
        child.wait_with_output()
    })
}

/// libcni's `pluginErr`: the plugin's error object if it printed one, else its stderr.
fn failure(output: Output) -> Error {
    if output.stdout.is_empty() {
        if output.stderr.is_empty() {
            return Error::DelegateSilent(output.status);
        }
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        return Error::DelegateStderr {
            stderr,
            status: output.status,
        };
    }
    let garbled = |reason: String| Error::DelegateGarbled {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        reason,
    };
    match serde_json::from_slice(&output.stdout) {
        Ok(value) => match CniError::from_json(&value) {
            Some(err) => Error::Delegate(err),
            None => garbled("not a CNI error object".to_owned()),
        },
        Err(e) => garbled(e.to_string()),
    }
}
