//! Checking a network configuration the way the runtime will read it, before it is written
//! into the node's conf dir: a conflist the runtime rejects leaves the node `NotReady`, and one
//! it ignores silently leaves pods on the wrong network.
//!
//! What libcni does with a file (cni-reference.md §1.10): the extension picks the loader
//! (`.conflist` -> a list, `.conf`/`.json` -> a single plugin; other names are skipped); a list
//! needs `name` and a non-empty `plugins`; each plugin gets the list's `name` and `cniVersion`
//! injected, then is parsed by the plugin. Here each injected plugin config goes through
//! cni-spec's [`NetConf`], the same parser every plugin of this suite starts with.
//! Not here: each plugin's own keys (the plugins' config loaders; see `manifests/tests`).

use cni_spec::{NetConf, SpecVersion, gojson};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A network configuration as a runtime sees it: a list of plugin configs, each complete.
#[derive(Debug, Clone)]
pub struct Conflist {
    /// The network name.
    pub name: String,
    /// The list's `cniVersion`, which every plugin receives.
    pub version: SpecVersion,
    /// Each plugin's config with `name` and `cniVersion` injected, parsed.
    pub plugins: Vec<NetConf>,
}

/// The keys libcni reads from the list itself (Go rules: keys match case-insensitively).
#[derive(Deserialize)]
struct ListHead {
    name: Option<String>,
    #[serde(rename = "cniVersion")]
    cni_version: Option<String>,
    plugins: Option<Vec<Value>>,
    #[serde(rename = "type")]
    plugin_type: Option<String>,
}

/// Which shape a file name makes the runtime expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `.conflist`: `{"name", "cniVersion", "plugins": [...]}`.
    List,
    /// `.conf` or `.json`: one plugin config with a `type`.
    Single,
}

impl Shape {
    /// The shape libcni's `ConfFiles` loads a file name as; `None` for a name it skips.
    pub fn of_file_name(name: &str) -> Option<Shape> {
        if name.starts_with('.') {
            return None;
        }
        let ext = name.rsplit_once('.').map(|(_, ext)| ext)?;
        match ext {
            "conflist" => Some(Shape::List),
            "conf" | "json" => Some(Shape::Single),
            _ => None,
        }
    }
}

impl Conflist {
    /// Parses a config in either shape (a Multus NAD's `spec.config` may be either; Multus
    /// tells them apart by the `plugins` key, as here).
    pub fn parse(bytes: &[u8]) -> Result<Conflist, String> {
        let value = gojson::parse(bytes).map_err(|e| e.to_string())?;
        Conflist::from_value(&value)
    }

    /// Parses a file's bytes, requiring the shape its name promises.
    pub fn parse_file(file_name: &str, bytes: &[u8]) -> Result<Conflist, String> {
        let shape = Shape::of_file_name(file_name).ok_or_else(|| {
            format!("the runtime ignores {file_name:?}: it loads only .conflist, .conf and .json")
        })?;
        let value = gojson::parse(bytes).map_err(|e| e.to_string())?;
        let list = Conflist::from_value(&value)?;
        let has_plugins = gojson::from_value::<ListHead>(&value)
            .map(|h| h.plugins.is_some())
            .unwrap_or(false);
        match (shape, has_plugins) {
            (Shape::List, false) => Err("a .conflist needs a \"plugins\" list".to_owned()),
            // containerd's loader: "no 'type'; perhaps this is a .conflist?"
            (Shape::Single, true) => Err("a list in a .conf/.json file: name it .conflist".into()),
            _ => Ok(list),
        }
    }

    /// Parses an already-decoded config in either shape.
    pub fn from_value(value: &Value) -> Result<Conflist, String> {
        let object = value
            .as_object()
            .ok_or_else(|| "not a JSON object".to_owned())?;
        let head: ListHead = gojson::from_value(value).map_err(|e| e.to_string())?;
        let name = head.name.filter(|n| !n.is_empty()).ok_or("no \"name\"")?;
        // libcni would treat a missing version as 0.1.0 and Multus then fails on DEL with
        // `invalid version ""` (multus #476): demand it.
        let version_text = head
            .cni_version
            .filter(|v| !v.is_empty())
            .ok_or("no \"cniVersion\"")?;
        let version: SpecVersion = version_text
            .parse()
            .map_err(|_| format!("unknown cniVersion {version_text:?}"))?;
        let raw_plugins = match head.plugins {
            Some(plugins) if plugins.is_empty() => return Err("\"plugins\" is empty".into()),
            Some(plugins) => plugins,
            None => vec![Value::Object(object.clone())],
        };
        let plugins = raw_plugins
            .iter()
            .enumerate()
            .map(|(i, plugin)| plugin_conf(plugin, &name, version).map_err(|e| at(i, &e)))
            .collect::<Result<Vec<_>, _>>()?;
        if head.plugin_type.is_some() && plugins.len() > 1 {
            return Err("both \"type\" and \"plugins\" at the top level".to_owned());
        }
        Ok(Conflist {
            name,
            version,
            plugins,
        })
    }
}

fn at(index: usize, reason: &str) -> String {
    format!("plugins[{index}]: {reason}")
}

/// One plugin's config as libcni's `buildOneConfig` hands it over: `name` and `cniVersion`
/// from the list (overriding the plugin's own), then parsed by cni-spec.
fn plugin_conf(plugin: &Value, name: &str, version: SpecVersion) -> Result<NetConf, String> {
    let mut object: Map<String, Value> = plugin
        .as_object()
        .cloned()
        .ok_or_else(|| "not a JSON object".to_owned())?;
    object.insert("name".into(), Value::String(name.to_owned()));
    object.insert(
        "cniVersion".into(),
        Value::String(version.as_str().to_owned()),
    );
    let conf = NetConf::from_value(Value::Object(object)).map_err(|e| e.to_string())?;
    if conf.plugin_type.is_empty() {
        return Err("no \"type\"".to_owned());
    }
    Ok(conf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_gets_name_and_version_injected() {
        let list = Conflist::parse_file(
            "10-x.conflist",
            br#"{"cniVersion":"0.3.1","name":"cbr0","plugins":[
                {"type":"bridge","name":"other"},{"type":"portmap","capabilities":{"portMappings":true}}]}"#,
        )
        .unwrap();
        assert_eq!(list.name, "cbr0");
        assert_eq!(list.version, SpecVersion::V0_3_1);
        let types: Vec<_> = list
            .plugins
            .iter()
            .map(|p| p.plugin_type.as_str())
            .collect();
        assert_eq!(types, ["bridge", "portmap"]);
        assert!(list.plugins.iter().all(|p| p.name == "cbr0"));
    }

    #[test]
    fn single_conf_is_a_list_of_one() {
        let list = Conflist::parse_file(
            "99-m.conf",
            br#"{"cniVersion":"1.0.0","name":"m","type":"macvlan"}"#,
        )
        .unwrap();
        assert_eq!(list.plugins.len(), 1);
        assert_eq!(list.plugins[0].plugin_type, "macvlan");
    }

    #[test]
    fn what_the_runtime_would_reject_or_skip_is_refused() {
        let ok_list = br#"{"cniVersion":"0.3.1","name":"n","plugins":[{"type":"bridge"}]}"#;
        let cases: [(&str, &[u8], &str); 8] = [
            ("10.yaml", ok_list, "ignores"),
            (".10.conflist", ok_list, "ignores"),
            ("10.conf", ok_list, "name it .conflist"),
            (
                "10.conflist",
                br#"{"cniVersion":"0.3.1","name":"n","type":"bridge"}"#,
                "needs",
            ),
            (
                "10.conflist",
                br#"{"cniVersion":"0.3.1","name":"n","plugins":[]}"#,
                "empty",
            ),
            (
                "10.conflist",
                br#"{"name":"n","plugins":[{"type":"bridge"}]}"#,
                "cniVersion",
            ),
            (
                "10.conflist",
                br#"{"cniVersion":"0.3.1","plugins":[{"type":"b"}]}"#,
                "name",
            ),
            (
                "10.conflist",
                br#"{"cniVersion":"0.3.1","name":"n","plugins":[{}]}"#,
                "plugins[0]",
            ),
        ];
        for (file, bytes, want) in cases {
            let err = Conflist::parse_file(file, bytes).unwrap_err();
            assert!(err.contains(want), "{file}: {err:?} lacks {want:?}");
        }
    }

    #[test]
    fn keys_match_like_go() {
        let list = Conflist::parse(
            br#"{"CNIVersion":"1.1.0","Name":"n","Plugins":[{"Type":"host-local"}]}"#,
        )
        .unwrap();
        assert_eq!(list.version, SpecVersion::V1_1_0);
        assert_eq!(list.plugins[0].plugin_type, "host-local");
    }

    #[test]
    fn unknown_version_and_bad_json_are_refused() {
        assert!(
            Conflist::parse(br#"{"cniVersion":"1.0","name":"n","type":"x"}"#)
                .unwrap_err()
                .contains("1.0")
        );
        assert!(Conflist::parse(b"{").is_err());
    }
}
