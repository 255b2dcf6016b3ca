//! Every CNI config in `manifests/` (conflists, each NAD's `spec.config`, the JSON blocks of
//! the README) loaded by the plugins' own config loaders, as the runtime would hand it over;
//! plus what each example is meant to configure, so a misspelt key (which Go's rules, and so
//! ours, silently ignore) fails too.

#![allow(clippy::unwrap_used)] // a panic is how a test fails

mod common;

use std::collections::BTreeMap;
use std::fs;

use cni_macvlan::config::Mode;
use cni_spec::SpecVersion;
use cni_vxlan::config::Flood;
use common::cni::{Ipam, LOADERS, Loaded, PENDING, Plugin, RuntimeArgs, load};
use common::{Doc, docs_of, files, json_blocks, rel};
use ipnetwork::IpNetwork;
use serde::Deserialize;
use serde_json::{Value, json};

/// One entry of the pod's `k8s.v1.cni.cncf.io/networks` (Multus `NetworkSelectionElement`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Selection {
    name: String,
    #[serde(default)]
    interface: Option<String>,
    #[serde(default)]
    ips: Vec<String>,
    #[serde(default)]
    mac: Option<String>,
}

/// The sample pods' network selections, by NAD name.
fn selections() -> BTreeMap<String, Selection> {
    let mut by_name = BTreeMap::new();
    for pod in docs_of("Pod") {
        let annotations = pod.at("metadata.annotations");
        let Some(text) = annotations.and_then(|a| a.get("k8s.v1.cni.cncf.io/networks")) else {
            continue;
        };
        let list: Vec<Selection> = serde_json::from_str(text.as_str().unwrap())
            .unwrap_or_else(|e| panic!("{}: networks annotation: {e}", pod.origin));
        for sel in list {
            by_name.insert(sel.name.clone(), sel);
        }
    }
    by_name
}

/// A NAD's config as Multus reads it: the JSON string, with `name` from the metadata when the
/// config has none (`GetCNIConfigFromSpec`).
fn nad_config(nad: &Doc) -> Value {
    let text = nad.str_at("spec.config");
    let mut config: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{}: spec.config is not JSON: {e}", nad.origin));
    let object = config.as_object_mut().unwrap();
    if object
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        object.insert("name".into(), json!(nad.name()));
    }
    config
}

fn runtime_for(sel: Option<&Selection>) -> RuntimeArgs {
    sel.map(|s| RuntimeArgs {
        ips: s.ips.clone(),
        mac: s.mac.clone(),
    })
    .unwrap_or_default()
}

fn bridge(loaded: &Loaded) -> &cni_bridge::config::BridgeConf {
    match &loaded.plugin {
        Plugin::Bridge(conf) => conf,
        other => panic!("not a bridge: {other:?}"),
    }
}

fn macvlan(loaded: &Loaded) -> &cni_macvlan::config::MacvlanConf {
    match &loaded.plugin {
        Plugin::Macvlan(conf) => conf,
        other => panic!("not a macvlan: {other:?}"),
    }
}

fn vxlan(loaded: &Loaded) -> &cni_vxlan::config::VxlanConf {
    match &loaded.plugin {
        Plugin::Vxlan(conf) => conf,
        other => panic!("not a vxlan: {other:?}"),
    }
}

fn host_local(loaded: &Loaded) -> &host_local::config::IpamConfig {
    match &loaded.ipam {
        Some(Ipam::HostLocal(conf)) => conf,
        other => panic!("not host-local: {other:?}"),
    }
}

/// The addresses a reference plugin's result holds.
fn result_ips(out: &Value) -> Vec<&str> {
    out["ips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ip| ip["address"].as_str().unwrap())
        .collect()
}

fn types(loaded: &[Loaded]) -> Vec<&str> {
    loaded.iter().map(|l| l.conf.plugin_type.as_str()).collect()
}

#[test]
fn every_conflist_loads_and_configures_what_it_says() {
    let conflists = files(&[".conflist", ".conf"]);
    assert!(conflists.len() >= 3, "{conflists:?}");
    for path in conflists {
        let file = rel(&path);
        let name = path.file_name().unwrap().to_str().unwrap();
        let bytes = fs::read(&path).unwrap();
        cni_install::conflist::Conflist::parse_file(name, &bytes)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        let (list, loaded) =
            load(&value, &RuntimeArgs::default()).unwrap_or_else(|e| panic!("{file}: {e}"));
        match name {
            // Flannel's shape: bridge with hairpin and the default gateway, then portmap.
            "10-rust-bridge.conflist" => {
                assert_eq!(list.version, SpecVersion::V0_3_1);
                assert_eq!(types(&loaded), ["bridge", "portmap"]);
                let conf = bridge(&loaded[0]);
                assert!(
                    conf.bridged.hairpin
                        && conf.bridged.is_default_gateway
                        && conf.bridged.is_gateway
                );
                assert_eq!(conf.bridge, "cni0");
                assert_eq!(host_local(&loaded[0]).sets.len(), 1);
                let Plugin::Reference(out) = &loaded[1].plugin else {
                    panic!()
                };
                assert_eq!(result_ips(out), ["10.244.1.5/24"], "portmap passes through");
            }
            "20-rust-macvlan.conflist" => {
                let conf = macvlan(&loaded[0]);
                assert_eq!(conf.mode, Mode::Bridge);
                assert_eq!(conf.master.as_ref().map(|m| m.as_str()), Some("eth1"));
                assert_eq!(host_local(&loaded[0]).routes.len(), 1);
            }
            "30-rust-vxlan.conflist" => {
                let conf = vxlan(&loaded[0]);
                assert_eq!((conf.vni.get(), conf.port), (100, 4789));
                assert_eq!(conf.dev.as_deref(), Some("eth1"));
                assert_eq!(conf.bridge, "vxbr100");
                let Flood::Remotes(remotes) = &conf.flood else {
                    panic!("{conf:?}")
                };
                assert_eq!(remotes.len(), 2);
                assert!(!conf.learning, "static remotes: no learning");
                assert_eq!(host_local(&loaded[0]).sets.len(), 1);
            }
            other => panic!("{other}: add what it is meant to configure to this test"),
        }
    }
}

#[test]
fn every_nad_config_loads_as_multus_runs_it_for_the_sample_pod() {
    let nads = docs_of("NetworkAttachmentDefinition");
    let selections = selections();
    assert!(nads.len() >= 4, "{nads:?}");
    for nad in &nads {
        let config = nad_config(nad);
        let sel = selections.get(nad.name());
        assert!(
            sel.is_some(),
            "{}: no sample pod uses {}",
            nad.origin,
            nad.name()
        );
        let (list, loaded) =
            load(&config, &runtime_for(sel)).unwrap_or_else(|e| panic!("{}: {e}", nad.origin));
        assert_eq!(list.name.as_str(), config["name"].as_str().unwrap());
        match nad.name() {
            "macvlan-host-local" => {
                assert_eq!(list.name, "macvlan-host-local", "name from metadata");
                assert_eq!(macvlan(&loaded[0]).mode, Mode::Bridge);
                let ipam = host_local(&loaded[0]);
                assert_eq!(ipam.sets.len(), 1);
                assert_eq!(ipam.routes.len(), 1);
            }
            "macvlan-static" => {
                assert_eq!(macvlan(&loaded[0]).mode, Mode::Bridge);
                // The capabilities carried the pod's address and MAC to the plugin.
                let Some(Ipam::Reference(out)) = &loaded[0].ipam else {
                    panic!()
                };
                assert_eq!(result_ips(out), ["192.168.50.11/24"]);
                let mac = loaded[0].conf.runtime_config.mac.as_deref();
                assert_eq!(mac, Some("c2:b0:57:49:47:f1"));
            }
            "bridge-hairpin" => {
                let conf = bridge(&loaded[0]);
                assert!(conf.bridged.hairpin && conf.bridged.is_gateway);
                assert_eq!(conf.bridge, "br-pods");
            }
            "vxlan-remotes" => {
                let conf = vxlan(&loaded[0]);
                assert_eq!((conf.vni.get(), conf.port), (100, 4789));
                let Flood::Remotes(remotes) = &conf.flood else {
                    panic!("{conf:?}")
                };
                assert_eq!(remotes.len(), 3);
                let Some(Ipam::Reference(out)) = &loaded[0].ipam else {
                    panic!()
                };
                assert_eq!(result_ips(out), ["10.100.0.11/24"]);
            }
            other => panic!("{other}: add what it is meant to configure to this test"),
        }
    }
    for name in selections.keys() {
        assert!(
            nads.iter().any(|n| n.name() == name),
            "the sample pod asks for network {name:?}, which no NAD defines"
        );
    }
}

#[test]
fn the_sample_pods_selections_are_what_multus_accepts() {
    for (name, sel) in selections() {
        if let Some(ifname) = &sel.interface {
            // Multus: at most IFNAMSIZ-1 characters, no '/' or whitespace.
            assert!(
                cni_spec::IfName::parse(ifname).is_ok(),
                "{name}: interface {ifname:?}"
            );
        }
        for ip in &sel.ips {
            // CONVENTIONS.md: ip[/prefix]; the static IPAM wants the prefix.
            assert!(
                ip.contains('/') && ip.parse::<IpNetwork>().is_ok(),
                "{name}: ips {ip:?}"
            );
        }
        if let Some(mac) = &sel.mac {
            // The kernel refuses a multicast MAC with EADDRNOTAVAIL (multus #1378).
            let octets: Vec<u8> = mac
                .split(':')
                .map(|o| u8::from_str_radix(o, 16).unwrap())
                .collect();
            assert_eq!(octets.len(), 6, "{name}: mac {mac:?}");
            assert_eq!(octets[0] & 1, 0, "{name}: mac {mac:?} is multicast");
        }
    }
}

#[test]
fn readme_json_blocks_load() {
    let readme = fs::read_to_string(common::dir().join("README.md")).unwrap();
    let blocks = json_blocks(&readme);
    assert!(!blocks.is_empty(), "README.md has no ```json example");
    for (line, text) in blocks {
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("README.md:{line}: not JSON: {e}"));
        load(&value, &RuntimeArgs::default()).unwrap_or_else(|e| panic!("README.md:{line}: {e}"));
    }
}

/// The loaders must bite: one wrong value per loader, each refused.
#[test]
fn a_typo_in_an_example_fails() {
    let base = json!({"cniVersion": "0.3.1", "name": "n", "plugins": [
        {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local", "subnet": "10.1.0.0/24"}},
        {"type": "portmap", "capabilities": {"portMappings": true}}]});
    assert!(load(&base, &RuntimeArgs::default()).is_ok());
    let broken: [(&str, Value); 7] = [
        ("/plugins/0/bridge", json!("a-bridge-name-too-long")),
        ("/plugins/0/ipam/subnet", json!("10.1.0.0/33")),
        ("/plugins/0/type", json!("brigde")),
        ("/plugins/1/capabilities", json!({"portMapping": true})),
        ("/plugins/1/capabilities", json!({"mac": true})),
        ("/cniVersion", json!("0.3.2")),
        ("/plugins/0/ipam/type", json!("whereabouts")),
    ];
    for (pointer, value) in broken {
        let mut config = base.clone();
        *config.pointer_mut(pointer).unwrap() = value.clone();
        let err = load(&config, &RuntimeArgs::default()).unwrap_err();
        println!("{pointer} = {value}: {err}");
    }
    let mut macvlan =
        json!({"cniVersion": "1.0.0", "name": "m", "type": "macvlan", "mode": "bridgee"});
    assert!(
        load(&macvlan, &RuntimeArgs::default())
            .unwrap_err()
            .contains("bridgee")
    );
    macvlan["mode"] = json!("bridge");
    assert!(load(&macvlan, &RuntimeArgs::default()).is_ok());
    // The reference portmap refuses to run first in a chain: the runner passes no prevResult.
    let alone = json!({"cniVersion": "1.0.0", "name": "p", "type": "portmap"});
    assert!(load(&alone, &RuntimeArgs::default()).is_err());
}

/// Every plugin binary of the workspace (packages under `plugins/` and `ipam/`) has a loader
/// here, and a type marked pending has no crate yet: when `plugins/vxlan` lands, this fails
/// until its loader is added to `tests/common/cni.rs` (and its dev-dependency here).
#[test]
fn every_workspace_plugin_has_a_loader() {
    let root = common::dir().join("..");
    let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
    // The `members = [...]` array, on one line or several.
    let start = manifest.find("\nmembers").expect("a members list");
    let members = &manifest[start..start + manifest[start..].find(']').unwrap()];
    let mut plugin_bins = Vec::new();
    for member in members.split('"').skip(1).step_by(2) {
        if !(member.starts_with("plugins/") || member.starts_with("ipam/")) {
            continue;
        }
        let text = fs::read_to_string(root.join(member).join("Cargo.toml")).unwrap();
        plugin_bins.extend(bin_names(&text));
    }
    assert!(plugin_bins.len() >= 3, "{plugin_bins:?}");
    for bin in &plugin_bins {
        assert!(
            LOADERS.contains(&bin.as_str()),
            "plugin {bin:?} has no loader in tests/common/cni.rs"
        );
        assert!(
            !PENDING.contains(&bin.as_str()),
            "{bin:?} exists now: move it from PENDING to LOADERS"
        );
    }
}

/// The `[[bin]]` names of a Cargo.toml (every plugin package declares its binary that way).
fn bin_names(cargo_toml: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in cargo_toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin && line.starts_with("name") {
            names.extend(line.split('"').nth(1).map(str::to_owned));
        }
    }
    names
}
