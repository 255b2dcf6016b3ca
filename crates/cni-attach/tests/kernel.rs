//! Kernel tests of the shared attachment code, each in its own sandbox world. Code that acts on
//! "the current namespace" (the node side, the firewall tools) runs on a thread that entered
//! the world's node namespace, never in the test's own (root) namespace.

// Helpers outside #[test] functions unwrap too: a panic is the failure report we want.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use cni_attach::bridge::{
    BridgeDevice, FORWARDING_TIMEOUT, attach_port, ensure_bridge, ensure_gateway_addr,
    wait_forwarding,
};
use cni_attach::masq::{self, MasqOwner};
use cni_attach::{
    MasqBackend, NsConn, PodOptions, PortFlags, VethRequest, configure_pod_interface, create_veth,
};
use cni_sandbox::{Family, Ns, World};
use cni_spec::{Attachment, CniResult, IpConfig, Route};
use ipnetwork::IpNetwork;

fn world(test: &str) -> (World, Ns, Ns) {
    let world = World::new(test).unwrap();
    let node = world.netns("node").unwrap();
    let pod = world.netns("pod").unwrap();
    (world, node, pod)
}

#[test]
fn veth_is_born_across_the_two_namespaces() {
    let (_world, node, pod) = world("attach-veth");
    let pod_path = pod.path().to_owned();
    let pair = node
        .run_on_thread(|| {
            let here = NsConn::current().unwrap();
            let there = NsConn::open(&pod_path).unwrap();
            let mac = "02:12:34:56:78:9a".parse().unwrap();
            let req = VethRequest {
                ifname: "eth0",
                mtu: Some(1450),
                mac: Some(mac),
            };
            let pair = create_veth(&here, &there, &req).unwrap();
            // The same name again is the spec's "interface exists" error, and leaves no veth.
            let again = create_veth(&here, &there, &req).unwrap_err();
            assert_eq!(
                again.to_string(),
                "container veth name \"eth0\" already exists"
            );
            pair
        })
        .unwrap();
    assert!(
        pair.host.name.starts_with("veth") && pair.host.name.len() == 12,
        "{}",
        pair.host.name
    );
    let host = node
        .link(&pair.host.name)
        .unwrap()
        .expect("host end on the node");
    assert!(host.up, "host end is brought up");
    assert_eq!(host.mtu, 1450);
    let eth0 = pod.link("eth0").unwrap().expect("pod end in the pod");
    assert_eq!(
        (eth0.mtu, eth0.mac.as_deref()),
        (1450, Some("02:12:34:56:78:9a"))
    );
    assert!(!eth0.up, "the caller configures the pod end first");
    assert!(node.link("eth0").unwrap().is_none(), "never on the node");
    // A bridge port needs no IPv6 of its own (issue 8): none, and no address either.
    assert_eq!(
        node.sysctl(&format!("net/ipv6/conf/{}/disable_ipv6", pair.host.name))
            .unwrap(),
        "1"
    );
    assert!(
        node.addrs(&pair.host.name).unwrap().is_empty(),
        "the host end has no address"
    );
    assert_eq!(
        node.links()
            .unwrap()
            .iter()
            .filter(|l| l.kind.as_deref() == Some("veth"))
            .count(),
        1
    );
}

/// Pods behind bridge ports whose host ends have no IPv6 still reach the IPv6 gateway on the
/// bridge and each other: bridging is L2, and the bridge's own address is the gateway's.
#[test]
fn ipv6_pods_behind_ports_without_ipv6_reach_the_gateway_and_each_other() {
    let world = World::new("attach-v6-ports").unwrap();
    let node = world.netns("node").unwrap();
    let pods = [world.netns("pod-a").unwrap(), world.netns("pod-b").unwrap()];
    let gateway: IpNetwork = "fd00:8::1/64".parse().unwrap();
    let addresses = ["fd00:8::a/64", "fd00:8::b/64"];
    let paths: Vec<_> = pods.iter().map(|p| p.path().to_owned()).collect();
    let hosts = node
        .run_on_thread(|| {
            let here = NsConn::current().unwrap();
            let bridge = ensure_bridge(&here, &BridgeDevice::named("br6")).unwrap();
            ensure_gateway_addr(&here, &bridge, gateway, false).unwrap();
            let mut hosts = Vec::new();
            for (path, address) in paths.iter().zip(addresses) {
                let there = NsConn::open(path).unwrap();
                let req = VethRequest {
                    ifname: "eth0",
                    mtu: None,
                    mac: None,
                };
                let pair = create_veth(&here, &there, &req).unwrap();
                attach_port(&here, &bridge, &pair.host, PortFlags::default()).unwrap();
                let result = CniResult {
                    ips: vec![IpConfig {
                        address: address.parse().unwrap(),
                        gateway: Some(gateway.ip()),
                        interface: Some(0),
                    }],
                    routes: vec![Route::new("::/0".parse().unwrap(), None)],
                    ..CniResult::default()
                };
                configure_pod_interface(&there, &pair.pod, &result, 0, PodOptions::default())
                    .unwrap();
                wait_forwarding(&here, &pair.host, FORWARDING_TIMEOUT).unwrap();
                hosts.push(pair.host.name);
            }
            hosts
        })
        .unwrap();
    for host in &hosts {
        let link = node.link(host).unwrap().expect("host end");
        assert_eq!(link.master.as_deref(), Some("br6"), "{host} is a port");
        assert!(
            node.addrs(host).unwrap().is_empty(),
            "{host} has an address"
        );
        assert_eq!(
            node.sysctl(&format!("net/ipv6/conf/{host}/disable_ipv6"))
                .unwrap(),
            "1"
        );
    }
    // The node keeps IPv6 where it has a use: on the bridge, with the gateway.
    assert!(node.addrs("br6").unwrap().contains(&gateway));
    let ping = |pod: &Ns, to: &str| {
        // The pods' own link-local addresses may still be in DAD for a moment.
        (0..20).any(|_| {
            pod.ping(to).unwrap() || {
                std::thread::sleep(Duration::from_millis(100));
                false
            }
        })
    };
    assert!(ping(&pods[0], "fd00:8::1"), "pod a to the gateway");
    assert!(ping(&pods[1], "fd00:8::1"), "pod b to the gateway");
    assert!(ping(&pods[0], "fd00:8::b"), "pod a to pod b");
    assert!(ping(&pods[1], "fd00:8::a"), "pod b to pod a");
}

/// A new port starts with hairpin and isolation off, so only flags that are on are written to
/// it; a port attached again always gets both written, so it cannot keep an old flag.
#[test]
fn port_flags_are_what_was_asked_for_new_and_reattached_ports() {
    let (world, node, pod) = world("attach-port-flags");
    world.veth((&node, "vp0"), (&pod, "eth0")).unwrap();
    let flags = |port: &str| {
        let raw = node.link(port).unwrap().expect("port").raw;
        let info = &raw["linkinfo"]["info_slave_data"];
        (info["hairpin"].as_bool(), info["isolated"].as_bool())
    };
    let attach = |flags: PortFlags| {
        node.run_on_thread(|| {
            let here = NsConn::current().unwrap();
            let bridge = ensure_bridge(&here, &BridgeDevice::named("brf")).unwrap();
            let port = here.handle.link_get("vp0").unwrap().unwrap();
            attach_port(&here, &bridge, &port, flags).unwrap();
        })
        .unwrap();
    };
    attach(PortFlags {
        hairpin: true,
        isolated: false,
    });
    assert_eq!(flags("vp0"), (Some(true), Some(false)));
    attach(PortFlags::default());
    assert_eq!(flags("vp0"), (Some(false), Some(false)), "reattached");
    attach(PortFlags {
        hairpin: false,
        isolated: true,
    });
    assert_eq!(flags("vp0"), (Some(false), Some(true)));
    // A new port with nothing on: the kernel's defaults, which are off.
    world.veth((&node, "vp1"), (&pod, "eth1")).unwrap();
    node.run_on_thread(|| {
        let here = NsConn::current().unwrap();
        let bridge = ensure_bridge(&here, &BridgeDevice::named("brf")).unwrap();
        let port = here.handle.link_get("vp1").unwrap().unwrap();
        assert!(port.master.is_none());
        attach_port(&here, &bridge, &port, PortFlags::default()).unwrap();
    })
    .unwrap();
    assert_eq!(
        node.link("vp1").unwrap().unwrap().master.as_deref(),
        Some("brf")
    );
    assert_eq!(flags("vp1"), (Some(false), Some(false)));
}

#[test]
fn pod_interface_gets_sysctls_addresses_then_up_then_routes() {
    let (world, node, pod) = world("attach-pod");
    // A peer on the node answering as the gateway.
    world.veth((&pod, "eth0"), (&node, "gw0")).unwrap();
    node.add_addr("gw0", "10.5.0.1/24").unwrap();
    node.add_addr("gw0", "fd00:5::1/64").unwrap();
    pod.ip(&["link", "set", "eth0", "down"]).unwrap();
    let mut result = CniResult::default();
    for (a, gw) in [("10.5.0.7/24", "10.5.0.1"), ("fd00:5::7/64", "fd00:5::1")] {
        result.ips.push(IpConfig {
            address: a.parse().unwrap(),
            gateway: Some(gw.parse().unwrap()),
            interface: Some(0),
        });
    }
    let net: IpNetwork = "10.99.0.0/16".parse().unwrap();
    result
        .routes
        .push(Route::new("0.0.0.0/0".parse().unwrap(), None));
    result.routes.push(Route {
        priority: Some(77),
        table: Some(100),
        ..Route::new(net, None)
    });
    result
        .routes
        .push(Route::new("::/0".parse().unwrap(), None));
    let pod_path = pod.path().to_owned();
    // The pod side needs no thread of ours in the pod: sockets and sysctls go through the
    // namespace handle.
    let there = NsConn::open(&pod_path).unwrap();
    let link = there.handle.link_get("eth0").unwrap().unwrap();
    let options = PodOptions {
        enable_dad: false,
        ndisc_notify: true,
    };
    configure_pod_interface(&there, &link, &result, 0, options).unwrap();
    assert_eq!(pod.sysctl("net.ipv4.conf.eth0.arp_notify").unwrap(), "1");
    assert_eq!(pod.sysctl("net.ipv6.conf.eth0.accept_dad").unwrap(), "0");
    assert_eq!(pod.sysctl("net.ipv6.conf.eth0.ndisc_notify").unwrap(), "1");
    assert_eq!(
        pod.sysctl("net.ipv6.conf.eth0.keep_addr_on_down").unwrap(),
        "1"
    );
    let addrs = pod.addrs("eth0").unwrap();
    assert!(
        addrs.contains(&"10.5.0.7/24".parse().unwrap())
            && addrs.contains(&"fd00:5::7/64".parse().unwrap())
    );
    assert!(pod.link("eth0").unwrap().unwrap().up);
    let v4 = pod.routes(Family::V4).unwrap();
    // A route without gw goes via its family's gateway; metric and table are honoured.
    assert!(
        v4.iter()
            .any(|r| r.dst.prefix() == 0 && r.gateway == Some("10.5.0.1".parse().unwrap())),
        "{v4:?}"
    );
    assert!(
        v4.iter()
            .any(|r| r.dst == net && r.metric == Some(77) && r.table == "100"),
        "{v4:?}"
    );
    let v6 = pod.routes(Family::V6).unwrap();
    assert!(
        v6.iter()
            .any(|r| r.dst.prefix() == 0 && r.gateway == Some("fd00:5::1".parse().unwrap())),
        "{v6:?}"
    );
    assert!(pod.ping("10.5.0.1").unwrap() && pod.ping("fd00:5::1").unwrap());
}

fn owner<'a>(id: &'a str) -> MasqOwner<'a> {
    MasqOwner {
        network: "mynet",
        ifname: "eth0",
        container_id: id,
    }
}

fn nat_rules(node: &Ns) -> String {
    let nft = node.nft(&["list", "ruleset"]).unwrap();
    let v4 = node.exec_ok(&["iptables-save", "-t", "nat"]).unwrap();
    let v6 = node.exec_ok(&["ip6tables-save", "-t", "nat"]).unwrap();
    format!("{nft}{v4}{v6}")
}

#[test]
fn masquerade_setup_check_teardown_and_gc_in_both_backends() {
    for backend in [MasqBackend::Nftables, MasqBackend::Iptables] {
        let (_world, node, _pod) = world("attach-masq");
        let a: Vec<IpNetwork> = vec![
            "10.6.0.2/24".parse().unwrap(),
            "fd00:6::2/64".parse().unwrap(),
        ];
        let b: Vec<IpNetwork> = vec!["10.6.0.3/24".parse().unwrap()];
        node.run_on_thread(|| {
            masq::setup(backend, &owner("ctr-a"), &a).unwrap();
            // A repeated ADD replaces, it does not duplicate.
            masq::setup(backend, &owner("ctr-a"), &a).unwrap();
            masq::setup(backend, &owner("ctr-b"), &b).unwrap();
            masq::check(backend, &owner("ctr-a"), &a).unwrap();
            assert!(
                masq::check(backend, &owner("ctr-b"), &a).is_err(),
                "b has no rule for a's IPs"
            );
        })
        .unwrap();
        let rules = nat_rules(&node);
        // iptables-nft rules also show in `nft list ruleset`: count in the backend's own view.
        let own = match backend {
            MasqBackend::Nftables => node
                .nft(&["list", "table", "inet", "cni_plugins_masquerade"])
                .unwrap(),
            MasqBackend::Iptables => node.exec_ok(&["iptables-save", "-t", "nat"]).unwrap(),
        };
        let per_address = own
            .lines()
            .filter(|l| l.contains("saddr 10.6.0.2 ") || l.contains("-s 10.6.0.2/32 "))
            .count();
        assert_eq!(per_address, 1, "{backend:?}: one rule per address:\n{own}");
        assert!(
            rules.contains("fd00:6::2") && rules.contains("10.6.0.3"),
            "{rules}"
        );

        node.run_on_thread(|| {
            let valid = [Attachment {
                container_id: "ctr-a".into(),
                ifname: "eth0".into(),
            }];
            masq::gc("mynet", &valid).unwrap();
            // Another network's GC leaves mynet alone.
            masq::gc("other", &[]).unwrap();
        })
        .unwrap();
        let rules = nat_rules(&node);
        assert!(
            rules.contains("10.6.0.2") && !rules.contains("10.6.0.3"),
            "{backend:?} gc:\n{rules}"
        );

        // Teardown needs no addresses, and tries both backends.
        node.run_on_thread(|| {
            masq::teardown(&owner("ctr-a")).unwrap();
            masq::teardown(&owner("ctr-a")).unwrap();
            assert!(masq::check(backend, &owner("ctr-a"), &a).is_err());
        })
        .unwrap();
        let rules = nat_rules(&node);
        assert!(
            !rules.contains("10.6.0.") && !rules.contains("fd00:6::"),
            "{backend:?}:\n{rules}"
        );
    }
}

/// An in-place upgrade: rules the Go plugin made must be found and removed by ours.
#[test]
fn teardown_removes_masquerade_rules_made_by_the_reference_plugin() {
    let (world, node, pod) = world("attach-masq-compat");
    let data = world.tempdir().join("ipam");
    let conf = serde_json::json!({
        "cniVersion": "0.4.0", "name": "mynet", "type": "bridge", "bridge": "brc",
        "isGateway": true, "ipMasq": true,
        "ipam": {"type": "host-local", "subnet": "10.7.0.0/24", "dataDir": data}
    });
    let add = cni_sandbox::Invocation::new("/usr/lib/cni/bridge", "ADD")
        .container_id("ctr1")
        .netns(pod.path())
        .ifname("eth0")
        .config(&conf);
    node.run_plugin(&add).unwrap().expect_result();
    assert!(
        nat_rules(&node).contains("10.7.0.2"),
        "the reference made its rules"
    );
    node.run_on_thread(|| masq::teardown(&owner("ctr1")).unwrap())
        .unwrap();
    let rules = nat_rules(&node);
    assert!(
        !rules.contains("10.7.0.2") && !rules.contains("CNI-"),
        "{rules}"
    );
}
