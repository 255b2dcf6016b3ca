//! Running the firewall tools (`nft`, `iptables`, `ip6tables` and their `-save`/`-restore`).
//!
//! Each call is one exec with arguments passed directly (no shell) and any ruleset written to
//! the tool's stdin, so a whole change is one atomic transaction. The tool runs in the
//! plugin's own network namespace, which for a CNI plugin is the node's. These are off the
//! hot path: nothing here runs unless `ipMasq` or `macspoofchk` is set.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::error::{Error, Result};

/// Runs `tool args`, feeding `stdin`, and returns its output whatever the exit status.
/// `Err(ToolMissing)` when the program is not installed.
pub(crate) fn run_raw(tool: &'static str, args: &[&str], stdin: &[u8]) -> Result<Output> {
    let spawned = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Error::ToolMissing(tool)),
        Err(e) => {
            return Err(Error::Firewall {
                tool,
                action: args.join(" "),
                detail: e.to_string(),
            });
        }
    };
    if let Some(mut pipe) = child.stdin.take() {
        // Rulesets are small (well under a pipe buffer), so writing before reading is safe; a
        // tool that exits without reading gives EPIPE, which its exit status then explains.
        let _ = pipe.write_all(stdin);
    }
    child.wait_with_output().map_err(|e| Error::Firewall {
        tool,
        action: args.join(" "),
        detail: e.to_string(),
    })
}

/// Runs `tool args` and returns stdout; a non-zero exit is an error carrying stderr.
pub(crate) fn run(tool: &'static str, args: &[&str], stdin: &[u8], action: &str) -> Result<String> {
    let out = run_raw(tool, args, stdin)?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    Err(Error::Firewall {
        tool,
        action: action.to_owned(),
        detail: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    })
}
