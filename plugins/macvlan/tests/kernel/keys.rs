//! One test per config key (or family of keys), each failing if the plugin ignored the key.

use cni_sandbox::{KindData, Lower};
use serde_json::{Value, json};

use crate::common::{Lan, call, conf, ip, mac_of, reaches};

#[test]
fn without_master_the_default_route_interface_is_used() {
    let lan = Lan::new("mv_default_master");
    let (_host, _) = lan.host("host", &["10.10.0.100/24"]);
    let c = json!({"cniVersion": "1.0.0", "name": "lan", "type": "macvlan",
                   "ipam": lan.ipam(json!({}))});
    let pod = lan.pod("pod");

    // No default route yet: the error says what to do.
    let err = lan.run(&call("ADD", &pod, "c", "eth0", &c)).expect_err(7);
    let msg = err["msg"].as_str().unwrap();
    assert!(
        msg.contains("no default route") && msg.contains("set \"master\""),
        "{msg}"
    );
    assert!(lan.reservations("lan").is_empty());

    // A second uplink carries an IPv6 default route: that one, not up0, becomes the master.
    lan.switch.plug(&lan.node, "up1", None).unwrap();
    lan.node.add_addr("up1", "fd00:10::3/64").unwrap();
    lan.node
        .ip(&[
            "-6",
            "route",
            "add",
            "default",
            "via",
            "fd00:10::1",
            "dev",
            "up1",
        ])
        .unwrap();
    let r = lan.add(&pod, "c", "eth0", &c);
    let lower_index = |pod: &cni_sandbox::Ns| match pod.link("eth0").unwrap().unwrap().lower {
        Some(Lower::Remote { ifindex, .. }) => ifindex,
        other => panic!("unexpected lower {other:?}"),
    };
    let up1 = lan.node.link("up1").unwrap().unwrap().index;
    assert_eq!(lower_index(&pod), up1, "the IPv6 default route's interface");
    assert!(reaches(&pod, "10.10.0.100"));
    assert!(r["interfaces"][0]["sandbox"].is_string());

    // An IPv4 default route wins over the IPv6 one (the reference's dump order).
    lan.node
        .ip(&[
            "route",
            "add",
            "default",
            "via",
            "10.10.0.100",
            "dev",
            "up0",
        ])
        .unwrap();
    let second = lan.pod("second");
    lan.add(&second, "c2", "eth0", &c);
    assert_eq!(lower_index(&second), lan.up0_index());
}

#[test]
fn mtu_is_applied_and_bounded_by_the_master() {
    let lan = Lan::new("mv_mtu");
    let pod = lan.pod("pod");
    let c = conf(
        "lan",
        "1.1.0",
        json!({"mtu": 1280, "ipam": lan.ipam(json!({}))}),
    );
    let r = lan.add(&pod, "c", "eth0", &c);
    assert_eq!(pod.link("eth0").unwrap().unwrap().mtu, 1280);
    assert_eq!(
        r["interfaces"][0]["mtu"], 1280,
        "1.1.0 results carry the MTU"
    );

    let too_big = conf(
        "lan",
        "1.1.0",
        json!({"mtu": 1501, "ipam": lan.ipam(json!({}))}),
    );
    let other = lan.pod("other");
    let err = lan
        .run(&call("ADD", &other, "c2", "eth0", &too_big))
        .expect_err(7);
    assert_eq!(
        err["msg"],
        "invalid MTU 1501, must be [0, master MTU(1500)]"
    );
    assert!(other.link("eth0").unwrap().is_none());
    assert_eq!(
        lan.reservations("lan").len(),
        1,
        "validation comes before IPAM"
    );
}

#[test]
fn mac_comes_from_config_then_cni_args_then_runtime_config() {
    let lan = Lan::new("mv_mac");
    let base = json!({"mac": "02:00:00:00:00:01", "ipam": lan.ipam(json!({}))});
    let c = conf("lan", "1.0.0", base.clone());
    let with_runtime = conf(
        "lan",
        "1.0.0",
        json!({
            "mac": "02:00:00:00:00:01",
            "capabilities": {"mac": true},
            "runtimeConfig": {"mac": "02:00:00:00:00:03"},
            "ipam": lan.ipam(json!({})),
        }),
    );
    let (a, b, d) = (lan.pod("a"), lan.pod("b"), lan.pod("d"));
    let ra = lan.add(&a, "ca", "eth0", &c);
    let rb = lan
        .run(&call("ADD", &b, "cb", "eth0", &c).args("IgnoreUnknown=1;MAC=02:00:00:00:00:02"))
        .expect_result();
    let rd = lan
        .run(
            &call("ADD", &d, "cd", "eth0", &with_runtime)
                .args("IgnoreUnknown=1;MAC=02:00:00:00:00:02"),
        )
        .expect_result();
    for (pod, result, want) in [
        (&a, &ra, "02:00:00:00:00:01"),
        (&b, &rb, "02:00:00:00:00:02"),
        (&d, &rd, "02:00:00:00:00:03"),
    ] {
        assert_eq!(mac_of(pod, "eth0"), want);
        assert_eq!(result["interfaces"][0]["mac"], want);
    }
    assert!(reaches(&a, &ip(&rb, 0)), "pods with chosen MACs talk");

    let multicast = conf(
        "lan",
        "1.0.0",
        json!({"mac": "f1:00:00:00:00:01", "ipam": lan.ipam(json!({}))}),
    );
    let e = lan.pod("e");
    let err = lan
        .run(&call("ADD", &e, "ce", "eth0", &multicast))
        .expect_err(7);
    assert!(err["msg"].as_str().unwrap().contains("multicast"), "{err}");
}

#[test]
fn link_in_container_uses_a_master_inside_the_pod() {
    let lan = Lan::new("mv_in_container");
    let (_host, _) = lan.host("host", &["10.10.0.100/24"]);
    let pod = lan.pod("pod");
    // The pod has its own uplink to the switch (e.g. a VM-style NIC handed to the pod).
    lan.switch.plug(&pod, "up9", None).unwrap();
    let c = conf(
        "lan",
        "1.0.0",
        json!({"master": "up9", "linkInContainer": true, "ipam": lan.ipam(json!({}))}),
    );

    let mut outside = c.clone();
    outside["linkInContainer"] = json!(false);
    let err = lan
        .run(&call("ADD", &pod, "c", "net1", &outside))
        .expect_err(7);
    assert!(
        err["msg"].as_str().unwrap().contains("\"up9\" not found"),
        "{err}"
    );

    lan.add(&pod, "c", "net1", &c);
    let link = pod.link("net1").unwrap().unwrap();
    assert_eq!(link.lower, Some(Lower::Local("up9".into())));
    assert!(reaches(&pod, "10.10.0.100"));
    lan.del(&pod, "c", "net1", &c);
    assert!(pod.link("net1").unwrap().is_none());
    assert!(pod.link("up9").unwrap().is_some(), "the master stays");
}

#[test]
fn bcqueuelen_sets_the_broadcast_queue() {
    let lan = Lan::new("mv_bcqueuelen");
    let pod = lan.pod("pod");
    let c = conf(
        "lan",
        "1.0.0",
        json!({"bcqueuelen": 123, "ipam": lan.ipam(json!({}))}),
    );
    lan.add(&pod, "c", "eth0", &c);
    let link = pod.link("eth0").unwrap().unwrap();
    assert_eq!(
        link.raw["linkinfo"]["info_data"]["bcqueuelen"], 123,
        "{}",
        link.raw
    );
}

#[test]
fn without_ipam_the_link_is_plain_l2() {
    let lan = Lan::new("mv_l2");
    let (a, b) = (lan.pod("a"), lan.pod("b"));
    // Both spellings of L2 mode: no "ipam", and an empty one.
    let no_key = conf("lan", "0.4.0", json!({}));
    let empty = conf("lan", "0.4.0", json!({"ipam": {}}));
    let ra = lan.add(&a, "ca", "eth0", &no_key);
    lan.add(&b, "cb", "eth0", &empty);
    assert_eq!(ra["ips"], Value::Null, "no addresses in the result: {ra}");
    let link = a.link("eth0").unwrap().unwrap();
    assert!(link.up, "L2 mode still brings the link up");
    assert!(
        a.addrs("eth0").unwrap().iter().all(|n| n.is_ipv6()),
        "no IPv4 address"
    );

    // The runtime (or another plugin) can address them; the link works.
    a.add_addr("eth0", "10.10.0.61/24").unwrap();
    b.add_addr("eth0", "10.10.0.62/24").unwrap();
    assert!(reaches(&a, "10.10.0.62"));

    let mut check = no_key.clone();
    check["prevResult"] = ra;
    lan.run(&call("CHECK", &a, "ca", "eth0", &check))
        .expect_ok();
    lan.del(&a, "ca", "eth0", &no_key);
    assert!(a.link("eth0").unwrap().is_none());
}

#[test]
fn dns_from_the_config_else_from_ipam() {
    let lan = Lan::new("mv_dns");
    let resolv = lan.world.tempdir().join("resolv.conf");
    std::fs::write(&resolv, "nameserver 10.10.0.53\nsearch example.test\n").unwrap();
    let ipam = lan.ipam(json!({"resolvConf": resolv.display().to_string()}));
    let (a, b) = (lan.pod("a"), lan.pod("b"));

    let from_ipam = lan.add(
        &a,
        "ca",
        "eth0",
        &conf("lan", "1.0.0", json!({"ipam": ipam})),
    );
    assert_eq!(
        from_ipam["dns"]["nameservers"],
        json!(["10.10.0.53"]),
        "{from_ipam}"
    );
    assert_eq!(from_ipam["dns"]["search"], json!(["example.test"]));

    let own = json!({"nameservers": ["10.10.0.54"], "domain": "lan.test"});
    let from_conf = lan.add(
        &b,
        "cb",
        "eth0",
        &conf("lan", "1.0.0", json!({"ipam": ipam, "dns": own})),
    );
    assert_eq!(from_conf["dns"], own, "the config's dns replaces IPAM's");
}

#[test]
fn the_pod_announces_itself_on_link_up() {
    let lan = Lan::new("mv_notify");
    let pod = lan.pod("pod");
    lan.add(
        &pod,
        "c",
        "eth0",
        &conf("lan", "1.0.0", json!({"ipam": lan.ipam(json!({}))})),
    );
    assert_eq!(pod.sysctl("net.ipv4.conf.eth0.arp_notify").unwrap(), "1");
    assert_eq!(pod.sysctl("net/ipv6/conf/eth0/ndisc_notify").unwrap(), "1");
}

#[test]
fn unusable_masters_are_refused_by_name_with_the_reason() {
    let lan = Lan::new("mv_bad_master");
    lan.node
        .ip(&["link", "add", "br0", "type", "bridge"])
        .unwrap();
    lan.node
        .ip(&["link", "add", "bp0", "type", "veth", "peer", "name", "bp1"])
        .unwrap();
    lan.node
        .ip(&["link", "set", "bp0", "master", "br0"])
        .unwrap();
    let pod = lan.pod("pod");
    for (master, expected) in [
        ("nope0", "master \"nope0\" not found"),
        ("bp0", "master \"bp0\" is a port of bridge \"br0\""),
        ("lo", "master \"lo\" is not an Ethernet interface"),
    ] {
        let c = conf(
            "lan",
            "1.0.0",
            json!({"master": master, "ipam": lan.ipam(json!({}))}),
        );
        let err = lan.run(&call("ADD", &pod, "c", "eth0", &c)).expect_err(7);
        let msg = err["msg"].as_str().unwrap();
        assert!(msg.starts_with(expected), "{master}: {msg}");
    }
    assert!(pod.link("eth0").unwrap().is_none());
    assert!(lan.reservations("lan").is_empty(), "refused before IPAM");
    // The bridge device itself has no rx_handler of its own: it can be a master.
    let c = conf(
        "lan",
        "1.0.0",
        json!({"master": "br0", "ipam": lan.ipam(json!({}))}),
    );
    lan.add(&pod, "c", "eth0", &c);
    assert!(matches!(
        pod.link("eth0").unwrap().unwrap().data,
        KindData::Macvlan(_)
    ));
}

#[test]
fn an_ipam_failure_while_the_link_is_made_leaves_no_link_and_reports_ipams_error() {
    // IPAM runs beside the macvlan's creation: when it fails the link already exists in the
    // pod and must go, and the error must be IPAM's, as if IPAM had run first.
    let lan = Lan::new("mv_ipam_fails");
    let one_address = json!({"rangeStart": "10.10.0.10", "rangeEnd": "10.10.0.10"});
    let c = conf("lan", "1.0.0", json!({"ipam": lan.ipam(one_address)}));
    let first = lan.pod("first");
    lan.add(&first, "c1", "eth0", &c);
    let second = lan.pod("second");
    for _ in 0..3 {
        let err = lan
            .run(&call("ADD", &second, "c2", "eth0", &c))
            .expect_err(999);
        let msg = err["msg"].as_str().unwrap();
        assert!(
            msg.contains("no IP addresses available in range set"),
            "{err}"
        );
        assert!(second.link("eth0").unwrap().is_none(), "link removed");
        assert_eq!(lan.reservations("lan").len(), 1);
    }
    lan.del(&first, "c1", "eth0", &c);
    lan.add(&second, "c2", "eth0", &c);
    assert_eq!(lan.reservations("lan").len(), 1);
}
