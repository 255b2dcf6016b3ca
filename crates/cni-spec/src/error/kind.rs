//! This crate's own failures, and the one place they become CNI codes.
//!
//! Messages follow Go's skel, libcni and `types.LoadArgs` word for word where those exist,
//! because runtimes and users grep for them.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;

use super::{CniError, ErrorCode};
use crate::{Command, SpecVersion};

/// Everything that can go wrong inside this crate.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Variables the verb needs are unset or empty (names in skel's order).
    #[error("required env variables [{}] missing", .0.join(","))]
    MissingEnv(Vec<&'static str>),
    /// `CNI_COMMAND` names no verb.
    #[error("unknown CNI_COMMAND: {0}")]
    UnknownCommand(String),
    /// `CNI_CONTAINERID` does not match `^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`.
    #[error("invalid characters in containerID")]
    InvalidContainerId(String),
    /// `CNI_IFNAME` is a name the kernel refuses; `reason` is Go's wording.
    #[error("{reason}")]
    InvalidIfName {
        /// What is wrong, e.g. "interface name is too long".
        reason: &'static str,
        /// Extra text Go puts in `details`.
        details: String,
    },
    /// A `CNI_ARGS` pair without `=`.
    #[error("ARGS: invalid pair {0:?}")]
    InvalidArgsPair(String),
    /// `CNI_ARGS` pairs whose keys the plugin does not know, without `IgnoreUnknown`.
    #[error("ARGS: unknown args {}", go_quote_list(.0))]
    UnknownArgs(Vec<String>),
    /// Reading stdin failed.
    #[error("error reading from stdin: {0}")]
    ReadStdin(#[source] io::Error),
    /// stdin is not JSON at all.
    #[error("error unmarshall network config: {0}")]
    NotJson(#[source] serde_json::Error),
    /// The JSON is valid but a key has the wrong type or a required key is missing; the
    /// message names the key path.
    #[error("{0}")]
    Config(String),
    /// The config has no `name` (or an empty one).
    #[error("missing network name")]
    MissingNetworkName,
    /// The config's `name` has characters outside the container-ID set.
    #[error("invalid characters found in network name")]
    InvalidNetworkName(String),
    /// The config's `cniVersion` is not one of [`SpecVersion::ALL`].
    #[error("incompatible CNI versions")]
    IncompatibleVersion(String),
    /// The config's version predates the verb (CHECK < 0.4.0, STATUS/GC < 1.1.0).
    #[error("config version does not allow {0}")]
    VerbNotAllowed(Command),
    /// A result object (prevResult, or one given to `CniResult::from_json`) is malformed.
    #[error("{0}")]
    InvalidResult(String),
    /// `prevResult` in the config is malformed.
    #[error("failed to parse prevResult: {0}")]
    PrevResult(String),
    /// A result cannot be expressed in the config's version (0.1.0/0.2.0 need an address).
    #[error("cannot convert: no valid IP addresses")]
    NoAddressForLegacy,
    /// Serialising our own output failed (should not happen; kept rather than unwrapped).
    #[error("failed to encode output: {0}")]
    Encode(#[source] serde_json::Error),
    /// The delegated plugin's name is empty (e.g. `"ipam": {}` reached delegation).
    #[error("no plugin name provided")]
    NoPluginName,
    /// The delegated plugin's name contains `/`: it would escape `CNI_PATH`.
    #[error("invalid plugin name: {0}")]
    InvalidPluginName(String),
    /// `CNI_PATH` holds no directory to search.
    #[error("no paths provided")]
    NoPaths,
    /// No regular file with the plugin's name in any `CNI_PATH` directory.
    #[error("failed to find plugin {name:?} in path {}", go_path_list(.dirs))]
    PluginNotFound {
        /// The plugin name searched for.
        name: String,
        /// The directories searched, in order.
        dirs: Vec<PathBuf>,
    },
    /// The delegated plugin could not be started.
    #[error("failed to run plugin {}: {source}", .path.display())]
    Spawn {
        /// The executable.
        path: PathBuf,
        /// Why exec failed.
        #[source]
        source: io::Error,
    },
    /// The delegate failed, printed nothing on stdout, and something on stderr.
    #[error("netplugin failed: {stderr:?}: {status}")]
    DelegateStderr {
        /// Its stderr, lossily decoded.
        stderr: String,
        /// How it exited.
        status: ExitStatus,
    },
    /// The delegate failed and printed nothing at all.
    #[error("netplugin failed with no error message: {0}")]
    DelegateSilent(ExitStatus),
    /// The delegate failed and its stdout is not a CNI error object.
    #[error("netplugin failed but error parsing its diagnostic message {stdout:?}: {reason}")]
    DelegateGarbled {
        /// Its stdout, lossily decoded.
        stdout: String,
        /// Why it did not parse.
        reason: String,
    },
    /// The delegate's own CNI error, passed up with its code unchanged.
    #[error("{0}")]
    Delegate(CniError),
    /// The delegate succeeded but its stdout is not a result.
    #[error("failed to parse result of plugin {plugin:?}: {reason}")]
    DelegateOutput {
        /// The plugin name.
        plugin: String,
        /// Why it did not parse.
        reason: String,
    },
    /// A verb panicked; the dispatcher caught it.
    #[error("plugin panicked: {0}")]
    Panic(String),
}

impl From<Error> for CniError {
    fn from(err: Error) -> CniError {
        use Error as E;
        let msg = err.to_string();
        let (code, details) = match err {
            E::Delegate(inner) => return inner,
            E::MissingEnv(_) | E::UnknownCommand(_) | E::InvalidArgsPair(_) | E::UnknownArgs(_) => {
                (ErrorCode::InvalidEnvironment, String::new())
            }
            E::InvalidContainerId(id) => (ErrorCode::InvalidEnvironment, id),
            E::InvalidIfName { details, .. } => (ErrorCode::InvalidEnvironment, details),
            E::ReadStdin(_) => (ErrorCode::Io, String::new()),
            E::NotJson(_) => (ErrorCode::Decode, String::new()),
            E::Config(_) | E::MissingNetworkName | E::InvalidResult(_) | E::PrevResult(_) => {
                (ErrorCode::InvalidConfig, String::new())
            }
            E::InvalidNetworkName(name) => (ErrorCode::InvalidConfig, name),
            E::IncompatibleVersion(config) => (
                ErrorCode::IncompatibleVersion,
                format!(
                    "config is {config:?}, plugin supports {}",
                    go_quote_list(SpecVersion::ALL.iter().map(|v| v.as_str()))
                ),
            ),
            E::VerbNotAllowed(_) => (ErrorCode::IncompatibleVersion, String::new()),
            // Go's skel turns every untyped plugin error into 999; these are those errors.
            E::NoAddressForLegacy
            | E::Encode(_)
            | E::NoPluginName
            | E::InvalidPluginName(_)
            | E::NoPaths
            | E::PluginNotFound { .. }
            | E::Spawn { .. }
            | E::DelegateStderr { .. }
            | E::DelegateSilent(_)
            | E::DelegateGarbled { .. }
            | E::DelegateOutput { .. }
            | E::Panic(_) => (ErrorCode::Internal, String::new()),
        };
        CniError { code, msg, details }
    }
}

/// Formats strings the way Go's `%q` formats a `[]string`: `["a" "b"]`.
fn go_quote_list<I, S>(items: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let quoted: Vec<String> = items
        .into_iter()
        .map(|s| format!("{:?}", s.as_ref()))
        .collect();
    format!("[{}]", quoted.join(" "))
}

/// Formats directories the way Go's `%s` formats a `[]string`: `[/a /b]`.
fn go_path_list(dirs: &[PathBuf]) -> String {
    let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    format!("[{}]", shown.join(" "))
}
