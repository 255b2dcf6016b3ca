//! One test per config key (cni-reference.md §2.1) that fails if the key is ignored. Keys
//! covered elsewhere: `hairpinMode` (topology: VIP), `isGateway`/`isDefaultGateway`
//! (topology), `enabledad` (topology), `ipam: {}` (check: L2), `bridge` (every test uses
//! `br-test`).

use cni_sandbox::{Ping, caps};
use serde_json::json;

use crate::common::{Node, ip_of, ruleset};

#[test]
fn mtu_sets_the_new_bridge_and_both_veth_ends() {
    let node = Node::new("br-key-mtu");
    let conf = node.conf("1.1.0", &["10.70.0.0/24"], json!({"mtu": 1400}));
    let pod = node.pod("pod");
    let r = node.add(&conf, &pod, "ctr");
    assert_eq!(node.ns.link(&node.bridge).unwrap().unwrap().mtu, 1400);
    assert_eq!(
        node.ns.link(&node.host_veth(&r)).unwrap().unwrap().mtu,
        1400
    );
    assert_eq!(pod.link("eth0").unwrap().unwrap().mtu, 1400);
}

#[test]
fn promisc_mode_makes_the_bridge_promiscuous_and_excludes_hairpin() {
    let node = Node::new("br-key-promisc");
    let pod = node.pod("pod");
    let flags = |n: &Node| n.ns.link(&n.bridge).unwrap().unwrap().raw["flags"].to_string();
    let conf = node.conf("1.0.0", &["10.71.0.0/24"], json!({"promiscMode": true}));
    node.add(&conf, &pod, "ctr");
    assert!(flags(&node).contains("PROMISC"), "{}", flags(&node));

    let conf = node.conf(
        "1.0.0",
        &["10.71.0.0/24"],
        json!({"promiscMode": true, "hairpinMode": true}),
    );
    let e = node
        .run(&node.inv("ADD", &conf, Some(&pod), "ctr-2", "net1"))
        .expect_err(7);
    assert_eq!(
        e["msg"],
        "cannot set hairpin mode and promiscuous mode at the same time"
    );

    let plain = Node::new("br-key-promisc-off");
    let conf = plain.conf("1.0.0", &["10.71.0.0/24"], json!({}));
    plain.add(&conf, &plain.pod("pod"), "ctr");
    assert!(!flags(&plain).contains("PROMISC"));
}

#[test]
fn force_address_replaces_a_conflicting_bridge_address() {
    let node = Node::new("br-key-force");
    node.ns
        .ip(&["link", "add", &node.bridge, "type", "bridge"])
        .unwrap();
    node.ns.add_addr(&node.bridge, "10.99.0.1/24").unwrap();
    let pod = node.pod("pod");
    let conf = node.conf("1.0.0", &["10.72.0.0/24"], json!({"isGateway": true}));
    let e = node
        .run(&node.inv("ADD", &conf, Some(&pod), "ctr", "eth0"))
        .expect_err(999);
    assert_eq!(
        e["msg"],
        format!(
            "{:?} already has an IP address different from 10.72.0.1/24",
            node.bridge
        )
    );
    assert!(
        node.reservations().is_empty(),
        "a failed ADD releases its address"
    );
    assert!(pod.link("eth0").unwrap().is_none(), "and its veth");

    let conf = node.conf(
        "1.0.0",
        &["10.72.0.0/24"],
        json!({"isGateway": true, "forceAddress": true}),
    );
    node.add(&conf, &pod, "ctr");
    let addrs = node.ns.addrs(&node.bridge).unwrap();
    assert!(
        addrs.contains(&"10.72.0.1/24".parse().unwrap()),
        "{addrs:?}"
    );
    assert!(
        !addrs.contains(&"10.99.0.1/24".parse().unwrap()),
        "{addrs:?}"
    );
}

#[test]
fn a_non_bridge_link_with_the_bridge_name_is_an_error() {
    let node = Node::new("br-key-not-bridge");
    let pod = node.pod("pod");
    node.world
        .veth((&node.ns, &node.bridge), (&pod, "peer0"))
        .unwrap();
    let conf = node.conf("1.0.0", &["10.73.0.0/24"], json!({}));
    let e = node
        .run(&node.inv("ADD", &conf, Some(&pod), "ctr", "eth0"))
        .expect_err(999);
    assert_eq!(
        e["msg"],
        format!("{:?} already exists but is not a bridge", node.bridge)
    );
    assert!(node.reservations().is_empty());
}

#[test]
fn ip_masq_hides_pods_behind_the_node_with_either_backend() {
    for backend in ["nftables", "iptables"] {
        let node = Node::new("br-key-masq");
        // An "outside" host that knows the node but has no route back to the pod subnet.
        let outside = node.pod("outside");
        node.world
            .veth((&node.ns, "uplink"), (&outside, "eth0"))
            .unwrap();
        node.ns.add_addr("uplink", "10.250.0.1/24").unwrap();
        outside.add_addr("eth0", "10.250.0.2/24").unwrap();
        let pod = node.pod("pod");
        let extra = json!({"isDefaultGateway": true, "ipMasq": true, "ipMasqBackend": backend});
        let plain = node.conf(
            "1.0.0",
            &["10.74.0.0/24"],
            json!({"isDefaultGateway": true}),
        );
        node.add(&plain, &pod, "ctr");
        assert!(
            !pod.ping_with("10.250.0.2", &Ping::once()).unwrap(),
            "control: no masquerade, no reply"
        );
        node.del(&plain, Some(&pod), "ctr");

        let conf = node.conf("1.0.0", &["10.74.0.0/24"], extra);
        node.add(&conf, &pod, "ctr");
        assert!(
            pod.ping("10.250.0.2").unwrap(),
            "{backend}: masqueraded ping answered"
        );
        assert!(
            pod.ping("10.74.0.1").unwrap(),
            "inside the subnet is not masqueraded away"
        );
        let nft = ruleset(&node.ns);
        let ipt = node.ns.exec_ok(&["iptables-save", "-t", "nat"]).unwrap();
        match backend {
            "nftables" => assert!(
                nft.contains("masq_checks") && !ipt.contains("CNI-"),
                "{nft}\n{ipt}"
            ),
            // iptables-nft rules show in `nft list ruleset` too, but not in our inet table.
            _ => assert!(
                ipt.contains("CNI-") && !nft.contains("masq_checks"),
                "{nft}\n{ipt}"
            ),
        }
        node.del(&conf, Some(&pod), "ctr");
    }
}

#[test]
fn macspoofchk_drops_frames_with_a_foreign_source_mac() {
    for check in [true, false] {
        let node = Node::new("br-key-spoof");
        let conf = node.conf("1.0.0", &["10.75.0.0/24"], json!({"macspoofchk": check}));
        let (a, b) = (node.pod("pod-a"), node.pod("pod-b"));
        node.add(&conf, &a, "ctr-a");
        let rb = node.add(&conf, &b, "ctr-b");
        assert!(a.ping(&ip_of(&rb, 0)).unwrap());
        assert_eq!(ruleset(&node.ns).contains("macspoofchk-ctr-a-eth0"), check);
        // Pod a now claims another MAC; b forgets a's old one.
        a.ip(&["link", "set", "eth0", "address", "02:66:66:66:66:66"])
            .unwrap();
        b.ip(&["neigh", "flush", "all"]).unwrap();
        a.ip(&["neigh", "flush", "all"]).unwrap();
        let opts = if check { Ping::once() } else { Ping::default() };
        let reached = a.ping_with(&ip_of(&rb, 0), &opts).unwrap();
        assert_eq!(
            reached, !check,
            "macspoofchk {check}: spoofed pod reached its peer = {reached}"
        );
        node.del(&conf, Some(&a), "ctr-a");
        assert!(
            !ruleset(&node.ns).contains("ctr-a"),
            "DEL removes the spoof-check chains"
        );
    }
}

#[test]
fn port_isolation_keeps_pods_apart_but_not_from_the_gateway() {
    for isolated in [true, false] {
        let node = Node::new("br-key-isolation");
        let conf = node.conf(
            "1.0.0",
            &["10.76.0.0/24"],
            json!({"portIsolation": isolated, "isGateway": true}),
        );
        let (a, b) = (node.pod("pod-a"), node.pod("pod-b"));
        let ra = node.add(&conf, &a, "ctr-a");
        let rb = node.add(&conf, &b, "ctr-b");
        let port = node.ns.bridge_port(&node.host_veth(&ra)).unwrap().unwrap();
        assert_eq!(port.isolated, isolated);
        let opts = if isolated {
            Ping::once()
        } else {
            Ping::default()
        };
        assert_eq!(a.ping_with(&ip_of(&rb, 0), &opts).unwrap(), !isolated);
        assert!(
            a.ping("10.76.0.1").unwrap(),
            "the bridge itself is not an isolated port"
        );
    }
}

#[test]
fn disable_container_interface_leaves_the_pod_link_down() {
    let node = Node::new("br-key-disable");
    let mut conf = node.conf("1.0.0", &[], json!({"disableContainerInterface": true}));
    conf["ipam"] = json!({});
    let pod = node.pod("pod");
    node.add(&conf, &pod, "ctr");
    let link = pod.link("eth0").unwrap().unwrap();
    assert!(!link.up, "{link:?}");
    let mut enabled = conf.clone();
    enabled["disableContainerInterface"] = json!(false);
    node.add(&enabled, &node.pod("pod-2"), "ctr-2");
}

#[test]
fn mac_comes_from_config_cni_args_args_and_runtime_config_later_wins() {
    let node = Node::new("br-key-mac");
    let pod = node.pod("pod");
    let cases = [
        (json!({"mac": "02:00:00:00:01:01"}), "", "02:00:00:00:01:01"),
        (
            json!({"mac": "02:00:00:00:01:01"}),
            "MAC=02:00:00:00:01:02",
            "02:00:00:00:01:02",
        ),
        (
            json!({"args": {"cni": {"mac": "02:00:00:00:01:03"}}}),
            "MAC=02:00:00:00:01:02",
            "02:00:00:00:01:03",
        ),
        (
            json!({"args": {"cni": {"mac": "02:00:00:00:01:03"}}, "runtimeConfig": {"mac": "02:00:00:00:01:04"}}),
            "MAC=02:00:00:00:01:02",
            "02:00:00:00:01:04",
        ),
    ];
    for (extra, args, want) in cases {
        let conf = node.conf("1.0.0", &["10.77.0.0/24"], extra);
        // host-local gets the same CNI_ARGS and knows no MAC key: runtimes send IgnoreUnknown.
        let args = format!("IgnoreUnknown=1;{args}");
        let inv = node
            .inv("ADD", &conf, Some(&pod), "ctr", "eth0")
            .args(&args);
        let r = node.run(&inv).expect_result();
        assert_eq!(
            pod.link("eth0").unwrap().unwrap().mac.as_deref(),
            Some(want)
        );
        assert_eq!(r["interfaces"][2]["mac"], want);
        node.del(&conf, Some(&pod), "ctr");
    }
    let conf = node.conf(
        "1.0.0",
        &["10.77.0.0/24"],
        json!({"runtimeConfig": {"mac": "01:00:5e:00:00:01"}}),
    );
    let e = node
        .run(&node.inv("ADD", &conf, Some(&pod), "ctr", "eth0"))
        .expect_err(7);
    assert!(e["msg"].as_str().unwrap().contains("multicast"), "{e}");
}

#[test]
fn config_dns_overrides_ipam_dns_only_when_set() {
    let node = Node::new("br-key-dns");
    let resolv = node.world.tempdir().join("resolv.conf");
    std::fs::write(&resolv, "nameserver 10.0.0.53\nsearch example.test\n").unwrap();
    let pod = node.pod("pod");
    let mut conf = node.conf("1.0.0", &["10.78.0.0/24"], json!({}));
    conf["ipam"]["resolvConf"] = json!(resolv);
    let r = node.add(&conf, &pod, "ctr");
    assert_eq!(r["dns"]["nameservers"], json!(["10.0.0.53"]), "{r}");
    node.del(&conf, Some(&pod), "ctr");
    conf["dns"] = json!({"nameservers": ["10.0.0.10"]});
    let r = node.add(&conf, &pod, "ctr");
    assert_eq!(r["dns"]["nameservers"], json!(["10.0.0.10"]), "{r}");
    assert!(
        r["dns"].get("search").is_none(),
        "replaced, not merged: {r}"
    );
}

#[test]
fn vlan_keys() {
    let node = Node::new("br-key-vlan");
    let pod = node.pod("pod");
    let conf = node.conf(
        "1.0.0",
        &["10.79.0.0/24"],
        json!({"vlan": 100, "vlanTrunk": [{"id": 101}, {"minID": 200, "maxID": 202}]}),
    );
    if !caps::bridge_vlan_filtering().unwrap() {
        eprintln!("skipping the VLAN data path: this kernel has no bridge VLAN filtering");
        // The refusal is clear and leaves nothing behind.
        let e = node
            .run(&node.inv("ADD", &conf, Some(&pod), "ctr", "eth0"))
            .expect_err(999);
        assert!(e["msg"].as_str().unwrap().contains("VLAN filtering"), "{e}");
        assert!(node.reservations().is_empty());
        assert!(pod.link("eth0").unwrap().is_none());
        return;
    }
    let r = node.add(&conf, &pod, "ctr");
    let host = node.host_veth(&r);
    let vlans = node.ns.vlans(&host).unwrap();
    let ids: Vec<u16> = vlans.iter().map(|v| v.vid).collect();
    assert_eq!(
        ids,
        [100, 101, 200, 201, 202],
        "default VLAN 1 removed: {vlans:?}"
    );
    assert!(vlans[0].pvid && vlans[0].untagged);
    assert!(!vlans[1].pvid && !vlans[1].untagged);
    node.check(&conf, &r, &pod, "ctr").expect_ok();

    let keep = node.conf(
        "1.0.0",
        &["10.79.0.0/24"],
        json!({"vlan": 100, "preserveDefaultVlan": true}),
    );
    let r = node.add(&keep, &node.pod("pod-2"), "ctr-2");
    let ids: Vec<u16> = node
        .ns
        .vlans(&node.host_veth(&r))
        .unwrap()
        .iter()
        .map(|v| v.vid)
        .collect();
    assert!(ids.contains(&1) && ids.contains(&100), "{ids:?}");
}
