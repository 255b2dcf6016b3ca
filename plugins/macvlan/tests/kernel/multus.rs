//! The call Multus makes for a secondary network (vxlan-multus.md §3): CNI_ARGS with
//! `IgnoreUnknown` and the `K8S_*` keys, some of them twice; interface `net1`; the pod's `ips`
//! and `mac` annotation delivered as `runtimeConfig` because the NAD declares the capabilities;
//! a pod whose default route belongs to the cluster network on `eth0`.

use cni_sandbox::Family;
use serde_json::json;

use crate::common::{Lan, call, mac_of, reaches};

/// What Multus's `createRuntimeConf` puts first, followed by the runtime's own pairs again.
const MULTUS_ARGS: &str = "IgnoreUnknown=true;K8S_POD_NAMESPACE=default;K8S_POD_NAME=samplepod;\
     K8S_POD_INFRA_CONTAINER_ID=0d1c5e8f;K8S_POD_UID=4f5d2c1a-9b1e-4c1e-8f3a-6b7c8d9e0f1a;\
     IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=samplepod";

#[test]
fn a_multus_secondary_network_call_works() {
    let lan = Lan::new("mv_multus");
    let (_host, _) = lan.host("host", &["10.10.0.100/24"]);
    let pod = lan.pod("pod");
    // The cluster network got there first: eth0 with the pod's default route.
    lan.world
        .veth((&pod, "eth0"), (&lan.node, "vethcluster"))
        .unwrap();
    pod.add_addr("eth0", "10.244.0.5/24").unwrap();
    pod.ip(&["route", "add", "default", "via", "10.244.0.1"])
        .unwrap();

    // The NAD's config as Multus hands it over: 0.3.1, name injected, capabilities kept,
    // runtimeConfig from the pod annotation
    // '[{"name": "macvlan-conf", "ips": ["10.10.0.42/24"], "mac": "c2:b0:57:49:47:f1"}]'.
    let conf = json!({
        "cniVersion": "0.3.1",
        "name": "macvlan-conf",
        "type": "macvlan",
        "master": "up0",
        "mode": "bridge",
        "capabilities": {"ips": true, "mac": true},
        "runtimeConfig": {"ips": ["10.10.0.42/24"], "mac": "c2:b0:57:49:47:f1"},
        "ipam": lan.ipam(json!({})),
    });
    let add = call("ADD", &pod, "0d1c5e8f", "net1", &conf).args(MULTUS_ARGS);
    let r = lan.run(&add).expect_result();

    // What Multus builds network-status from: the interface with a sandbox, and its IPs.
    assert_eq!(r["cniVersion"], "0.3.1");
    assert_eq!(r["interfaces"][0]["name"], "net1");
    assert_eq!(r["interfaces"][0]["mac"], "c2:b0:57:49:47:f1");
    assert_eq!(
        r["interfaces"][0]["sandbox"],
        pod.path().display().to_string()
    );
    assert_eq!(r["ips"][0]["address"], "10.10.0.42/24");
    assert_eq!(r["ips"][0]["version"], "4");
    assert_eq!(r["ips"][0]["interface"], 0);

    assert_eq!(mac_of(&pod, "net1"), "c2:b0:57:49:47:f1");
    assert!(
        pod.addrs("net1")
            .unwrap()
            .contains(&"10.10.0.42/24".parse().unwrap())
    );
    let defaults: Vec<_> = pod
        .routes(Family::V4)
        .unwrap()
        .into_iter()
        .filter(|r| r.dst.prefix() == 0 && r.table == "main")
        .collect();
    assert_eq!(
        defaults.len(),
        1,
        "net1 adds no default route: {defaults:?}"
    );
    assert_eq!(defaults[0].dev.as_deref(), Some("eth0"));
    assert!(
        reaches(&pod, "10.10.0.100"),
        "the pod reaches the LAN over net1"
    );

    lan.run(&call("DEL", &pod, "0d1c5e8f", "net1", &conf).args(MULTUS_ARGS))
        .expect_ok();
    assert!(pod.link("net1").unwrap().is_none());
    assert!(
        pod.link("eth0").unwrap().is_some(),
        "the cluster network is untouched"
    );
    assert!(lan.reservations("macvlan-conf").is_empty());
}

#[test]
fn cni_args_are_strict_without_ignore_unknown_except_for_ipam_keys() {
    let lan = Lan::new("mv_cni_args");
    let pod = lan.pod("pod");
    let conf = crate::common::conf("lan", "0.3.1", json!({"ipam": lan.ipam(json!({}))}));
    let err = lan
        .run(&call("ADD", &pod, "c", "net1", &conf).args("K8S_POD_NAME=samplepod"))
        .expect_err(4);
    assert!(
        err["msg"]
            .as_str()
            .unwrap()
            .contains("K8S_POD_NAME=samplepod"),
        "{err}"
    );
    // IP= is host-local's key: macvlan lets it through and host-local honours it.
    let r = lan
        .run(&call("ADD", &pod, "c", "net1", &conf).args("IP=10.10.0.33"))
        .expect_result();
    assert_eq!(r["ips"][0]["address"], "10.10.0.33/24");
}
