//! GC and STATUS: forwarded to IPAM (the reference forwards neither GC nor, in this Debian
//! build, STATUS), and GC removes masquerade rules of attachments no longer valid.

use cni_sandbox::Invocation;
use serde_json::{Value, json};

use crate::common::{Node, ruleset};

fn verb(node: &Node, command: &str, conf: &Value) -> cni_sandbox::PluginRun {
    let inv = Invocation::new(node.cni_path.join("bridge"), command)
        .cni_path(&node.cni_path.to_string_lossy())
        .config(conf);
    node.run(&inv)
}

#[test]
fn gc_releases_addresses_and_rules_of_stale_attachments_only() {
    for backend in ["nftables", "iptables"] {
        let node = Node::new("br-gc");
        let conf = node.conf(
            "1.1.0",
            &["10.80.0.0/24"],
            json!({"ipMasq": true, "ipMasqBackend": backend}),
        );
        let (a, b) = (node.pod("pod-a"), node.pod("pod-b"));
        node.add(&conf, &a, "ctr-a");
        node.add(&conf, &b, "ctr-b");
        // The runtime lost ctr-b without a DEL (e.g. a node crash); only ctr-a is valid.
        let mut gc = conf.clone();
        gc["cni.dev/valid-attachments"] = json!([{"containerID": "ctr-a", "ifname": "eth0"}]);
        verb(&node, "GC", &gc).expect_ok();
        assert_eq!(
            node.reservations(),
            ["10.80.0.2"],
            "{backend}: ctr-b's address reclaimed"
        );
        let rules = format!(
            "{}{}",
            ruleset(&node.ns),
            node.ns.exec_ok(&["iptables-save", "-t", "nat"]).unwrap()
        );
        assert!(
            rules.contains("10.80.0.2"),
            "{backend}: ctr-a keeps its rule:\n{rules}"
        );
        assert!(
            !rules.contains("10.80.0.3"),
            "{backend}: ctr-b's rule is gone:\n{rules}"
        );
        // cnitool sends no valid set: an absent list is not an empty one, nothing goes.
        verb(&node, "GC", &conf).expect_ok();
        assert_eq!(node.reservations(), ["10.80.0.2"]);
        let rules = format!(
            "{}{}",
            ruleset(&node.ns),
            node.ns.exec_ok(&["iptables-save", "-t", "nat"]).unwrap()
        );
        assert!(rules.contains("10.80.0.2"), "{rules}");
        // An empty list: nothing is valid.
        gc["cni.dev/valid-attachments"] = json!([]);
        verb(&node, "GC", &gc).expect_ok();
        assert!(node.reservations().is_empty());
        let rules = format!(
            "{}{}",
            ruleset(&node.ns),
            node.ns.exec_ok(&["iptables-save", "-t", "nat"]).unwrap()
        );
        assert!(!rules.contains("10.80.0."), "{rules}");
    }
}

#[test]
fn status_is_forwarded_to_ipam() {
    let node = Node::new("br-status");
    let conf = node.conf("1.1.0", &["10.81.0.0/24"], json!({}));
    verb(&node, "STATUS", &conf).expect_ok();
    // An IPAM plugin that is not there fails STATUS.
    let mut broken = conf.clone();
    broken["ipam"]["type"] = json!("no-such-ipam");
    let e = verb(&node, "STATUS", &broken).expect_err(999);
    assert!(e["msg"].as_str().unwrap().contains("no-such-ipam"), "{e}");
    // L2: nothing to ask.
    let mut l2 = conf.clone();
    l2["ipam"] = json!({});
    verb(&node, "STATUS", &l2).expect_ok();
    // VERSION lists every version.
    let v = verb(&node, "VERSION", &conf).expect_result();
    assert_eq!(v["supportedVersions"].as_array().unwrap().len(), 7);
}
