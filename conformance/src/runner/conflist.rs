//! Network configuration lists, loaded and checked the way libcni does it
//! (libcni/conf.go `NetworkConfFromBytes`, `ConfListFromConf`, `LoadNetworkConf`).
//!
//! A list keeps its original bytes (they go into the result cache) and each plugin's config
//! object as given; nothing is injected here (see `inject`). Not here: running anything.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{ConformanceError, Result};
use crate::runner::version::{self, CURRENT};

/// One plugin's configuration object inside a list.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginConfig {
    /// `type`: the binary to run. Never empty (libcni refuses that).
    pub plugin_type: String,
    /// The object as written in the list, `capabilities` included (libcni leaves it in).
    pub raw: Map<String, Value>,
}

impl PluginConfig {
    /// Reads one plugin object; `type` must be a non-empty string
    /// (libcni `NetworkPluginConfFromBytes`: "missing 'type'").
    pub fn from_value(value: Value) -> Result<PluginConfig> {
        let Value::Object(raw) = value else {
            return Err(config_err("error parsing configuration: not a JSON object"));
        };
        let plugin_type = match raw.get("type") {
            Some(Value::String(t)) if !t.is_empty() => t.clone(),
            Some(Value::String(_)) | None => {
                return Err(config_err("error parsing configuration: missing 'type'"));
            }
            Some(other) => {
                return Err(config_err(format!(
                    "error parsing configuration: invalid 'type' {other}"
                )));
            }
        };
        Ok(PluginConfig { plugin_type, raw })
    }

    /// Capabilities this plugin declares `true` (libcni skips the `false` ones).
    pub fn capabilities(&self) -> Vec<&str> {
        let Some(Value::Object(caps)) = self.raw.get("capabilities") else {
            return Vec::new();
        };
        caps.iter()
            .filter(|(_, v)| v.as_bool() == Some(true))
            .map(|(k, _)| k.as_str())
            .collect()
    }
}

/// A network configuration list, as libcni's `NetworkConfigList`.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkConfigList {
    /// `name`, injected into every plugin config.
    pub name: String,
    /// The version every plugin is called with: `cniVersion`, or the highest usable entry of
    /// `cniVersions`. Kept as text: a runtime passes an unknown version through and it is the
    /// plugin's job to refuse it (code 1).
    pub cni_version: String,
    /// `disableCheck`: CHECK becomes a no-op.
    pub disable_check: bool,
    /// `disableGC`: GC becomes a no-op.
    pub disable_gc: bool,
    /// `loadOnlyInlinedPlugins`: do not read `<dir>/<name>/*.conf` when loading from a file.
    pub load_only_inlined_plugins: bool,
    /// The plugins, in chain order.
    pub plugins: Vec<PluginConfig>,
    /// The list's bytes as read; the result cache stores them.
    pub bytes: Vec<u8>,
}

impl NetworkConfigList {
    /// Parses a conflist.
    pub fn from_bytes(bytes: &[u8]) -> Result<NetworkConfigList> {
        let raw: Map<String, Value> = serde_json::from_slice(bytes)
            .map_err(|e| config_err(format!("error parsing configuration list: {e}")))?;
        let name = match raw.get("name") {
            Some(Value::String(n)) => n.clone(),
            Some(other) => {
                return Err(config_err(format!(
                    "error parsing configuration list: invalid name type {other}"
                )));
            }
            None => return Err(config_err("error parsing configuration list: no name")),
        };
        let cni_version = negotiate(&raw)?;
        let read_bool = |key: &str| read_bool(&raw, key);
        let mut list = NetworkConfigList {
            name,
            cni_version,
            disable_check: read_bool("disableCheck")?,
            disable_gc: read_bool("disableGC")?,
            load_only_inlined_plugins: read_bool("loadOnlyInlinedPlugins")?,
            plugins: Vec::new(),
            bytes: bytes.to_vec(),
        };
        match raw.get("plugins") {
            None if list.load_only_inlined_plugins => Err(config_err(
                "error parsing configuration list: `loadOnlyInlinedPlugins` is true, and no 'plugins' key",
            )),
            // Plugins may still come from <dir>/<name>/*.conf (see `load`).
            None => Ok(list),
            Some(Value::Array(items)) if items.is_empty() => Err(config_err(
                "error parsing configuration list: no plugins in list",
            )),
            Some(Value::Array(items)) => {
                for item in items {
                    list.plugins.push(PluginConfig::from_value(item.clone())?);
                }
                Ok(list)
            }
            Some(other) => Err(config_err(format!(
                "error parsing configuration list: invalid 'plugins' type {other}"
            ))),
        }
    }

    /// Parses a conflist from a JSON value (tests build configs with `json!`).
    pub fn from_value(value: &Value) -> Result<NetworkConfigList> {
        Self::from_bytes(value.to_string().as_bytes())
    }

    /// Up-converts a legacy single-plugin `.conf` into a one-plugin list, as libcni's
    /// deprecated `ConfListFromConf` does: the list takes the plugin's `name` and `cniVersion`.
    pub fn from_conf_bytes(bytes: &[u8]) -> Result<NetworkConfigList> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| config_err(format!("error parsing configuration: {e}")))?;
        let plugin = PluginConfig::from_value(value)?;
        let text = |key: &str| {
            plugin
                .raw
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let list = serde_json::json!({
            "name": text("name"),
            "cniVersion": text("cniVersion"),
            "plugins": [Value::Object(plugin.raw.clone())],
        });
        Self::from_value(&list)
    }

    /// Loads a file: `.conflist` as a list (plus `<dir>/<name>/*.conf` plugin files unless
    /// `loadOnlyInlinedPlugins`), `.conf`/`.json` as a legacy single config.
    pub fn load(path: &Path) -> Result<NetworkConfigList> {
        let bytes = std::fs::read(path).map_err(|e| ConformanceError::io("read", path, e))?;
        let is_list = path.extension().is_some_and(|e| e == "conflist");
        if !is_list {
            return Self::from_conf_bytes(&bytes);
        }
        let mut list = Self::from_bytes(&bytes)?;
        if !list.load_only_inlined_plugins {
            let dir = path.parent().unwrap_or(Path::new(".")).join(&list.name);
            for file in conf_files(&dir)? {
                let bytes =
                    std::fs::read(&file).map_err(|e| ConformanceError::io("read", &file, e))?;
                let value = serde_json::from_slice(&bytes).map_err(|e| {
                    config_err(format!(
                        "error parsing configuration {}: {e}",
                        file.display()
                    ))
                })?;
                list.plugins.push(PluginConfig::from_value(value)?);
            }
        }
        if list.plugins.is_empty() {
            return Err(config_err("no plugin configs found"));
        }
        Ok(list)
    }

    /// The plugin types in chain order, e.g. `["bridge", "portmap"]`.
    pub fn plugin_types(&self) -> Vec<&str> {
        self.plugins
            .iter()
            .map(|p| p.plugin_type.as_str())
            .collect()
    }
}

/// `cniVersion`, or with `cniVersions` the highest version not newer than this runtime's
/// (libcni picks without asking the plugins).
fn negotiate(raw: &Map<String, Value>) -> Result<String> {
    let declared = match raw.get("cniVersion") {
        None => String::new(),
        Some(Value::String(v)) => v.clone(),
        Some(other) => {
            return Err(config_err(format!(
                "error parsing configuration list: invalid cniVersion type {other}"
            )));
        }
    };
    let Some(listed) = raw.get("cniVersions") else {
        return Ok(declared);
    };
    let Value::Array(items) = listed else {
        return Err(config_err(
            "error parsing configuration list: invalid type for cniVersions",
        ));
    };
    let mut usable = Vec::new();
    let declared_entry = (!declared.is_empty()).then_some(&declared);
    for (i, item) in items.iter().map(Value::as_str).enumerate() {
        let Some(v) = item else {
            return Err(config_err(format!(
                "error parsing configuration list: invalid type for cniVersions index {i}"
            )));
        };
        push_usable(
            &mut usable,
            v,
            &format!("cniVersions entry {v} at index {i}"),
        )?;
    }
    if let Some(v) = declared_entry {
        push_usable(&mut usable, v, &format!("cniVersion {v}"))?;
    }
    usable.sort();
    Ok(usable
        .last()
        .map(|(_, text)| text.clone())
        .unwrap_or(declared))
}

fn push_usable(out: &mut Vec<(version::Semver, String)>, v: &str, what: &str) -> Result<()> {
    let parsed = version::parse(v)
        .ok_or_else(|| config_err(format!("error parsing configuration list: invalid {what}")))?;
    if parsed <= CURRENT {
        out.push((parsed, v.to_owned()));
    }
    Ok(())
}

/// libcni's `readBool`: a bool, or the strings "true"/"false" in any case.
fn read_bool(raw: &Map<String, Value>, key: &str) -> Result<bool> {
    match raw.get(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) => match s.to_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(config_err(format!(
                "error parsing configuration list: invalid value {other:?} for {key}"
            ))),
        },
        Some(other) => Err(config_err(format!(
            "error parsing configuration list: invalid type {other} for {key}"
        ))),
    }
}

/// `*.conf` files of `dir`, sorted; none if `dir` does not exist (libcni `ConfFiles`).
fn conf_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ConformanceError::io("list", dir, e)),
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "conf"))
        .collect();
    files.sort();
    Ok(files)
}

fn config_err(msg: impl Into<String>) -> ConformanceError {
    ConformanceError::Config(msg.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cni_versions_pick_the_highest_known_not_newer_than_us() {
        let list = NetworkConfigList::from_value(&json!({
            "name": "n", "cniVersion": "0.3.1", "cniVersions": ["1.0.0", "9.0.0", "0.4.0"],
            "plugins": [{"type": "bridge"}]
        }))
        .unwrap();
        assert_eq!(list.cni_version, "1.0.0");
    }

    #[test]
    fn refusals_match_libcni() {
        let cases = [
            (json!({"plugins": [{"type": "x"}]}), "no name"),
            (json!({"name": "n", "plugins": []}), "no plugins in list"),
            (
                json!({"name": "n", "plugins": [{"ipam": {}}]}),
                "missing 'type'",
            ),
            (
                json!({"name": "n", "disableCheck": "yes", "plugins": [{"type": "x"}]}),
                "invalid value",
            ),
        ];
        for (conf, want) in cases {
            let err = NetworkConfigList::from_value(&conf)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{conf}: {err}");
        }
    }

    #[test]
    fn string_bools_and_capabilities() {
        let list = NetworkConfigList::from_value(&json!({
            "name": "n", "cniVersion": "1.1.0", "disableCheck": "TRUE", "disableGC": true,
            "plugins": [{"type": "p", "capabilities": {"ips": true, "mac": false}}]
        }))
        .unwrap();
        assert!(list.disable_check && list.disable_gc);
        assert_eq!(list.plugins[0].capabilities(), vec!["ips"]);
    }

    #[test]
    fn legacy_conf_becomes_a_one_plugin_list() {
        let conf = br#"{"cniVersion":"0.3.0","name":"basic","type":"ptp","ipMasq":true}"#;
        let list = NetworkConfigList::from_conf_bytes(conf).unwrap();
        assert_eq!(
            (list.name.as_str(), list.cni_version.as_str()),
            ("basic", "0.3.0")
        );
        assert_eq!(list.plugin_types(), vec!["ptp"]);
        assert_eq!(list.plugins[0].raw["ipMasq"], true);
    }
}
