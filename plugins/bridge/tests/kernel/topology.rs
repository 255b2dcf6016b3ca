//! The basic topology (seed netns-veth-bridge-basics.txt automated): pods on one bridge reach
//! each other and the gateway; hairpin, as kube-proxy needs it; IPv6 and dual stack.

use cni_sandbox::{Family, Ping};
use serde_json::json;

use crate::common::{Node, ip_of};

#[test]
fn two_pods_ping_each_other_and_the_gateway_with_hairpin_on() {
    let node = Node::new("br-two-pods");
    // A new namespace may inherit ip_forward=1; start from 0 to see the plugin turn it on.
    node.ns.set_sysctl("net.ipv4.ip_forward", "0").unwrap();
    // flannel's delegate config.
    let conf = node.conf(
        "0.3.1",
        &["10.10.0.0/24"],
        json!({"hairpinMode": true, "isDefaultGateway": true}),
    );
    let (a, b) = (node.pod("pod-a"), node.pod("pod-b"));
    let ra = node.add(&conf, &a, "ctr-a");
    let rb = node.add(&conf, &b, "ctr-b");

    // The result: [bridge, host veth, pod]; addresses on the pod entry; default route.
    let ifaces = ra["interfaces"].as_array().unwrap();
    assert_eq!(ifaces.len(), 3, "{ra}");
    assert_eq!(ifaces[0]["name"], node.bridge.as_str());
    assert!(ifaces[1].get("sandbox").is_none());
    assert_eq!(ifaces[2]["sandbox"], a.path().to_str().unwrap());
    assert_eq!(ra["ips"][0]["interface"], 2);
    assert_eq!(ra["ips"][0]["gateway"], "10.10.0.1");
    assert_eq!(ra["routes"][0]["dst"], "0.0.0.0/0");

    // Kernel state: gateway on the bridge, forwarding on, port hairpin on and forwarding.
    let br_addrs = node.ns.addrs(&node.bridge).unwrap();
    assert!(
        br_addrs.contains(&"10.10.0.1/24".parse().unwrap()),
        "{br_addrs:?}"
    );
    assert_eq!(node.ns.sysctl("net.ipv4.ip_forward").unwrap(), "1");
    let port = node
        .ns
        .bridge_port(&node.host_veth(&ra))
        .unwrap()
        .expect("port");
    assert!(port.hairpin, "{port:?}");
    assert_eq!(
        (port.master.as_str(), port.state.as_str()),
        (node.bridge.as_str(), "forwarding")
    );
    let pod_routes = a.routes(Family::V4).unwrap();
    assert!(
        pod_routes
            .iter()
            .any(|r| r.dst.prefix() == 0 && r.gateway == Some("10.10.0.1".parse().unwrap())),
        "{pod_routes:?}"
    );

    // Traffic.
    assert!(a.ping(&ip_of(&rb, 0)).unwrap(), "pod a -> pod b");
    assert!(b.ping(&ip_of(&ra, 0)).unwrap(), "pod b -> pod a");
    assert!(a.ping("10.10.0.1").unwrap(), "pod a -> gateway");

    node.del(&conf, Some(&a), "ctr-a");
    node.del(&conf, Some(&b), "ctr-b");
    assert!(a.link("eth0").unwrap().is_none());
    assert!(node.ns.link(&node.host_veth(&ra)).unwrap().is_none());
    assert!(node.reservations().is_empty());
}

#[test]
fn the_gateway_pins_the_bridge_mac() {
    let node = Node::new("br-mac-pin");
    let conf = node.conf("1.0.0", &["10.11.0.0/24"], json!({"isGateway": true}));
    let pod = node.pod("pod");
    node.add(&conf, &pod, "ctr");
    let before = node.ns.link(&node.bridge).unwrap().unwrap().mac;
    // A port with the lowest possible MAC: an unpinned bridge would adopt it.
    node.world.veth((&node.ns, "lowp"), (&pod, "lowq")).unwrap();
    node.ns.ip(&["link", "set", "lowp", "down"]).unwrap();
    node.ns
        .ip(&["link", "set", "lowp", "address", "02:00:00:00:00:01"])
        .unwrap();
    node.ns
        .ip(&["link", "set", "lowp", "master", &node.bridge, "up"])
        .unwrap();
    let after = node.ns.link(&node.bridge).unwrap().unwrap().mac;
    assert_eq!(before, after, "bridge MAC followed a port");

    // Without isGateway the bridge has no address and nothing is pinned.
    let plain = Node::new("br-no-gw");
    let conf = plain.conf("1.0.0", &["10.12.0.0/24"], json!({}));
    let pod = plain.pod("pod");
    plain.add(&conf, &pod, "ctr");
    assert!(
        plain
            .ns
            .addrs(&plain.bridge)
            .unwrap()
            .iter()
            .all(|a| a.is_ipv6())
    );
    plain
        .world
        .veth((&plain.ns, "lowp"), (&pod, "lowq"))
        .unwrap();
    plain.ns.ip(&["link", "set", "lowp", "down"]).unwrap();
    plain
        .ns
        .ip(&["link", "set", "lowp", "address", "02:00:00:00:00:01"])
        .unwrap();
    plain
        .ns
        .ip(&["link", "set", "lowp", "master", &plain.bridge, "up"])
        .unwrap();
    let mac = plain.ns.link(&plain.bridge).unwrap().unwrap().mac;
    assert_eq!(
        mac.as_deref(),
        Some("02:00:00:00:00:01"),
        "control: an unpinned bridge follows"
    );
}

/// kube-proxy's hairpin case: a pod reaches a service VIP whose only endpoint is itself. The
/// DNAT happens on the bridge path (br_netfilter's call-iptables), so the frame must leave by
/// the port it came in on: only hairpin allows that. Masquerading the hairpinned flow is what
/// kube-proxy does too (KUBE-MARK-MASQ), so the reply comes back through the node.
#[test]
fn a_pod_reaches_itself_through_a_service_vip_only_with_hairpin() {
    for hairpin in [true, false] {
        let node = Node::new("br-hairpin-vip");
        // Per network namespace on this kernel; set it in the node only.
        node.ns
            .set_sysctl("net.bridge.bridge-nf-call-iptables", "1")
            .unwrap();
        let conf = node.conf(
            "1.0.0",
            &["10.13.0.0/24"],
            json!({"hairpinMode": hairpin, "isDefaultGateway": true}),
        );
        let pod = node.pod("pod");
        let r = node.add(&conf, &pod, "ctr");
        let me = ip_of(&r, 0);
        let vip = "10.96.0.10";
        node.ns
            .exec_ok(&[
                "iptables",
                "-t",
                "nat",
                "-A",
                "PREROUTING",
                "-d",
                vip,
                "-j",
                "DNAT",
                "--to-destination",
                &me,
            ])
            .unwrap();
        node.ns
            .exec_ok(&[
                "iptables",
                "-t",
                "nat",
                "-A",
                "POSTROUTING",
                "-s",
                &me,
                "-d",
                &me,
                "-j",
                "MASQUERADE",
            ])
            .unwrap();
        let opts = if hairpin {
            Ping::default()
        } else {
            Ping::once()
        };
        let reached = pod.ping_with(vip, &opts).unwrap();
        assert_eq!(
            reached, hairpin,
            "hairpinMode {hairpin}: VIP -> self reachable = {reached}"
        );
        assert!(
            pod.ping("10.13.0.1").unwrap(),
            "the gateway works either way"
        );
    }
}

#[test]
fn ipv6_and_dual_stack() {
    let node = Node::new("br-dual-stack");
    node.ns
        .set_sysctl("net.ipv6.conf.all.forwarding", "0")
        .unwrap();
    let conf = node.conf(
        "1.1.0",
        &["10.14.0.0/24", "fd00:14::/64"],
        json!({"isDefaultGateway": true}),
    );
    let (a, b) = (node.pod("pod-a"), node.pod("pod-b"));
    let ra = node.add(&conf, &a, "ctr-a");
    let rb = node.add(&conf, &b, "ctr-b");
    assert_eq!(ra["ips"][1]["address"], "fd00:14::2/64");
    assert_eq!(ra["ips"][1]["gateway"], "fd00:14::1");
    let dsts: Vec<&str> = ra["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["dst"].as_str().unwrap())
        .collect();
    assert_eq!(dsts, ["0.0.0.0/0", "::/0"]);
    assert_eq!(node.ns.sysctl("net.ipv6.conf.all.forwarding").unwrap(), "1");
    // DAD is off in pods by default (pod start latency, plugins #680), so addresses are usable
    // at once; the gateway is added nodad.
    assert_eq!(a.sysctl("net.ipv6.conf.eth0.accept_dad").unwrap(), "0");
    // (The kernel's own link-local address is not the plugin's: it appears at link-up.)
    assert!(
        a.addr_details("eth0")
            .unwrap()
            .iter()
            .filter(|d| d.scope == "global")
            .all(|d| !d.tentative)
    );
    assert!(a.ping(&ip_of(&rb, 1)).unwrap(), "v6 pod -> pod");
    assert!(a.ping("fd00:14::1").unwrap(), "v6 pod -> gateway");
    assert!(a.ping(&ip_of(&rb, 0)).unwrap(), "v4 pod -> pod");
    let v6_routes = a.routes(Family::V6).unwrap();
    assert!(
        v6_routes
            .iter()
            .any(|r| r.dst.prefix() == 0 && r.gateway == Some("fd00:14::1".parse().unwrap()))
    );

    // IPv6 only.
    let v6 = Node::new("br-v6-only");
    let conf = v6.conf("0.4.0", &["fd00:15::/64"], json!({"isGateway": true}));
    let (c, d) = (v6.pod("pod-c"), v6.pod("pod-d"));
    let rc = v6.add(&conf, &c, "ctr-c");
    let rd = v6.add(&conf, &d, "ctr-d");
    assert_eq!(rc["ips"][0]["version"], "6");
    assert!(c.ping(&ip_of(&rd, 0)).unwrap());
    assert!(c.ping("fd00:15::1").unwrap());
}

#[test]
fn enabledad_turns_dad_back_on() {
    let node = Node::new("br-dad");
    let conf = node.conf(
        "1.0.0",
        &["fd00:16::/64"],
        json!({"enabledad": true, "isGateway": true}),
    );
    let pod = node.pod("pod");
    node.add(&conf, &pod, "ctr");
    assert_eq!(pod.sysctl("net.ipv6.conf.eth0.accept_dad").unwrap(), "1");
    assert_eq!(pod.sysctl("net.ipv6.conf.eth0.enhanced_dad").unwrap(), "1");
    // The ADD waited for DAD (an IPv6 gateway is present), so the pod's address is usable now.
    // The kernel's link-local address runs its own DAD from link-up and is not the plugin's.
    let global: Vec<_> = pod
        .addr_details("eth0")
        .unwrap()
        .into_iter()
        .filter(|d| d.scope == "global")
        .collect();
    assert!(!global.is_empty() && global.iter().all(|d| !d.tentative));
}
