//! Finding a plugin on `CNI_PATH` and running it, as libcni's `invoke` package does.
//!
//! The child gets exactly the environment it is given (in production: this process's whole
//! environment) with only `CNI_COMMAND` replaced, and the stdin bytes unchanged, so capability
//! arguments such as `runtimeConfig.ips` reach the IPAM plugin as the runtime sent them.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Output, Stdio};
use std::thread::{self, JoinHandle};
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
    let output = run(exe, command, environ, stdin).map_err(|source| spawn_error(exe, source))?;
    outcome(output)
}

/// A delegate running on a thread of its own while the caller does its work (the plugin
/// builds its links while IPAM runs); [`Running::finish`] collects the answer. The thread,
/// not the caller, starts the child: a spawn blocks its caller until the child has exec'd
/// (vfork), which on a busy node is milliseconds the caller can use. Dropped unfinished, it
/// still waits for the child, so no zombie outlives it.
#[derive(Debug)]
pub(crate) struct Running {
    /// The executable, for messages.
    exe: PathBuf,
    /// `None` once joined.
    worker: Option<JoinHandle<io::Result<Output>>>,
}

impl Running {
    /// Starts `exe` for `command` with `environ` (only `CNI_COMMAND` replaced) and `stdin`,
    /// and returns at once. A child that cannot be started is reported by
    /// [`Running::finish`].
    pub(crate) fn start(
        exe: &Path,
        command: Command,
        environ: &Environment,
        stdin: &[u8],
    ) -> Result<Running, CniError> {
        let (path, environ, stdin) = (exe.to_owned(), environ.clone(), stdin.to_vec());
        let worker = thread::Builder::new()
            .name("delegate".into())
            .spawn(move || run(&path, command, &environ, &stdin))
            .map_err(|source| spawn_error(exe, source))?;
        Ok(Running {
            exe: exe.to_owned(),
            worker: Some(worker),
        })
    }

    /// Waits for the child and returns its stdout on success, its error otherwise (see
    /// [`exec`]).
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, CniError> {
        let output = self
            .join()
            .map_err(|source| spawn_error(&self.exe, source))?;
        outcome(output)
    }

    fn join(&mut self) -> io::Result<Output> {
        let worker = self
            .worker
            .take()
            .ok_or_else(|| io::Error::other("delegate already waited for"))?;
        worker
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the delegate's thread panicked")))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.worker.is_some() {
            let _ = self.join();
        }
    }
}

/// Up to this many stdin bytes are written before the child's output is read: a pipe holds
/// at least one page whatever `pipe-user-pages-soft` says, so the write cannot block on a
/// child that prints before it reads. A CNI config is far smaller unless it carries a large
/// `prevResult`; a larger stdin is fed from a second thread.
const INLINE_STDIN: usize = 4096;

/// Starts the child (retrying "text file busy" as libcni does), feeds it `stdin`, and reads
/// stdout and stderr to their end (both at once, so a chatty child cannot block on a full
/// pipe) before reaping it.
fn run(exe: &Path, command: Command, environ: &Environment, stdin: &[u8]) -> io::Result<Output> {
    let mut attempt = 0;
    let mut child = loop {
        match spawn(exe, command, environ) {
            Err(e) if e.kind() == io::ErrorKind::ExecutableFileBusy && attempt < BUSY_RETRIES => {
                attempt += 1;
                thread::sleep(BUSY_PAUSE);
            }
            other => break other?,
        }
    };
    // A plugin may exit without reading stdin; EPIPE is not our failure, and its exit status
    // tells the rest. Dropping the pipe closes it: the child sees EOF.
    let pipe = child.stdin.take();
    if stdin.len() <= INLINE_STDIN {
        if let Some(mut pipe) = pipe {
            let _ = pipe.write_all(stdin);
        }
        return child.wait_with_output();
    }
    thread::scope(|scope| {
        if let Some(mut pipe) = pipe {
            scope.spawn(move || {
                let _ = pipe.write_all(stdin);
            });
        }
        child.wait_with_output()
    })
}

fn spawn(exe: &Path, command: Command, environ: &Environment) -> io::Result<Child> {
    let inherited = environ
        .vars()
        .iter()
        .filter(|(k, _)| k.as_os_str() != "CNI_COMMAND");
    Process::new(exe)
        .env_clear()
        .envs(inherited.map(|(k, v)| (k, v)))
        .env("CNI_COMMAND", command.as_str())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

fn spawn_error(exe: &Path, source: io::Error) -> CniError {
    let path = exe.to_owned();
    Error::Spawn { path, source }.into()
}

/// The delegate's stdout when it succeeded, its error otherwise.
fn outcome(output: Output) -> Result<Vec<u8>, CniError> {
    if output.status.success() {
        // Logging only; a closed stderr must not fail the call.
        let _ = io::stderr().write_all(&output.stderr);
        return Ok(output.stdout);
    }
    Err(failure(output).into())
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
