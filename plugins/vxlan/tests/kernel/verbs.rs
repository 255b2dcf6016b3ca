//! Every verb as a runtime calls it: result shapes of all spec versions, CHECK, STATUS, DEL
//! without a namespace, GC.

use std::time::Duration;

use cni_sandbox::Invocation;
use serde_json::{Value, json};

use crate::common::*;

/// Reservations (addresses) in node `n`'s host-local store for the test network.
fn reservations(c: &Cluster, n: usize) -> Vec<String> {
    let mut out: Vec<String> = cni_sandbox::list_dir(c.node(n).data_dir.join("vxnet"))
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f.parse::<std::net::IpAddr>().is_ok())
        .collect();
    out.sort();
    out
}

#[test]
fn every_version_yields_its_result_shape() {
    let c = Cluster::new("vxlan-versions", 1);
    let pod = c.pod("pod");
    for version in [
        "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0",
    ] {
        let mut conf = c.conf(1, json!({"isGateway": true}));
        conf["cniVersion"] = json!(version);
        let r = c.add(1, &conf, &pod, "ctr");
        assert_eq!(r["cniVersion"], version, "{r}");
        match version {
            "0.1.0" | "0.2.0" => {
                assert!(
                    r["ip4"]["ip"].as_str().unwrap().starts_with("10.100.0.1"),
                    "{r}"
                );
                assert_eq!(r["ip4"]["gateway"], "10.100.0.1");
                assert!(
                    r.get("interfaces").is_none() && r.get("ips").is_none(),
                    "{r}"
                );
            }
            _ => {
                let names: Vec<&str> = r["interfaces"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["name"].as_str().unwrap())
                    .collect();
                assert_eq!(names[..2], [BRIDGE, VTEP], "{r}");
                assert_eq!(names[3], "eth0");
                assert_eq!(r["interfaces"][3]["sandbox"], pod.path().to_str().unwrap());
                assert_eq!(r["ips"][0]["interface"], 3, "{r}");
                let v = r["ips"][0].get("version");
                match version {
                    "0.3.0" | "0.3.1" | "0.4.0" => assert_eq!(v, Some(&json!("4")), "{r}"),
                    _ => assert!(v.is_none(), "{r}"),
                }
                let mtu = r["interfaces"][3].get("mtu");
                match version {
                    "1.1.0" => assert_eq!(mtu, Some(&json!(1450)), "{r}"),
                    _ => assert!(mtu.is_none(), "{r}"),
                }
            }
        }
        c.del(1, &conf, Some(&pod), "ctr");
        assert!(
            pod.link("eth0").unwrap().is_none(),
            "{version}: DEL removed eth0"
        );
        assert!(
            c.node(1).ns.link(VTEP).unwrap().is_none(),
            "{version}: and the VTEP"
        );
    }
}

#[test]
fn check_covers_vtep_peers_port_and_pod() {
    let c = Cluster::new("vxlan-check", 2);
    let conf = c.conf(1, json!({"remotes": c.underlays(), "hairpinMode": true}));
    let pod = c.pod("pod");
    let prev = c.add(1, &conf, &pod, "ctr");
    c.check(1, &conf, &prev, &pod, "ctr").expect_ok();
    let node = &c.node(1).ns;
    let fails = |what: &str| {
        let err = c.check(1, &conf, &prev, &pod, "ctr").expect_err(999);
        let msg = err["msg"].as_str().unwrap().to_owned();
        assert!(msg.contains(what), "expected {what:?} in {msg:?}");
    };

    // A peer lost from the FDB, then an extra one (`bridge fdb VERB 00:..:00 dev VTEP dst IP
    // self`: the all-zero flood entries).
    let flood = |verb: &str, dst: &str| {
        let zero = "00:00:00:00:00:00";
        node.bridge(&["fdb", verb, zero, "dev", VTEP, "dst", dst, "self"])
            .unwrap();
    };
    flood("del", "10.200.0.2");
    fails("missing flood entries for 10.200.0.2");
    flood("append", "10.200.0.2");
    flood("append", "10.200.0.9");
    fails("unexpected flood entries for 10.200.0.9");
    flood("del", "10.200.0.9");
    c.check(1, &conf, &prev, &pod, "ctr").expect_ok();

    // The pod's port lost hairpin.
    let host = prev["interfaces"][2]["name"].as_str().unwrap();
    node.set_hairpin(host, false).unwrap();
    fails("hairpin mode is false, configured true");
    node.set_hairpin(host, true).unwrap();

    // The pod lost its address.
    let addr = prev["ips"][0]["address"].as_str().unwrap();
    pod.ip(&["addr", "del", addr, "dev", "eth0"]).unwrap();
    fails("Failed to match addr");
    pod.add_addr("eth0", addr).unwrap();

    // A config that wants another VTEP than the one there.
    let other = c.conf(
        1,
        json!({"remotes": c.underlays(), "hairpinMode": true, "ttl": 9}),
    );
    let mut with_prev = other.clone();
    with_prev["prevResult"] = prev.clone();
    let err = c
        .run(1, &c.inv("CHECK", &with_prev, Some(&pod), "ctr", "eth0"))
        .expect_err(999);
    assert!(
        err["msg"].as_str().unwrap().contains("ttl 0 (want 9)"),
        "{err}"
    );

    // The VTEP went down.
    node.ip(&["link", "set", VTEP, "down"]).unwrap();
    fails("VTEP vxlan100 is down");
}

#[test]
fn status_reports_a_missing_underlay_and_probes_without_leaving_anything() {
    let c = Cluster::new("vxlan-status", 1);
    let conf = c.conf(1, json!({}));
    c.status(1, &conf).expect_ok();
    let node = &c.node(1).ns;
    assert_eq!(
        vxlan_links(node),
        Vec::<String>::new(),
        "the probe device is gone"
    );
    assert!(node.link(BRIDGE).unwrap().is_none());
    assert_eq!(c.lock_files(), Vec::<String>::new());

    let err = c
        .status(1, &c.conf(1, json!({"dev": "eth9"})))
        .expect_err(50);
    assert_eq!(
        err["msg"].as_str().unwrap(),
        format!(
            "underlay device \"eth9\" not found in net:[{}]",
            node.inode().unwrap()
        )
    );
    // The same node without a default route and no `dev`.
    node.ip(&["route", "del", "default"]).unwrap();
    let err = c.status(1, &conf).expect_err(50);
    assert!(
        err["msg"]
            .as_str()
            .unwrap()
            .contains("has no default route"),
        "{err}"
    );
    // ADD fails alike, before IPAM hands out an address.
    let pod = c.pod("pod");
    c.run(1, &c.inv("ADD", &conf, Some(&pod), "ctr", "eth0"))
        .expect_err(999);
    assert_eq!(reservations(&c, 1), Vec::<String>::new());
    c.status(1, &c.conf(1, json!({"dev": "eth0"}))).expect_ok();
}

#[test]
fn del_without_the_namespace_releases_ipam_and_the_vtep() {
    let c = Cluster::new("vxlan-del", 1);
    let conf = c.conf(1, json!({}));
    let pod = c.pod("pod");
    c.add(1, &conf, &pod, "ctr");
    assert_eq!(reservations(&c, 1), ["10.100.0.11"]);
    // The pod's namespace dies before its DEL (a node reboot, a crashed runtime): its veth
    // goes with it, once the kernel has cleaned the namespace up.
    let status = std::process::Command::new("ip")
        .args(["netns", "delete", pod.name()])
        .status()
        .unwrap();
    assert!(status.success());
    let node = &c.node(1).ns;
    wait_for(Duration::from_secs(10), "the pod's port to go", || {
        node.bridge_ports().unwrap().iter().all(|p| p.name == VTEP)
    });
    // DEL with the dead path, then without CNI_NETNS at all (both must succeed).
    c.del(1, &conf, Some(&pod), "ctr");
    assert_eq!(reservations(&c, 1), Vec::<String>::new());
    assert!(node.link(VTEP).unwrap().is_none() && node.link(BRIDGE).unwrap().is_none());
    c.del(1, &conf, None, "ctr");
}

#[test]
fn gc_releases_addresses_of_stale_attachments() {
    let c = Cluster::new("vxlan-gc", 1);
    let conf = c.conf(1, json!({}));
    let (a, b) = (c.pod("a"), c.pod("b"));
    c.add(1, &conf, &a, "ctr-a");
    c.add(1, &conf, &b, "ctr-b");
    let mut gc: Value = conf.clone();
    gc["cni.dev/valid-attachments"] = json!([{"containerID": "ctr-a", "ifname": "eth0"}]);
    let inv = Invocation::new(c.cni_path.join("vxlan"), "GC")
        .cni_path(&c.cni_path.to_string_lossy())
        .config(&gc);
    c.run(1, &inv).expect_ok();
    assert_eq!(reservations(&c, 1), ["10.100.0.11"]);
}
