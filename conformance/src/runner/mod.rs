//! The runner: what a container runtime does with a network configuration list, done as
//! libcni does it (libcni/api.go, conf.go; cni-reference.md §1.10), so plugins are judged by
//! the calls they really get on a node.
//!
//! - [`NetworkConfigList`]: conflists and legacy `.conf` files, `cniVersions` negotiation;
//! - [`Runtime`]: ADD down the chain with `prevResult`, the result cache, DEL up the chain
//!   with the cached result, CHECK, STATUS, GC with its synthesised DELs, VERSION and
//!   validation, each plugin exec'd inside a node namespace with libcni's environment;
//! - [`RuntimeConf`]: per-attachment arguments, with the `CNI_ARGS` kubelet and Multus build;
//! - runtime quirks: [`NetnsHolder`] for `/proc/<pid>/ns/net`, podman's and libcni's VERSION
//!   with `CNI_NETNS=dummy` ([`Runtime::version_info`]), containerd's second DEL with an empty
//!   `CNI_NETNS` and its parallel ADDs ([`Runtime::del_like_containerd`],
//!   [`Runtime::add_parallel`]), Multus's duplicated `CNI_ARGS` ([`RuntimeConf::through_multus`]).
//!
//! Not here: judging plugins (the `suite` does that); the runner only reports what happened.

mod attachment;
pub mod base64;
mod cache;
mod conflist;
mod exec;
mod inject;
mod netns;
mod verbs;
pub mod version;

pub use attachment::{GcAttachment, RuntimeConf};
pub use cache::{CachedAttachment, KIND_V1, ResultCache};
pub use conflist::{NetworkConfigList, PluginConfig};
pub use exec::{ExecRecord, interpret};
pub use inject::{OLD_ATTACHMENTS, VALID_ATTACHMENTS, build_bare, build_one, runtime_config};
pub use netns::{NetnsHolder, NetnsStyle};

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use cni_sandbox::{Invocation, Ns, PLUGIN_TIMEOUT};
use cni_spec::Command;
use serde_json::Value;

use crate::error::{ConformanceError, Result};

/// Which GC keys the runtime sends with a valid set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GcKeys {
    /// `cni.dev/valid-attachments` and `cni.dev/attachments`, as libcni sends (cni #1101).
    Both,
    /// Only the spec's `cni.dev/valid-attachments`.
    SpecOnly,
    /// Only `cni.dev/attachments`, the name the spec-v1.1.0 text had.
    OldOnly,
}

/// A runtime on one node: plugin directories, a result cache, and the node namespace the
/// plugins run in.
#[derive(Debug)]
pub struct Runtime {
    node: Ns,
    path: Vec<PathBuf>,
    cache: ResultCache,
    gc_keys: GcKeys,
    timeout: Duration,
    trace: Mutex<Vec<ExecRecord>>,
}

impl Runtime {
    /// A runtime running plugins found in `path` (in order, like `CNI_PATH`) inside `node`,
    /// caching results under `cache_dir`.
    pub fn new(node: &Ns, path: Vec<PathBuf>, cache_dir: impl Into<PathBuf>) -> Runtime {
        Runtime {
            node: node.clone(),
            path,
            cache: ResultCache::new(cache_dir),
            gc_keys: GcKeys::Both,
            timeout: PLUGIN_TIMEOUT,
            trace: Mutex::new(Vec::new()),
        }
    }

    /// Sends these GC keys from now on.
    pub fn with_gc_keys(mut self, keys: GcKeys) -> Runtime {
        self.gc_keys = keys;
        self
    }

    /// Bounds each plugin exec.
    pub fn with_timeout(mut self, timeout: Duration) -> Runtime {
        self.timeout = timeout;
        self
    }

    /// The node namespace plugins run in.
    pub fn node(&self) -> &Ns {
        &self.node
    }

    /// The result cache.
    pub fn cache(&self) -> &ResultCache {
        &self.cache
    }

    /// `CNI_PATH`: the plugin directories joined with `:`.
    pub fn cni_path(&self) -> String {
        self.path
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(":")
    }

    /// The binary for `plugin_type`: the first executable of that name in the path
    /// (libcni `FindInPath`; a name with `/` is refused).
    pub fn find(&self, plugin_type: &str) -> Result<PathBuf> {
        find_in_path(plugin_type, &self.path)
    }

    /// The exec libcni would make: all six `CNI_*` variables (empty when not applicable), the
    /// joined plugin path, a fixed `PATH`, and `stdin`. Cases may alter it before [`Self::run`].
    pub fn invocation(
        &self,
        plugin_type: &str,
        verb: Command,
        rt: &RuntimeConf,
        stdin: &[u8],
    ) -> Result<Invocation> {
        Ok(Invocation::new(self.find(plugin_type)?, verb.as_str())
            .container_id(&rt.container_id)
            .netns(&rt.netns)
            .ifname(&rt.ifname)
            .args(&rt.cni_args())
            .cni_path(&self.cni_path())
            .stdin(stdin.to_vec())
            .timeout(self.timeout))
    }

    /// Runs an invocation in the node namespace and records it. `stdin` must be what the
    /// invocation carries (kept for the record).
    pub fn run(&self, plugin_type: &str, inv: &Invocation, stdin: &[u8]) -> Result<ExecRecord> {
        let record = exec::run(&self.node, plugin_type, inv, stdin)?;
        self.trace
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record.clone());
        Ok(record)
    }

    /// One plugin exec with libcni's environment and `conf` on stdin, read as libcni reads it.
    pub fn exec(
        &self,
        plugin_type: &str,
        verb: Command,
        rt: &RuntimeConf,
        conf: &Value,
    ) -> Result<Option<Value>> {
        let stdin = conf.to_string().into_bytes();
        let inv = self.invocation(plugin_type, verb, rt, &stdin)?;
        let record = self.run(plugin_type, &inv, &stdin)?;
        interpret(plugin_type, verb, &record.run)
    }

    /// Every exec so far, oldest first.
    pub fn trace(&self) -> Vec<ExecRecord> {
        self.trace.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The last `n` execs as text, for failure messages.
    pub fn trace_tail(&self, n: usize) -> String {
        let trace = self.trace();
        let skip = trace.len().saturating_sub(n);
        trace[skip..]
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// libcni `FindInPath`.
pub fn find_in_path(plugin_type: &str, path: &[PathBuf]) -> Result<PathBuf> {
    let not_found = || ConformanceError::NotFound {
        plugin: plugin_type.to_owned(),
        path: path.to_vec(),
    };
    if plugin_type.is_empty() || plugin_type.contains('/') {
        return Err(not_found());
    }
    path.iter()
        .map(|dir| dir.join(plugin_type))
        .find(|p| is_executable(p))
        .ok_or_else(not_found)
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
