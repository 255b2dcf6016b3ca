//! The runtime's operations on a list, step for step as libcni's `AddNetworkList`,
//! `CheckNetworkList`, `DelNetworkList`, `GetStatusNetworkList`, `GCNetworkList`,
//! `GetVersionInfo` and `ValidateNetworkList`.

use cni_spec::{CniResult, Command, SpecVersion};
use serde_json::{Value, json};

use super::inject::{self, OLD_ATTACHMENTS, VALID_ATTACHMENTS};
use super::version::{self, CURRENT_TEXT};
use super::{CachedAttachment, GcAttachment, GcKeys, NetworkConfigList, Runtime, RuntimeConf};
use crate::error::{ConformanceError, Result};

const V0_4_0: version::Semver = (0, 4, 0);
const V1_1_0: version::Semver = (1, 1, 0);

impl Runtime {
    /// ADD: each plugin in order, the previous one's result as `prevResult`; stops at the first
    /// error (the runtime then owes a DEL). The final result is cached and returned.
    pub fn add(&self, list: &NetworkConfigList, rt: &RuntimeConf) -> Result<Value> {
        let mut result: Option<Value> = None;
        for plugin in &list.plugins {
            let conf = inject::build_one(list, plugin, result.as_ref(), &rt.capability_args);
            let out = self.exec(&plugin.plugin_type, Command::Add, rt, &conf)?;
            result = Some(read_result(&plugin.plugin_type, out, &list.cni_version)?);
        }
        let result = result.unwrap_or(Value::Null);
        self.cache.write(&CachedAttachment {
            container_id: rt.container_id.clone(),
            network: list.name.clone(),
            ifname: rt.ifname.clone(),
            config: list.bytes.clone(),
            netns: rt.netns.clone(),
            cni_args: rt.args.clone(),
            capability_args: rt.capability_args.clone(),
            result: Some(result.clone()),
        })?;
        Ok(result)
    }

    /// CHECK: refused below 0.4.0, a no-op with `disableCheck`, else each plugin in order
    /// with the cached result (converted to the list version) as `prevResult`.
    pub fn check(&self, list: &NetworkConfigList, rt: &RuntimeConf) -> Result<()> {
        if !version::at_least(&list.cni_version, V0_4_0).map_err(ConformanceError::Refused)? {
            return Err(ConformanceError::Refused(format!(
                "configuration version {:?} does not support the CHECK command",
                list.cni_version
            )));
        }
        if list.disable_check {
            return Ok(());
        }
        let cached = self.cached_result(list, rt)?;
        for plugin in &list.plugins {
            let conf = inject::build_one(list, plugin, cached.as_ref(), &rt.capability_args);
            self.exec(&plugin.plugin_type, Command::Check, rt, &conf)?;
        }
        Ok(())
    }

    /// DEL: each plugin in reverse order; from 0.4.0 on with the cached result as
    /// `prevResult` (an unreadable cache entry is dropped and DEL goes on without one). The
    /// entry is removed after success. As in libcni, a list below 0.4.0 never reads, and so
    /// never removes, its entry; GC later DELs it again, which plugins must take.
    pub fn del(&self, list: &NetworkConfigList, rt: &RuntimeConf) -> Result<()> {
        let mut cached = None;
        if version::at_least(&list.cni_version, V0_4_0).map_err(ConformanceError::Refused)? {
            cached = match self.cached_result(list, rt) {
                Ok(found) => found,
                Err(_) => {
                    let _ = self.cache.remove(&list.name, &rt.container_id, &rt.ifname);
                    None
                }
            };
        }
        for plugin in list.plugins.iter().rev() {
            let conf = inject::build_one(list, plugin, cached.as_ref(), &rt.capability_args);
            self.exec(&plugin.plugin_type, Command::Del, rt, &conf)?;
        }
        if cached.is_some() {
            let _ = self.cache.remove(&list.name, &rt.container_id, &rt.ifname);
        }
        Ok(())
    }

    /// containerd's CRI teardown: DEL, then DEL again with an empty `CNI_NETNS` (the sandbox
    /// is gone by then; containerd #5404). Both must succeed.
    pub fn del_like_containerd(&self, list: &NetworkConfigList, rt: &RuntimeConf) -> Result<()> {
        self.del(list, rt)?;
        self.del(list, &rt.clone().with_netns(""))
    }

    /// Several ADDs at once, as containerd runs the loopback and the pod network's ADDs in
    /// parallel. Results in the order given.
    pub fn add_parallel(&self, jobs: &[(&NetworkConfigList, &RuntimeConf)]) -> Vec<Result<Value>> {
        std::thread::scope(|s| {
            let handles: Vec<_> = jobs
                .iter()
                .map(|(list, rt)| s.spawn(move || self.add(list, rt)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    }

    /// STATUS: nothing below 1.1.0; else each plugin with only `name` and `cniVersion`
    /// injected and every per-attachment variable empty; stops at the first error.
    pub fn status(&self, list: &NetworkConfigList) -> Result<()> {
        if !version::at_least(&list.cni_version, V1_1_0).unwrap_or(false) {
            return Ok(());
        }
        for plugin in &list.plugins {
            let conf = inject::build_bare(list, plugin, &[]);
            self.exec(
                &plugin.plugin_type,
                Command::Status,
                &RuntimeConf::default(),
                &conf,
            )?;
        }
        Ok(())
    }

    /// GC: a no-op with `disableGC`. First a DEL for every cached attachment of this network
    /// not in `valid` (all of them when `valid` is `None`, as `cnitool gc`), then, from 1.1.0
    /// on, GC on every plugin with the valid set under the configured keys (no key at all when
    /// `valid` is `None`). Goes on past errors and returns them together.
    pub fn gc(&self, list: &NetworkConfigList, valid: Option<&[GcAttachment]>) -> Result<()> {
        self.gc_with_keys(list, valid, self.gc_keys)
    }

    /// [`Runtime::gc`] sending the valid set under `keys` this once.
    pub fn gc_with_keys(
        &self,
        list: &NetworkConfigList,
        valid: Option<&[GcAttachment]>,
        keys: GcKeys,
    ) -> Result<()> {
        if list.disable_gc {
            return Ok(());
        }
        let mut errors = Vec::new();
        for cached in self.cache.list() {
            let key = GcAttachment {
                container_id: cached.container_id.clone(),
                ifname: cached.ifname.clone(),
            };
            if cached.network != list.name || valid.is_some_and(|v| v.contains(&key)) {
                continue;
            }
            let rt = RuntimeConf {
                container_id: cached.container_id,
                netns: cached.netns,
                ifname: cached.ifname,
                args: cached.cni_args,
                capability_args: cached.capability_args,
            };
            if let Err(e) = self.del(list, &rt) {
                errors.push(e);
            }
        }
        if version::at_least(&list.cni_version, V1_1_0).unwrap_or(false) {
            let keys = gc_key_values(valid, keys);
            for plugin in &list.plugins {
                let conf = inject::build_bare(list, plugin, &keys);
                if let Err(e) = self.exec(
                    &plugin.plugin_type,
                    Command::Gc,
                    &RuntimeConf::default(),
                    &conf,
                ) {
                    errors.push(e);
                }
            }
        }
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(ConformanceError::Many(errors)),
        }
    }

    /// VERSION as libcni's `GetVersionInfo` (and so podman) asks it: `{"cniVersion":"1.1.0"}`
    /// on stdin and dummy values for the variables old skels insisted on (`CNI_NETNS=dummy`,
    /// `CNI_IFNAME=dummy`, `CNI_PATH=dummy`). Returns the JSON once it has a `cniVersion` and
    /// a `supportedVersions` list of strings; a plugin that does not know VERSION is taken to
    /// support 0.1.0 only, as libcni does.
    pub fn version_info(&self, plugin_type: &str) -> Result<Value> {
        let stdin = format!(r#"{{"cniVersion":"{CURRENT_TEXT}"}}"#).into_bytes();
        let rt = RuntimeConf::new("", "dummy", "dummy");
        let inv = self
            .invocation(plugin_type, Command::Version, &rt, &stdin)?
            .cni_path("dummy");
        let record = self.run(plugin_type, &inv, &stdin)?;
        match super::interpret(plugin_type, Command::Version, &record.run) {
            Err(ConformanceError::Plugin { msg, .. }) if msg == "unknown CNI_COMMAND: VERSION" => {
                Ok(json!({"cniVersion": "0.1.0", "supportedVersions": ["0.1.0"]}))
            }
            Err(e) => Err(e),
            Ok(out) => decode_version_info(plugin_type, out),
        }
    }

    /// libcni `ValidateNetworkList`: every plugin is found and lists the list's version
    /// (exactly; an absent version means 0.1.0). Returns the capabilities the list declares.
    pub fn validate(&self, list: &NetworkConfigList) -> Result<Vec<String>> {
        let want = if list.cni_version.is_empty() {
            "0.1.0"
        } else {
            &list.cni_version
        };
        let mut errors = Vec::new();
        let mut caps: Vec<String> = Vec::new();
        for plugin in &list.plugins {
            match self.version_info(&plugin.plugin_type) {
                Ok(info) => {
                    let listed = info["supportedVersions"]
                        .as_array()
                        .is_some_and(|vs| vs.iter().any(|v| v.as_str() == Some(want)));
                    if !listed {
                        errors.push(ConformanceError::Refused(format!(
                            "plugin {} does not support config version {want:?}",
                            plugin.plugin_type
                        )));
                    }
                }
                Err(e) => errors.push(e),
            }
            caps.extend(plugin.capabilities().into_iter().map(str::to_owned));
        }
        caps.sort();
        caps.dedup();
        match errors.len() {
            0 => Ok(caps),
            1 => Err(errors.remove(0)),
            _ => Err(ConformanceError::Many(errors)),
        }
    }

    /// The cached result of an attachment, converted to the list's version as libcni does
    /// before using it as `prevResult`. `Ok(None)` when nothing is cached.
    pub fn cached_result(
        &self,
        list: &NetworkConfigList,
        rt: &RuntimeConf,
    ) -> Result<Option<Value>> {
        let Some(entry) = self.cache.read(&list.name, &rt.container_id, &rt.ifname)? else {
            return Ok(None);
        };
        let cache_err = |detail: String| ConformanceError::Cache {
            path: self.cache.dir().to_path_buf(),
            detail,
        };
        let raw = entry
            .result
            .ok_or_else(|| cache_err("cached entry has no result".into()))?;
        let target: SpecVersion = list
            .cni_version
            .parse()
            .map_err(|e| cache_err(format!("failed to convert cached result: {e}")))?;
        let model = CniResult::from_json(&raw, target)
            .map_err(|e| cache_err(format!("failed to read cached result: {}", e.msg)))?;
        model.to_json(target).map(Some).map_err(|e| {
            cache_err(format!(
                "failed to convert cached result to config version {target}: {}",
                e.msg
            ))
        })
    }
}

fn gc_key_values(valid: Option<&[GcAttachment]>, keys: GcKeys) -> Vec<(&'static str, Value)> {
    let Some(valid) = valid else {
        return Vec::new();
    };
    let value = json!(valid);
    match keys {
        GcKeys::Both => vec![(VALID_ATTACHMENTS, value.clone()), (OLD_ATTACHMENTS, value)],
        GcKeys::SpecOnly => vec![(VALID_ATTACHMENTS, value)],
        GcKeys::OldOnly => vec![(OLD_ATTACHMENTS, value)],
    }
}

/// An ADD result as libcni takes it: JSON with a known version; a result without
/// `cniVersion` takes the list's (libcni `fixupResultVersion`, cni #895).
fn read_result(plugin: &str, out: Option<Value>, list_version: &str) -> Result<Value> {
    let bad = |detail: String| ConformanceError::Output {
        plugin: plugin.to_owned(),
        verb: Command::Add,
        detail,
    };
    let Some(Value::Object(mut obj)) = out else {
        return Err(bad(
            "ADD succeeded without a JSON object result on stdout".into()
        ));
    };
    let declared = obj
        .get("cniVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if declared.is_empty() {
        obj.insert("cniVersion".into(), Value::String(list_version.to_owned()));
    }
    let value = Value::Object(obj);
    let version = value["cniVersion"].as_str().unwrap_or_default().to_owned();
    let known: SpecVersion = version
        .parse()
        .map_err(|_| bad(format!("unsupported CNI result version {version:?}")))?;
    CniResult::from_json(&value, known)
        .map_err(|e| bad(format!("result does not decode: {}", e.msg)))?;
    Ok(value)
}

fn decode_version_info(plugin: &str, out: Option<Value>) -> Result<Value> {
    let bad = |detail: &str| ConformanceError::Output {
        plugin: plugin.to_owned(),
        verb: Command::Version,
        detail: format!("decoding version info: {detail}"),
    };
    let Some(info) = out else {
        return Err(bad("empty output"));
    };
    if info
        .get("cniVersion")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(bad("missing field cniVersion"));
    }
    let listed = info
        .get("supportedVersions")
        .and_then(Value::as_array)
        .is_some_and(|vs| !vs.is_empty() && vs.iter().all(Value::is_string));
    if !listed {
        return Err(bad("missing field supportedVersions"));
    }
    Ok(info)
}
