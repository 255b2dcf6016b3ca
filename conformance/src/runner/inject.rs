//! What a runtime adds to each plugin's config before it execs the plugin (spec §3
//! "runtime transformation"; libcni `buildOneConfig`, `injectRuntimeConfig`).
//!
//! - every verb: `name` and `cniVersion` of the list;
//! - ADD/DEL/CHECK: `prevResult` when there is one, and `runtimeConfig` = the plugin's
//!   `capabilities` (true) intersected with the runtime's capability args, omitted when empty;
//! - GC: the valid attachments under both the spec key and the key the v1.1.0 text had
//!   (cni #1101/#1103), as libcni sends them;
//! - STATUS: nothing more.
//!
//! Keys come out sorted (serde_json's map), as Go's map marshalling sorts them; everything else
//! in the plugin object is passed through untouched, `capabilities` included (libcni leaves it).

use serde_json::{Map, Value};

use crate::runner::conflist::{NetworkConfigList, PluginConfig};

/// The spec's GC key.
pub const VALID_ATTACHMENTS: &str = "cni.dev/valid-attachments";
/// The key the spec-v1.1.0 tag text named by mistake; libcni sends it too (cni #1101).
pub const OLD_ATTACHMENTS: &str = "cni.dev/attachments";

/// The config for one ADD/DEL/CHECK exec.
pub fn build_one(
    list: &NetworkConfigList,
    plugin: &PluginConfig,
    prev_result: Option<&Value>,
    capability_args: &Map<String, Value>,
) -> Value {
    let mut conf = base(list, plugin);
    if let Some(prev) = prev_result {
        conf.insert("prevResult".to_owned(), prev.clone());
    }
    let runtime_config = runtime_config(plugin, capability_args);
    if !runtime_config.is_empty() {
        conf.insert("runtimeConfig".to_owned(), Value::Object(runtime_config));
    }
    Value::Object(conf)
}

/// The plugin's `runtimeConfig`: declared capabilities the runtime has arguments for.
pub fn runtime_config(
    plugin: &PluginConfig,
    capability_args: &Map<String, Value>,
) -> Map<String, Value> {
    plugin
        .capabilities()
        .into_iter()
        .filter_map(|cap| Some((cap.to_owned(), capability_args.get(cap)?.clone())))
        .collect()
}

/// The config for a STATUS exec, or a GC exec when `gc_keys` is given: each `(key, value)` is
/// inserted as is.
pub fn build_bare(
    list: &NetworkConfigList,
    plugin: &PluginConfig,
    gc_keys: &[(&str, Value)],
) -> Value {
    let mut conf = base(list, plugin);
    for (key, value) in gc_keys {
        conf.insert((*key).to_owned(), value.clone());
    }
    Value::Object(conf)
}

fn base(list: &NetworkConfigList, plugin: &PluginConfig) -> Map<String, Value> {
    let mut conf = plugin.raw.clone();
    conf.insert("name".to_owned(), Value::String(list.name.clone()));
    conf.insert(
        "cniVersion".to_owned(),
        Value::String(list.cni_version.clone()),
    );
    conf
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list() -> NetworkConfigList {
        NetworkConfigList::from_value(&json!({
            "name": "net", "cniVersion": "1.0.0",
            "plugins": [
                {"type": "bridge", "name": "ignored", "capabilities": {"mac": true, "ips": false}},
                {"type": "portmap"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn runtime_config_is_the_intersection_and_omitted_when_empty() {
        let list = list();
        let caps = json!({"mac": "c2:11:22:33:44:55", "ips": ["10.0.0.5/24"], "portMappings": []});
        let caps = caps.as_object().unwrap();
        let first = build_one(&list, &list.plugins[0], None, caps);
        assert_eq!(first["runtimeConfig"], json!({"mac": "c2:11:22:33:44:55"}));
        assert_eq!(first["name"], "net");
        assert_eq!(first["cniVersion"], "1.0.0");
        assert!(first.get("prevResult").is_none());
        let second = build_one(
            &list,
            &list.plugins[1],
            Some(&json!({"cniVersion": "1.0.0"})),
            caps,
        );
        assert!(second.get("runtimeConfig").is_none());
        assert_eq!(second["prevResult"]["cniVersion"], "1.0.0");
    }

    #[test]
    fn gc_config_carries_only_what_it_is_given() {
        let list = list();
        let valid = json!([{"containerID": "c", "ifname": "eth0"}]);
        let conf = build_bare(
            &list,
            &list.plugins[1],
            &[
                (VALID_ATTACHMENTS, valid.clone()),
                (OLD_ATTACHMENTS, valid.clone()),
            ],
        );
        assert_eq!(conf[VALID_ATTACHMENTS], valid);
        assert_eq!(conf[OLD_ATTACHMENTS], valid);
        assert!(conf.get("runtimeConfig").is_none());
    }
}
