//! One plugin exec and how a runtime reads what came back (cni:pkg/invoke `raw_exec.go`,
//! `exec.go`): exit 0 with a result on stdout for ADD, exit non-zero with a CNI error object on
//! stdout, and libcni's fallbacks when the plugin broke the protocol.
//!
//! Every exec is kept as an [`ExecRecord`], so a failed case can show what was sent and what
//! came back.

use std::fmt;
use std::thread;
use std::time::Duration;

use cni_sandbox::{Invocation, Ns, PluginRun, SandboxError};
use cni_spec::Command;
use serde_json::Value;

use crate::error::{ConformanceError, Result};

/// libcni retries an exec that fails with "text file busy" (a binary still being written,
/// e.g. just installed by a DaemonSet): five tries, a second apart (cni:pkg/invoke).
const ETXTBSY_TRIES: usize = 5;

/// One exec: what the runtime sent and what the plugin did.
#[derive(Debug, Clone)]
pub struct ExecRecord {
    /// The plugin `type`.
    pub plugin: String,
    /// `CNI_COMMAND`.
    pub verb: String,
    /// The `CNI_*` variables as set (unset ones absent).
    pub cni_env: Vec<(String, String)>,
    /// Stdin, lossily decoded.
    pub stdin: String,
    /// What happened.
    pub run: PluginRun,
}

impl fmt::Display for ExecRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: Vec<String> = self
            .cni_env
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        writeln!(f, "  {} {}: {}", self.verb, self.plugin, env.join(" "))?;
        writeln!(f, "    stdin:  {}", self.stdin.trim_end())?;
        writeln!(f, "    exit:   {}", self.run.status)?;
        writeln!(f, "    stdout: {}", self.run.stdout.trim_end())?;
        write!(f, "    stderr: {}", self.run.stderr.trim_end())
    }
}

/// Runs `inv` (whose stdin is `stdin`) in `node`, retrying on ETXTBSY like libcni, and
/// records it.
pub(crate) fn run(node: &Ns, plugin: &str, inv: &Invocation, stdin: &[u8]) -> Result<ExecRecord> {
    let mut tries = 0;
    let run = loop {
        match node.run_plugin(inv) {
            Err(SandboxError::Spawn { source, .. })
                if source.raw_os_error() == Some(libc_etxtbsy()) && tries + 1 < ETXTBSY_TRIES =>
            {
                tries += 1;
                thread::sleep(Duration::from_secs(1));
            }
            other => break other?,
        }
    };
    let env = inv.environment();
    let verb = env
        .iter()
        .find(|(k, _)| k == "CNI_COMMAND")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    Ok(ExecRecord {
        plugin: plugin.to_owned(),
        verb,
        cni_env: env
            .into_iter()
            .filter(|(k, _)| k.starts_with("CNI_"))
            .collect(),
        stdin: String::from_utf8_lossy(stdin).into_owned(),
        run,
    })
}

/// ETXTBSY without a libc dependency: 26 on every Linux architecture.
const fn libc_etxtbsy() -> i32 {
    26
}

/// What a runtime makes of a finished exec: `Ok(stdout JSON)` on exit 0 (`None` if stdout is
/// empty), or the plugin's error. Like libcni, a failure without a parsable error object is
/// still an error, with stderr or the raw stdout quoted.
pub fn interpret(plugin: &str, verb: Command, run: &PluginRun) -> Result<Option<Value>> {
    if run.success() {
        if run.stdout.trim().is_empty() {
            return Ok(None);
        }
        return match &run.result {
            Some(v) => Ok(Some(v.clone())),
            None => Err(ConformanceError::Output {
                plugin: plugin.to_owned(),
                verb,
                detail: format!("succeeded but stdout is not JSON: {:?}", run.stdout),
            }),
        };
    }
    if run.stdout.trim().is_empty() {
        return Err(ConformanceError::Output {
            plugin: plugin.to_owned(),
            verb,
            detail: format!(
                "netplugin failed (exit {}) with nothing on stdout; stderr: {:?}",
                run.status, run.stderr
            ),
        });
    }
    let Some(Value::Object(obj)) = &run.error else {
        return Err(ConformanceError::Output {
            plugin: plugin.to_owned(),
            verb,
            detail: format!(
                "netplugin failed but error parsing its diagnostic message {:?}",
                run.stdout
            ),
        });
    };
    let text = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Err(ConformanceError::Plugin {
        plugin: plugin.to_owned(),
        verb,
        code: obj.get("code").and_then(Value::as_u64),
        msg: text("msg"),
        details: text("details"),
    })
}
