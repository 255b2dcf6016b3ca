//! Running a CNI plugin binary the way a container runtime on a node would.
//!
//! libcni execs the plugin from the node's host namespace with all six `CNI_*` variables set
//! (empty when not applicable, e.g. `CNI_NETNS=` for GC and STATUS) on top of the runtime's own
//! environment, the network config on stdin, and reads the result or error JSON from stdout
//! (cni:pkg/invoke/args.go, raw_exec.go). [`Invocation`] models that, and also lets a test
//! unset a variable or send garbage, which a runtime never does but a plugin must survive.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::error::Result;
use crate::netns::Ns;
use crate::process::{self, DEFAULT_PATH, Spec};

/// Default bound on one plugin run; a hung plugin is killed with its process group.
pub const PLUGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The six variables of the CNI protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CniVar {
    /// `CNI_COMMAND`: ADD, DEL, CHECK, GC, STATUS or VERSION.
    Command,
    /// `CNI_CONTAINERID`.
    ContainerId,
    /// `CNI_NETNS`: path of the pod's network namespace.
    Netns,
    /// `CNI_IFNAME`: interface name to create inside the pod.
    IfName,
    /// `CNI_ARGS`: `K=V;K=V` extra arguments.
    Args,
    /// `CNI_PATH`: colon-separated directories to find delegated plugins (IPAM) in.
    Path,
}

impl CniVar {
    /// All six, in the order the spec lists them.
    pub const ALL: [CniVar; 6] = [
        CniVar::Command,
        CniVar::ContainerId,
        CniVar::Netns,
        CniVar::IfName,
        CniVar::Args,
        CniVar::Path,
    ];

    /// The environment variable's name.
    pub fn env_name(self) -> &'static str {
        match self {
            CniVar::Command => "CNI_COMMAND",
            CniVar::ContainerId => "CNI_CONTAINERID",
            CniVar::Netns => "CNI_NETNS",
            CniVar::IfName => "CNI_IFNAME",
            CniVar::Args => "CNI_ARGS",
            CniVar::Path => "CNI_PATH",
        }
    }
}

/// One exec of a plugin binary: its environment, stdin and time bound.
#[derive(Debug, Clone)]
pub struct Invocation {
    binary: PathBuf,
    cni: BTreeMap<CniVar, Option<String>>,
    extra_env: BTreeMap<String, String>,
    stdin: Vec<u8>,
    timeout: Duration,
}

impl Invocation {
    /// An invocation of `binary` with `CNI_COMMAND=command`, the other five variables set but
    /// empty, except `CNI_PATH` which is the binary's own directory (where its IPAM plugin
    /// usually sits). Stdin is empty; `PATH` is [`DEFAULT_PATH`].
    pub fn new(binary: impl Into<PathBuf>, command: &str) -> Self {
        let binary = binary.into();
        let mut cni: BTreeMap<CniVar, Option<String>> = CniVar::ALL
            .iter()
            .map(|v| (*v, Some(String::new())))
            .collect();
        cni.insert(CniVar::Command, Some(command.to_owned()));
        let dir = binary.parent().map(|d| d.to_string_lossy().into_owned());
        cni.insert(CniVar::Path, dir);
        Self {
            binary,
            cni,
            extra_env: BTreeMap::from([("PATH".to_owned(), DEFAULT_PATH.to_owned())]),
            stdin: Vec::new(),
            timeout: PLUGIN_TIMEOUT,
        }
    }

    /// A verb on one attachment, as a runtime sends ADD, CHECK and DEL: `CNI_CONTAINERID`
    /// `id`, `CNI_IFNAME` `ifname`, `config` on stdin, and `CNI_NETNS` the path of `pod` when
    /// there is one (a DEL may come with none).
    pub fn attachment(
        binary: impl Into<PathBuf>,
        command: &str,
        config: &Value,
        pod: Option<&Ns>,
        id: &str,
        ifname: &str,
    ) -> Self {
        let inv = Invocation::new(binary, command)
            .container_id(id)
            .ifname(ifname)
            .config(config);
        match pod {
            Some(pod) => inv.netns(pod.path()),
            None => inv,
        }
    }

    /// The same invocation with another `CNI_COMMAND` (e.g. DEL after ADD).
    pub fn command(self, command: &str) -> Self {
        self.set(CniVar::Command, command)
    }

    /// Sets `CNI_CONTAINERID`.
    pub fn container_id(self, id: &str) -> Self {
        self.set(CniVar::ContainerId, id)
    }

    /// Sets `CNI_NETNS` to a path (usually [`Ns::path`] of a pod namespace).
    pub fn netns(self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_string_lossy().into_owned();
        self.set(CniVar::Netns, &path)
    }

    /// Sets `CNI_IFNAME`.
    pub fn ifname(self, name: &str) -> Self {
        self.set(CniVar::IfName, name)
    }

    /// Sets `CNI_ARGS`.
    pub fn args(self, args: &str) -> Self {
        self.set(CniVar::Args, args)
    }

    /// Sets `CNI_PATH`.
    pub fn cni_path(self, path: &str) -> Self {
        self.set(CniVar::Path, path)
    }

    /// Sets any CNI variable (to empty too: `set(CniVar::Netns, "")`).
    pub fn set(mut self, var: CniVar, value: &str) -> Self {
        self.cni.insert(var, Some(value.to_owned()));
        self
    }

    /// Removes a CNI variable from the environment entirely (not even empty).
    pub fn unset(mut self, var: CniVar) -> Self {
        self.cni.insert(var, None);
        self
    }

    /// Adds or replaces another environment variable (`PATH` included). A `CNI_*` name set
    /// here is ignored: use [`Invocation::set`] so there is one source of truth for those.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.extra_env.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Raw stdin bytes.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = bytes.into();
        self
    }

    /// Stdin as the serialisation of a JSON config.
    pub fn config(self, config: &Value) -> Self {
        self.stdin(config.to_string())
    }

    /// The time bound (default [`PLUGIN_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The binary this invocation runs.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The complete environment the plugin will see, sorted by name.
    pub fn environment(&self) -> Vec<(String, String)> {
        let cni_names: Vec<&str> = CniVar::ALL.iter().map(|v| v.env_name()).collect();
        let mut env: BTreeMap<String, String> = self
            .extra_env
            .iter()
            .filter(|(k, _)| !cni_names.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (var, value) in &self.cni {
            if let Some(v) = value {
                env.insert(var.env_name().to_owned(), v.clone());
            }
        }
        env.into_iter().collect()
    }
}

impl Ns {
    /// Execs the plugin with this namespace as the node's host namespace: the child enters it
    /// between fork and exec, starts from an empty environment plus
    /// [`Invocation::environment`], reads the stdin bytes, and is killed with its process group
    /// after the timeout (an `Err(Timeout)` carrying what it printed).
    pub fn run_plugin(&self, inv: &Invocation) -> Result<PluginRun> {
        let env = inv
            .environment()
            .into_iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect();
        let spec = Spec {
            argv: vec![inv.binary.clone().into_os_string()],
            netns: Some(self.path()),
            env,
            stdin: &inv.stdin,
            timeout: inv.timeout,
        };
        let out = process::run(&spec)?;
        Ok(PluginRun::from_output(spec.display(), out))
    }
}

/// What one plugin run did.
#[derive(Debug, Clone)]
pub struct PluginRun {
    /// The command line, for messages.
    pub cmd: String,
    /// Exit code; `128 + signal` if a signal ended it (as shells report it).
    pub status: i32,
    /// Stdout, lossily decoded.
    pub stdout: String,
    /// Stderr, lossily decoded.
    pub stderr: String,
    /// Stdout parsed as JSON when the plugin succeeded and printed JSON.
    pub result: Option<Value>,
    /// Stdout parsed as JSON when the plugin failed and printed JSON (the CNI error object).
    pub error: Option<Value>,
}

impl PluginRun {
    fn from_output(cmd: String, out: std::process::Output) -> Self {
        use std::os::unix::process::ExitStatusExt;
        let status = out
            .status
            .code()
            .or_else(|| out.status.signal().map(|s| 128 + s))
            .unwrap_or(-1);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let json: Option<Value> = serde_json::from_str(&stdout).ok();
        let (result, error) = if status == 0 {
            (json, None)
        } else {
            (None, json)
        };
        Self {
            cmd,
            status,
            stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            result,
            error,
        }
    }

    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.status == 0
    }

    /// The CNI error code, if the plugin printed an error object.
    pub fn error_code(&self) -> Option<u64> {
        self.error.as_ref()?.get("code")?.as_u64()
    }

    /// Asserts success; panics with stdout and stderr otherwise. Returns `self` to chain.
    #[track_caller]
    pub fn expect_ok(self) -> Self {
        assert!(self.success(), "plugin failed, expected success:\n{self}");
        self
    }

    /// Asserts success with a JSON result on stdout, and returns the result.
    #[track_caller]
    pub fn expect_result(self) -> Value {
        let run = self.expect_ok();
        match run.result {
            Some(v) => v,
            None => panic!("plugin succeeded but printed no JSON result:\n{run}"),
        }
    }

    /// Asserts failure with a CNI error object whose `code` is `code`, and returns that object.
    #[track_caller]
    pub fn expect_err(self, code: u64) -> Value {
        assert!(
            !self.success(),
            "plugin succeeded, expected error {code}:\n{self}"
        );
        assert_eq!(
            self.error_code(),
            Some(code),
            "wrong or missing CNI error code:\n{self}"
        );
        self.error.unwrap_or_default()
    }
}

impl fmt::Display for PluginRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  command: {}", self.cmd)?;
        writeln!(f, "  exit:    {}", self.status)?;
        writeln!(f, "  stdout:  {}", self.stdout.trim_end())?;
        write!(f, "  stderr:  {}", self.stderr.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_set_all_six_like_libcni() {
        let env = Invocation::new("/opt/cni/bin/bridge", "ADD").environment();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("CNI_COMMAND"), Some("ADD"));
        assert_eq!(get("CNI_PATH"), Some("/opt/cni/bin"));
        for k in ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS"] {
            assert_eq!(get(k), Some(""), "{k}");
        }
        assert_eq!(get("PATH"), Some(DEFAULT_PATH));
        assert_eq!(env.len(), 7);
    }

    #[test]
    fn unset_removes_and_env_cannot_shadow_cni_vars() {
        let env = Invocation::new("/x/p", "DEL")
            .unset(CniVar::Netns)
            .env("CNI_NETNS", "/sneaky")
            .env("FOO", "bar")
            .environment();
        assert!(env.iter().all(|(k, _)| k != "CNI_NETNS"));
        assert!(env.contains(&("FOO".to_owned(), "bar".to_owned())));
    }

    #[test]
    fn error_json_goes_to_error_on_failure() {
        let out = std::process::Output {
            status: std::os::unix::process::ExitStatusExt::from_raw(1 << 8),
            stdout: br#"{"code":7,"msg":"bad"}"#.to_vec(),
            stderr: Vec::new(),
        };
        let run = PluginRun::from_output("p".into(), out);
        assert_eq!(run.status, 1);
        assert!(run.result.is_none());
        assert_eq!(run.error_code(), Some(7));
        assert_eq!(run.expect_err(7)["msg"], "bad");
    }
}
