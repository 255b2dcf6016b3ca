//! The five modes, as the seeds show them (macvlan-modes.txt, macvlan-vepa-hairpin-bridge.txt):
//! who can reach whom on one master.

use cni_sandbox::{KindData, Lower};
use serde_json::json;

use crate::common::{Lan, conf, ip, mac_of, reaches, reaches_once};

#[test]
fn bridge_mode_pods_reach_each_other_and_a_host_on_the_switch() {
    let lan = Lan::new("mv_bridge");
    let (host, _) = lan.host("host", &["10.10.0.100/24"]);
    // No "mode": the plugin's default is bridge (the kernel's would be vepa).
    let c = conf("lan", "1.0.0", json!({"ipam": lan.ipam(json!({}))}));
    let (a, b) = (lan.pod("a"), lan.pod("b"));
    let ra = lan.add(&a, "ca", "eth0", &c);
    let rb = lan.add(&b, "cb", "eth0", &c);

    let link = a.link("eth0").unwrap().expect("eth0 in pod a");
    let KindData::Macvlan(info) = &link.data else {
        panic!("not a macvlan: {link:?}")
    };
    assert_eq!(info.mode, "bridge");
    let from_a = a.nsid_of(&lan.node).unwrap();
    assert_eq!(
        link.lower,
        Some(Lower::Remote {
            ifindex: lan.up0_index(),
            netnsid: from_a
        }),
        "the pod's macvlan hangs off the node's up0"
    );
    assert_eq!(ra["interfaces"][0]["mac"], link.mac.clone().unwrap());
    assert!(
        lan.node
            .links()
            .unwrap()
            .iter()
            .all(|l| l.kind.as_deref() != Some("macvlan")),
        "nothing was left on the node"
    );

    assert!(reaches(&a, &ip(&rb, 0)), "pod a -> pod b");
    assert!(reaches(&b, &ip(&ra, 0)), "pod b -> pod a");
    assert!(reaches(&a, "10.10.0.100"), "pod a -> host on the switch");
    assert!(reaches(&host, &ip(&rb, 0)), "host -> pod b");
}

#[test]
fn vepa_pods_talk_only_through_a_hairpinning_switch() {
    let lan = Lan::new("mv_vepa");
    let (_host, _) = lan.host("host", &["10.10.0.100/24"]);
    let c = conf(
        "lan",
        "1.0.0",
        json!({"mode": "vepa", "ipam": lan.ipam(json!({}))}),
    );
    let (a, b) = (lan.pod("a"), lan.pod("b"));
    let ra = lan.add(&a, "ca", "eth0", &c);
    let rb = lan.add(&b, "cb", "eth0", &c);
    assert_eq!(
        a.link("eth0").unwrap().unwrap().macvlan().unwrap().mode,
        "vepa"
    );
    assert!(reaches(&a, "10.10.0.100"), "the switch itself is reachable");

    lan.switch.set_hairpin(&lan.up0, false).unwrap();
    assert!(
        !reaches_once(&a, &ip(&rb, 0)),
        "hairpin off: a must not reach b"
    );

    lan.switch.set_hairpin(&lan.up0, true).unwrap();
    assert!(reaches(&a, &ip(&rb, 0)), "hairpin on: a reaches b");
    assert!(reaches(&b, &ip(&ra, 0)), "hairpin on: b reaches a");
}

#[test]
fn private_pods_never_talk_even_through_a_hairpinning_switch() {
    let lan = Lan::new("mv_private");
    let (_host, _) = lan.host("host", &["10.10.0.100/24"]);
    let c = conf(
        "lan",
        "1.0.0",
        json!({"mode": "private", "ipam": lan.ipam(json!({}))}),
    );
    let (a, b) = (lan.pod("a"), lan.pod("b"));
    lan.add(&a, "ca", "eth0", &c);
    let rb = lan.add(&b, "cb", "eth0", &c);
    assert_eq!(
        a.link("eth0").unwrap().unwrap().macvlan().unwrap().mode,
        "private"
    );
    lan.switch.set_hairpin(&lan.up0, true).unwrap();
    assert!(reaches(&a, "10.10.0.100"), "the switch is reachable");
    assert!(
        !reaches_once(&a, &ip(&rb, 0)),
        "private: a must not reach b"
    );
}

#[test]
fn passthru_takes_the_master_alone_and_a_second_add_fails_clearly() {
    let lan = Lan::new("mv_passthru");
    let (_host, _) = lan.host("host", &["10.10.0.100/24"]);
    let c = conf(
        "lan",
        "1.0.0",
        json!({"mode": "passthru", "ipam": lan.ipam(json!({}))}),
    );
    let (a, b) = (lan.pod("a"), lan.pod("b"));
    let ra = lan.add(&a, "ca", "eth0", &c);
    let link = a.link("eth0").unwrap().unwrap();
    assert_eq!(link.macvlan().unwrap().mode, "passthru");
    assert_eq!(
        link.mac,
        Some(mac_of(&lan.node, "up0")),
        "passthru wears the master's MAC"
    );
    assert_eq!(ra["interfaces"][0]["mac"], mac_of(&lan.node, "up0"));
    assert!(reaches(&a, "10.10.0.100"));

    let second = lan.run(&crate::common::call("ADD", &b, "cb", "eth0", &c));
    let err = second.expect_err(7);
    let msg = err["msg"].as_str().unwrap();
    assert!(
        msg.contains("\"up0\"") && msg.contains("passthru"),
        "the error names the master and the rule: {msg}"
    );
    assert!(b.link("eth0").unwrap().is_none());
    assert_eq!(
        lan.reservations("lan").len(),
        1,
        "the failed ADD released its address"
    );
    assert!(reaches(&a, "10.10.0.100"), "the first pod is unharmed");

    // A bridge-mode child cannot join a passthru master either.
    let bridge = conf("lan2", "1.0.0", json!({"ipam": lan.ipam(json!({}))}));
    let err = lan
        .run(&crate::common::call("ADD", &b, "cb", "eth0", &bridge))
        .expect_err(7);
    assert!(err["msg"].as_str().unwrap().contains("passthru"), "{err}");
}

#[test]
fn source_mode_hears_only_the_listed_source_macs() {
    let lan = Lan::new("mv_source");
    let (allowed, _) = lan.host("allowed", &["10.10.0.100/24"]);
    let (other, _) = lan.host("other", &["10.10.0.101/24"]);
    let allowed_mac = mac_of(&allowed, "eth0");
    let c = conf(
        "lan",
        "1.0.0",
        json!({
            "mode": "source",
            "sourceMacs": [allowed_mac],
            "ipam": lan.ipam(json!({})),
        }),
    );
    let pod = lan.pod("pod");
    let r = lan.add(&pod, "c", "eth0", &c);
    let info = pod
        .link("eth0")
        .unwrap()
        .unwrap()
        .macvlan()
        .cloned()
        .unwrap();
    assert_eq!(info.mode, "source");
    assert_eq!(info.source_macs, vec![allowed_mac]);

    assert!(
        reaches(&allowed, &ip(&r, 0)),
        "the listed MAC reaches the pod"
    );
    assert!(
        !reaches_once(&other, &ip(&r, 0)),
        "frames from an unlisted MAC must not reach the pod"
    );
}
