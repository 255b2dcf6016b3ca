//! CNI configs as a runtime hands them to each plugin, checked by each plugin's own loader.
//!
//! The runtime's part, done here as libcni and Multus do it: the list rules and the injection
//! of `name`/`cniVersion` (cni-install's [`Conflist`], shared with the installer); Multus's
//! `name` from the NAD's metadata when the config has none; `runtimeConfig` built from the
//! plugin's `capabilities` and the pod's request (libcni `injectRuntimeConfig`); a `prevResult`
//! for every plugin after the first in a chain.
//! The plugin's part: our plugins' library loaders (`cni_bridge::config::parse`,
//! `cni_macvlan::config::MacvlanConf::from_value`, `cni_vxlan::config::parse`,
//! `host_local::config::IpamConfig::load`),
//! and for the reference plugins the examples chain (`static`, `portmap`), the real binary
//! from /usr/lib/cni running ADD, which for them touches nothing outside the process.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use cni_bridge::config::BridgeConf;
use cni_install::conflist::Conflist;
use cni_macvlan::config::MacvlanConf;
use cni_spec::{CniArgs, NetConf, SpecVersion};
use cni_vxlan::config::VxlanConf;
use host_local::config::IpamConfig;
use serde_json::{Map, Value, json};

/// Our plugin types with a loader here. Every plugin binary in the workspace must be listed
/// (see `configs.rs`, `every_workspace_plugin_has_a_loader`).
pub const LOADERS: &[&str] = &["bridge", "macvlan", "vxlan", "host-local"];
/// Our plugin types whose crate is not in the workspace yet: their configs get every check
/// but the plugin's own keys. A test fails as soon as the crate appears and is still here.
pub const PENDING: &[&str] = &[];
/// Reference plugins the examples use, run from here.
pub const REFERENCE_DIR: &str = "/usr/lib/cni";
pub const REFERENCE: &[&str] = &["portmap", "static"];

/// The capability names of CONVENTIONS.md, each with the plugin types (main or IPAM) that
/// read it. A capability no plugin in the config reads is a mistake: libcni would pass it
/// and nothing would happen.
pub fn readers(capability: &str) -> Option<&'static [&'static str]> {
    Some(match capability {
        "portMappings" => &["portmap"],
        "ips" => &["host-local", "static"],
        "ipRanges" => &["host-local"],
        "mac" => &["macvlan", "bridge", "vxlan", "tuning"],
        "bandwidth" => &["bandwidth"],
        "dns" | "aliases" | "cgroupPath" | "infinibandGUID" | "deviceID" => &[],
        "io.kubernetes.cri.pod-annotations" => &[],
        _ => return None,
    })
}

/// What the runtime has for this pod and network (Multus: the pod's network selection).
#[derive(Debug, Clone, Default)]
pub struct RuntimeArgs {
    /// `ips` from the annotation.
    pub ips: Vec<String>,
    /// `mac` from the annotation.
    pub mac: Option<String>,
}

impl RuntimeArgs {
    fn get(&self, capability: &str) -> Option<Value> {
        match capability {
            "ips" if !self.ips.is_empty() => Some(json!(self.ips)),
            "mac" => self.mac.as_ref().map(|m| json!(m)),
            // The runtime always has port mappings (possibly none) for a pod.
            "portMappings" => Some(json!([])),
            _ => None,
        }
    }
}

/// One plugin of a config, loaded.
#[derive(Debug)]
pub enum Plugin {
    Bridge(BridgeConf),
    Macvlan(MacvlanConf),
    Vxlan(Box<VxlanConf>),
    /// A reference plugin: its ADD output.
    Reference(Value),
    /// Ours, not in the workspace yet: only the shared keys were checked.
    Pending,
}

/// The IPAM of a plugin, loaded.
#[derive(Debug)]
pub enum Ipam {
    HostLocal(Box<IpamConfig>),
    /// A reference IPAM plugin: its ADD output (the addresses it would give).
    Reference(Value),
}

/// A plugin as it was handed over and as its loaders read it.
#[derive(Debug)]
pub struct Loaded {
    pub conf: NetConf,
    pub plugin: Plugin,
    pub ipam: Option<Ipam>,
}

/// Loads a config (either shape) as the runtime runs it: every plugin and its IPAM through
/// their loaders. The error names the plugin and the loader's message.
pub fn load(config: &Value, runtime: &RuntimeArgs) -> Result<(Conflist, Vec<Loaded>), String> {
    let list = Conflist::from_value(config)?;
    let mut loaded = Vec::new();
    for (i, conf) in list.plugins.iter().enumerate() {
        let prev = (i > 0).then(|| prev_result(list.version));
        let conf = as_handed_over(conf, runtime, prev)?;
        let what = format!("plugins[{i}] ({})", conf.plugin_type);
        let plugin = load_plugin(&conf).map_err(|e| format!("{what}: {e}"))?;
        let ipam = load_ipam(&conf).map_err(|e| format!("{what} ipam: {e}"))?;
        loaded.push(Loaded { conf, plugin, ipam });
    }
    Ok((list, loaded))
}

/// The plugin's config with `runtimeConfig` and `prevResult` as libcni adds them.
fn as_handed_over(
    conf: &NetConf,
    runtime: &RuntimeArgs,
    prev: Option<Value>,
) -> Result<NetConf, String> {
    let mut raw = conf.raw.as_object().cloned().unwrap_or_default();
    let mut runtime_config = Map::new();
    if let Some(caps) = raw.get("capabilities") {
        let caps = caps
            .as_object()
            .ok_or("\"capabilities\" is not an object")?;
        for (name, on) in caps {
            if on != &Value::Bool(true) {
                return Err(format!("capability {name:?} is {on}, not true"));
            }
            let readers = readers(name).ok_or_else(|| format!("unknown capability {name:?}"))?;
            let here = [Some(conf.plugin_type.as_str()), conf.ipam_type()];
            if !readers.is_empty() && !here.iter().flatten().any(|t| readers.contains(t)) {
                return Err(format!(
                    "capability {name:?}: neither {} nor its IPAM reads it (only {readers:?})",
                    conf.plugin_type
                ));
            }
            if let Some(value) = runtime.get(name) {
                runtime_config.insert(name.clone(), value);
            }
        }
    }
    if !runtime_config.is_empty() {
        raw.insert("runtimeConfig".into(), Value::Object(runtime_config));
    }
    if let Some(prev) = prev {
        raw.insert("prevResult".into(), prev);
    }
    NetConf::from_value(Value::Object(raw)).map_err(|e| e.to_string())
}

/// A plausible result of the previous plugin, in the list's version.
fn prev_result(version: SpecVersion) -> Value {
    let mut ip = json!({"address": "10.244.1.5/24", "gateway": "10.244.1.1", "interface": 0});
    if version < SpecVersion::V1_0_0 {
        ip["version"] = json!("4");
    }
    json!({
        "cniVersion": version.as_str(),
        "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/manifest-test"}],
        "ips": [ip],
    })
}

fn load_plugin(conf: &NetConf) -> Result<Plugin, String> {
    let t = conf.plugin_type.as_str();
    match t {
        "bridge" => cni_bridge::config::parse(conf)
            .map(Plugin::Bridge)
            .map_err(|e| e.to_string()),
        "macvlan" => MacvlanConf::from_value(&conf.raw)
            .map(Plugin::Macvlan)
            .map_err(|e| e.to_string()),
        "vxlan" => cni_vxlan::config::parse(conf)
            .map(|c| Plugin::Vxlan(Box::new(c)))
            .map_err(|e| e.to_string()),
        _ if PENDING.contains(&t) => Ok(Plugin::Pending),
        _ if REFERENCE.contains(&t) => run_reference(t, &conf.raw).map(Plugin::Reference),
        _ => Err(format!(
            "no loader for plugin type {t:?}: add one to tests/common/cni.rs"
        )),
    }
}

fn load_ipam(conf: &NetConf) -> Result<Option<Ipam>, String> {
    match conf.ipam_type() {
        None => Ok(None),
        Some("host-local") => IpamConfig::load(conf, &CniArgs::default())
            .map(|c| Some(Ipam::HostLocal(Box::new(c))))
            .map_err(|e| e.to_string()),
        Some(t) if REFERENCE.contains(&t) => {
            run_reference(t, &conf.raw).map(|out| Some(Ipam::Reference(out)))
        }
        Some(t) => Err(format!(
            "no loader for IPAM type {t:?}: add one to tests/common/cni.rs"
        )),
    }
}

/// Runs a reference plugin's ADD on `stdin` and returns its result. Only for plugins whose
/// ADD is pure for these configs: `static` computes a result; `portmap` with no mappings
/// passes its `prevResult` through.
fn run_reference(plugin_type: &str, stdin: &Value) -> Result<Value, String> {
    let path = Path::new(REFERENCE_DIR).join(plugin_type);
    if !path.exists() {
        return Err(format!(
            "{} missing: install Debian's containernetworking-plugins (.ci/run does)",
            path.display()
        ));
    }
    let mut child = Command::new(&path)
        .env_clear()
        .env("CNI_COMMAND", "ADD")
        .env("CNI_CONTAINERID", "manifest-test")
        .env("CNI_NETNS", "/var/run/netns/manifest-test-never-opened")
        .env("CNI_IFNAME", "net1")
        .env("CNI_PATH", REFERENCE_DIR)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("run {}: {e}", path.display()))?;
    let bytes = serde_json::to_vec(stdin).map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(&bytes)
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("{} ADD failed: {text}", path.display()));
    }
    serde_json::from_str(&text).map_err(|e| format!("{} printed {text:?}: {e}", path.display()))
}
