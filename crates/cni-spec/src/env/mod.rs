//! The `CNI_*` environment: the verb, and the validated names the runtime hands a plugin.
//!
//! Reads from an [`Environment`] value, never from `std::env` directly, so tests inject a map.
//! Which variables each verb requires, and the order problems are reported in, follow Go's skel
//! (`getCmdArgsFromEnv`): a present-but-invalid container ID or ifname is reported as soon as it
//! is seen, missing variables together at the end.
//! Not here: `CNI_ARGS` parsing (`args`) and stdin (`config`).

mod names;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

pub(crate) use names::is_cni_name;
pub use names::{ContainerId, IfName, NetnsPath};

use crate::CniError;
use crate::args::CniArgs;
use crate::error::Error;

/// A CNI verb (`CNI_COMMAND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// Attach a container.
    Add,
    /// Detach a container; must succeed when things are already gone.
    Del,
    /// Verify an attachment (0.4.0+).
    Check,
    /// Report supported versions.
    Version,
    /// Report whether ADD could succeed (1.1.0+).
    Status,
    /// Remove resources of attachments not in the valid set (1.1.0+).
    Gc,
}

impl Command {
    /// The `CNI_COMMAND` spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Command::Add => "ADD",
            Command::Del => "DEL",
            Command::Check => "CHECK",
            Command::Version => "VERSION",
            Command::Status => "STATUS",
            Command::Gc => "GC",
        }
    }

    /// Parses `CNI_COMMAND`; case-sensitive like skel. Unknown -> code 4.
    pub fn parse(s: &str) -> Result<Command, CniError> {
        [
            Command::Add,
            Command::Del,
            Command::Check,
            Command::Version,
            Command::Status,
            Command::Gc,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
        .ok_or_else(|| Error::UnknownCommand(s.to_owned()).into())
    }

    /// Whether skel requires `var` for this verb (cni-reference.md §1.2, skel's table).
    fn requires(self, var: &str) -> bool {
        match var {
            "CNI_CONTAINERID" | "CNI_IFNAME" => {
                matches!(self, Command::Add | Command::Del | Command::Check)
            }
            "CNI_NETNS" => matches!(self, Command::Add | Command::Check),
            "CNI_PATH" => !matches!(self, Command::Version),
            _ => false,
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A process environment as name/value pairs, kept whole so delegation can pass it on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: Vec<(OsString, OsString)>,
}

impl Environment {
    /// This process's environment.
    pub fn from_process() -> Environment {
        Environment {
            vars: std::env::vars_os().collect(),
        }
    }

    /// An environment from pairs (tests, or a runtime embedding a plugin).
    pub fn from_pairs<I, K, V>(pairs: I) -> Environment
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        Environment {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value of `name`; the last definition wins, as with `setenv`.
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        let name = OsStr::new(name);
        self.vars
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_os_str())
    }

    /// The value of `name` as text; `None` when unset or empty (skel treats both as missing).
    pub fn get_text(&self, name: &str) -> Option<String> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .map(|v| v.to_string_lossy().into_owned())
    }

    /// All pairs, in order.
    pub fn vars(&self) -> &[(OsString, OsString)] {
        &self.vars
    }
}

/// The validated `CNI_*` variables of one invocation.
#[derive(Debug, Clone)]
pub struct CniEnv {
    /// `CNI_COMMAND`.
    pub command: Command,
    /// `CNI_CONTAINERID`; always `Some` for ADD/DEL/CHECK.
    pub container_id: Option<ContainerId>,
    /// `CNI_NETNS`; always `Some` for ADD/CHECK.
    pub netns: Option<NetnsPath>,
    /// `CNI_IFNAME`; always `Some` for ADD/DEL/CHECK.
    pub ifname: Option<IfName>,
    /// `CNI_ARGS`, parsed.
    pub args: CniArgs,
    /// `CNI_PATH` split on `:`, empty entries dropped (an empty entry would mean the cwd).
    pub path: Vec<PathBuf>,
}

impl CniEnv {
    /// Reads and validates the variables `command` needs from `env`.
    pub fn parse(command: Command, env: &Environment) -> Result<CniEnv, CniError> {
        // skel validates a present container ID or ifname as it reads it, and reports the
        // missing variables together afterwards; so validation errors come first.
        let container_id = validated(command, env, "CNI_CONTAINERID", ContainerId::parse)?;
        let ifname = validated(command, env, "CNI_IFNAME", IfName::parse)?;
        let missing: Vec<&'static str> = ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"]
            .into_iter()
            .filter(|name| command.requires(name) && env.get_text(name).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(Error::MissingEnv(missing).into());
        }
        Ok(CniEnv {
            command,
            container_id,
            netns: env.get("CNI_NETNS").and_then(NetnsPath::new),
            ifname,
            args: CniArgs::parse(&env.get_text("CNI_ARGS").unwrap_or_default())?,
            path: split_path(env.get("CNI_PATH")),
        })
    }
}

/// The variable `name` parsed with `parse`: an invalid value is an error only when the verb
/// requires the variable (skel ignores the others; so do we, as `None`).
fn validated<T>(
    command: Command,
    env: &Environment,
    name: &str,
    parse: fn(&str) -> Result<T, CniError>,
) -> Result<Option<T>, CniError> {
    match env.get_text(name) {
        Some(value) if command.requires(name) => parse(&value).map(Some),
        Some(value) => Ok(parse(&value).ok()),
        None => Ok(None),
    }
}

/// Splits `CNI_PATH` on `:` (Linux `filepath.SplitList`), dropping empty entries.
fn split_path(value: Option<&OsStr>) -> Vec<PathBuf> {
    value
        .map(|v| {
            v.as_bytes()
                .split(|b| *b == b':')
                .filter(|dir| !dir.is_empty())
                .map(|dir| PathBuf::from(OsStr::from_bytes(dir)))
                .collect()
        })
        .unwrap_or_default()
}
