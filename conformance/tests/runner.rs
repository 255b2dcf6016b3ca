//! The runner against a recording fake plugin: what libcni would send, in which order, with
//! which environment and stdin, and what it leaves in the result cache (libcni/api.go).

// Test helpers may unwrap: a panic there is the failure report.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use cni_conformance::runner::{NetworkConfigList, Runtime, RuntimeConf};
use cni_sandbox::World;
use serde_json::{Value, json};

/// A plugin that logs `verb type netns containerid` and its stdin, prints a fixed 1.0.0 result
/// on ADD and a version list on VERSION.
const FAKE: &str = r#"#!/bin/sh
in=$(cat)
dir=$(dirname "$0")
printf '%s %s %s %s\n' "$CNI_COMMAND" "$(basename "$0")" "${CNI_NETNS:--}" "${CNI_CONTAINERID:--}" >> "$dir/calls"
printf '%s\n' "$in" >> "$dir/stdin"
case "$CNI_COMMAND" in
  ADD) printf '{"cniVersion":"1.0.0","ips":[{"address":"10.1.0.5/24"}]}' ;;
  VERSION) printf '{"cniVersion":"1.1.0","supportedVersions":["0.3.1","1.0.0","1.1.0"]}' ;;
esac
"#;

struct Bench {
    world: World,
    bin: PathBuf,
}

impl Bench {
    fn new(test: &str) -> Bench {
        let world = World::new(test).expect("world");
        let bin = world.tempdir().join("bin");
        std::fs::create_dir(&bin).unwrap();
        for name in ["first", "second"] {
            let path = bin.join(name);
            std::fs::write(&path, FAKE).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Bench { world, bin }
    }

    fn runtime(&self, node: &cni_sandbox::Ns) -> Runtime {
        Runtime::new(
            node,
            vec![self.bin.clone()],
            self.world.tempdir().join("cache"),
        )
    }

    fn calls(&self) -> Vec<String> {
        read_lines(&self.bin.join("calls"))
    }

    fn stdins(&self) -> Vec<Value> {
        read_lines(&self.bin.join("stdin"))
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn list(version: &str, extra: Value) -> NetworkConfigList {
    let mut conf = json!({
        "cniVersion": version, "name": "net",
        "plugins": [
            {"type": "first", "capabilities": {"mac": true}},
            {"type": "second", "capabilities": {"portMappings": false}}
        ]
    });
    for (k, v) in extra.as_object().unwrap() {
        conf[k] = v.clone();
    }
    NetworkConfigList::from_value(&conf).unwrap()
}

#[test]
fn add_chains_results_and_caches_del_unwinds_with_the_cached_result() {
    let bench = Bench::new("runner-add-del");
    let node = bench.world.netns("node").unwrap();
    let rt = bench.runtime(&node);
    let net = list("1.0.0", json!({}));
    let att = RuntimeConf::new("c1", "/run/netns/pod", "eth0")
        .capability("mac", json!("c2:11:22:33:44:55"))
        .capability("portMappings", json!([]));
    let result = rt.add(&net, &att).unwrap();
    assert_eq!(result["ips"][0]["address"], "10.1.0.5/24");

    let sent = bench.stdins();
    assert_eq!(sent[0]["name"], "net");
    assert_eq!(sent[0]["cniVersion"], "1.0.0");
    assert_eq!(
        sent[0]["runtimeConfig"],
        json!({"mac": "c2:11:22:33:44:55"})
    );
    assert!(
        sent[0].get("prevResult").is_none(),
        "the first plugin gets no prevResult"
    );
    assert!(
        sent[1].get("runtimeConfig").is_none(),
        "portMappings is false for second"
    );
    assert_eq!(sent[1]["prevResult"]["ips"][0]["address"], "10.1.0.5/24");

    let cache = bench.world.tempdir().join("cache/results/net-c1-eth0");
    let entry: Value = serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    assert_eq!(entry["kind"], "cniCacheV1");
    assert_eq!(entry["result"]["ips"][0]["address"], "10.1.0.5/24");
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    rt.del(&net, &att).unwrap();
    let calls = bench.calls();
    assert_eq!(
        calls,
        [
            "ADD first /run/netns/pod c1",
            "ADD second /run/netns/pod c1",
            "DEL second /run/netns/pod c1",
            "DEL first /run/netns/pod c1",
        ]
    );
    let sent = bench.stdins();
    assert_eq!(sent[2]["prevResult"]["ips"][0]["address"], "10.1.0.5/24");
    assert!(!cache.exists(), "DEL removes the cache entry");
}

#[test]
fn check_status_and_gc_respect_versions_and_switches() {
    let bench = Bench::new("runner-floors");
    let node = bench.world.netns("node").unwrap();
    let rt = bench.runtime(&node);
    let att = RuntimeConf::new("c1", "/run/netns/pod", "eth0");

    let old = list("0.3.1", json!({}));
    assert!(
        rt.check(&old, &att).is_err(),
        "libcni refuses CHECK below 0.4.0"
    );
    rt.status(&old).unwrap();
    rt.gc(&old, Some(&[])).unwrap();
    let off = list("1.1.0", json!({"disableCheck": true, "disableGC": "true"}));
    rt.check(&off, &att).unwrap();
    rt.gc(&off, Some(&[])).unwrap();
    assert!(
        bench.calls().is_empty(),
        "nothing may run: {:?}",
        bench.calls()
    );

    let new = list("1.1.0", json!({}));
    rt.status(&new).unwrap();
    assert_eq!(bench.calls(), ["STATUS first - -", "STATUS second - -"]);
    let sent = bench.stdins();
    assert!(sent[0].get("runtimeConfig").is_none() && sent[0].get("prevResult").is_none());
}

#[test]
fn gc_deletes_stale_cached_attachments_then_sends_both_keys() {
    let bench = Bench::new("runner-gc");
    let node = bench.world.netns("node").unwrap();
    let rt = bench.runtime(&node);
    let net = list("1.1.0", json!({}));
    let keep = RuntimeConf::new("keep", "/run/netns/a", "eth0");
    let stale = RuntimeConf::new("stale", "/run/netns/b", "eth0").arg("K8S_POD_NAME", "b");
    rt.add(&net, &keep).unwrap();
    rt.add(&net, &stale).unwrap();
    rt.gc(&net, Some(&[keep.gc_attachment()])).unwrap();
    let calls = bench.calls();
    assert_eq!(
        &calls[4..],
        [
            "DEL second /run/netns/b stale",
            "DEL first /run/netns/b stale",
            "GC first - -",
            "GC second - -",
        ]
    );
    let sent = bench.stdins();
    let valid = json!([{"containerID": "keep", "ifname": "eth0"}]);
    assert_eq!(sent[6]["cni.dev/valid-attachments"], valid);
    assert_eq!(sent[6]["cni.dev/attachments"], valid);
    assert!(rt.cache().read("net", "keep", "eth0").unwrap().is_some());
    assert!(rt.cache().read("net", "stale", "eth0").unwrap().is_none());

    // cnitool: no valid set at all, so every cached attachment is deleted and no key is sent.
    rt.gc(&net, None).unwrap();
    let sent = bench.stdins();
    let last = &sent[sent.len() - 1];
    assert!(
        last.get("cni.dev/valid-attachments").is_none()
            && last.get("cni.dev/attachments").is_none()
    );
    assert!(rt.cache().list().is_empty());
}

#[test]
fn version_is_asked_like_libcni_and_podman() {
    let bench = Bench::new("runner-version");
    let node = bench.world.netns("node").unwrap();
    let rt = bench.runtime(&node);
    let info = rt.version_info("first").unwrap();
    assert_eq!(info["cniVersion"], "1.1.0");
    assert_eq!(bench.calls(), ["VERSION first dummy -"]);
    assert_eq!(bench.stdins()[0], json!({"cniVersion": "1.1.0"}));
    assert!(rt.validate(&list("1.0.0", json!({}))).is_ok());
    assert!(
        rt.validate(&list("0.4.0", json!({}))).is_err(),
        "0.4.0 is not listed"
    );
}

#[test]
fn containerd_teardown_sends_a_second_del_without_netns() {
    let bench = Bench::new("runner-containerd");
    let node = bench.world.netns("node").unwrap();
    let rt = bench.runtime(&node);
    let net = list("1.0.0", json!({}));
    let att = RuntimeConf::new("c1", "/run/netns/pod", "eth0");
    rt.add(&net, &att).unwrap();
    rt.del_like_containerd(&net, &att).unwrap();
    let calls = bench.calls();
    assert_eq!(&calls[4..], ["DEL second - c1", "DEL first - c1"]);
    let sent = bench.stdins();
    assert!(
        sent[4].get("prevResult").is_none(),
        "the cache is gone by the second DEL"
    );
}
