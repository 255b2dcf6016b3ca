//! DEL: releases everything even without the pod namespace (plugins #810), repeatedly, and
//! for attachments never added; failed ADDs leave nothing behind.

use serde_json::json;

use crate::common::{Node, ruleset};

fn iptables_nat(node: &Node, tool: &str) -> String {
    node.ns.exec_ok(&[tool, "-t", "nat"]).unwrap()
}

#[test]
fn del_with_empty_netns_leaves_no_masquerade_or_spoofcheck_rules() {
    for backend in ["nftables", "iptables"] {
        let node = Node::new("br-del-no-netns");
        let conf = node.conf(
            "1.0.0",
            &["10.30.0.0/24", "fd00:30::/64"],
            json!({"isGateway": true, "ipMasq": true, "ipMasqBackend": backend, "macspoofchk": true}),
        );
        let pod = node.pod("pod");
        node.add(&conf, &pod, "ctr-1");
        let rules = format!(
            "{}{}{}",
            ruleset(&node.ns),
            iptables_nat(&node, "iptables-save"),
            iptables_nat(&node, "ip6tables-save")
        );
        assert!(
            rules.contains("masquerade") || rules.contains("MASQUERADE"),
            "{backend}: {rules}"
        );
        assert!(
            rules.contains("10.30.0.2") && rules.contains("fd00:30::2"),
            "{backend}: {rules}"
        );
        assert!(rules.contains("macspoofchk-ctr-1-eth0"), "{rules}");

        // The runtime lost the namespace: CNI_NETNS is empty.
        node.del(&conf, None, "ctr-1");
        let after = format!(
            "{}{}{}",
            ruleset(&node.ns),
            iptables_nat(&node, "iptables-save"),
            iptables_nat(&node, "ip6tables-save")
        );
        for gone in ["10.30.0.2", "fd00:30::2", "macspoofchk-ctr-1-eth0", "CNI-"] {
            assert!(
                !after.contains(gone),
                "{backend}: {gone} left behind:\n{after}"
            );
        }
        assert!(node.reservations().is_empty(), "IPAM released");
        // Repeated DEL, and DEL of an attachment never added, succeed.
        node.del(&conf, None, "ctr-1");
        node.del(&conf, Some(&pod), "ctr-1");
        node.del(&conf, Some(&pod), "never-added");
    }
}

#[test]
fn del_when_the_namespace_is_gone() {
    let node = Node::new("br-del-gone");
    let conf = node.conf("0.4.0", &["10.31.0.0/24"], json!({"ipMasq": true}));
    let pod = node.pod("pod");
    let r = node.add(&conf, &pod, "ctr");
    let host = node.host_veth(&r);
    let path = pod.path().to_owned();
    pod.ip(&["link", "del", "eth0"]).unwrap();
    node.ns
        .exec_ok(&["ip", "netns", "delete", pod.name()])
        .unwrap();
    assert!(!path.exists());
    node.del(&conf, Some(&pod), "ctr");
    assert!(node.reservations().is_empty());
    assert!(!ruleset(&node.ns).contains("10.31.0.2"));
    assert!(node.ns.link(&host).unwrap().is_none());
}

#[test]
fn a_failed_add_releases_the_address_and_the_veth() {
    let node = Node::new("br-add-rollback");
    let pod = node.pod("pod");
    // The second ADD into the same pod needs a second default route, which exists: it fails
    // after IPAM and after the veth was made.
    let conf = node.conf(
        "1.0.0",
        &["10.32.0.0/24"],
        json!({"isDefaultGateway": true}),
    );
    node.add(&conf, &pod, "ctr-1");
    let run = node.run(&node.inv("ADD", &conf, Some(&pod), "ctr-2", "net1"));
    let err = run.expect_err(999);
    assert!(err["msg"].as_str().unwrap().contains("route"), "{err}");
    assert!(pod.link("net1").unwrap().is_none(), "veth rolled back");
    assert_eq!(
        node.reservations(),
        ["10.32.0.2"],
        "only ctr-1's address is held"
    );
    let ports = node.ns.bridge_ports().unwrap();
    assert_eq!(ports.len(), 1, "no stray host veth: {ports:?}");

    // An existing CNI_IFNAME is an error, and takes no address.
    let run = node.run(&node.inv("ADD", &conf, Some(&pod), "ctr-3", "eth0"));
    let err = run.expect_err(999);
    assert!(
        err["msg"].as_str().unwrap().contains("already exists"),
        "{err}"
    );
    assert_eq!(node.reservations(), ["10.32.0.2"]);
}

#[test]
fn an_ipam_failure_while_the_veth_is_made_leaves_no_veth_and_reports_ipams_error() {
    // IPAM runs beside the veth's creation, so when it fails the veth (and its port) already
    // exist: they must go, and the error must be IPAM's, as if IPAM had run first.
    let node = Node::new("br-ipam-fails");
    // A /30 with the gateway on .1 has one pod address.
    let conf = node.conf("1.0.0", &["10.33.0.0/30"], json!({"isGateway": true}));
    let first = node.pod("first");
    node.add(&conf, &first, "ctr-1");
    let second = node.pod("second");
    for _ in 0..3 {
        let run = node.run(&node.inv("ADD", &conf, Some(&second), "ctr-2", "eth0"));
        let err = run.expect_err(999);
        assert!(
            err["msg"]
                .as_str()
                .unwrap()
                .contains("no IP addresses available in range set"),
            "{err}"
        );
        assert!(second.link("eth0").unwrap().is_none(), "pod veth removed");
        let ports = node.ns.bridge_ports().unwrap();
        assert_eq!(ports.len(), 1, "only the first pod's port: {ports:?}");
        assert_eq!(node.reservations(), ["10.33.0.2"]);
    }
    // The range frees up once the first pod goes, and the same ADD then works.
    node.del(&conf, Some(&first), "ctr-1");
    node.add(&conf, &second, "ctr-2");
    assert_eq!(node.reservations(), ["10.33.0.2"]);
}
