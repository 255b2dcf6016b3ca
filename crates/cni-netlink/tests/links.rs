//! Links of every kind the plugins make, created through our crate and read back both through
//! iproute2 (the oracle) and through our own `Link` view.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use cni_netlink::{
    BridgeSpec, LinkKind, ListKind, MacAddr, MacvlanMode, MacvlanSpec, OperState, VethEnd,
    VethSpec, Vni, VxlanSpec,
};
use cni_sandbox::{KindData, Lower};
use common::{link, open, world};

/// A veth pair with both ends in the handle's own namespace.
fn local_veth<'a>(a: &'a str, b: &'a str) -> VethSpec<'a> {
    VethSpec {
        local: VethEnd::named(a),
        peer: VethEnd::named(b),
        peer_netns: None,
    }
}

fn mac(s: &str) -> MacAddr {
    s.parse().expect("mac")
}

#[test]
fn veth_peer_is_born_in_the_node_while_the_other_end_is_in_the_pod() {
    let (_world, ns) = world("links_veth", &["node", "pod"]);
    let (node_ns, node) = open(&ns[0]);
    let (_, pod) = open(&ns[1]);

    // Like the Go bridge plugin: created from inside the pod, host end placed in the node.
    pod.link_add_veth(&VethSpec {
        local: VethEnd {
            name: "eth0",
            mtu: Some(1400),
            mac: Some(mac("02:00:00:00:aa:01")),
        },
        peer: VethEnd {
            name: "veth1a2b3c4d",
            mtu: Some(1400),
            mac: Some(mac("02:00:00:00:aa:02")),
        },
        peer_netns: Some(&node_ns),
    })
    .expect("create veth");

    let eth0 = ns[1].link("eth0").expect("ip").expect("eth0 in pod");
    let host = ns[0]
        .link("veth1a2b3c4d")
        .expect("ip")
        .expect("peer in node");
    assert!(
        ns[0].link("eth0").expect("ip").is_none(),
        "nothing named eth0 leaked into the node"
    );
    assert!(ns[1].link("veth1a2b3c4d").expect("ip").is_none());
    assert_eq!(eth0.kind.as_deref(), Some("veth"));
    assert_eq!((eth0.mtu, host.mtu), (1400, 1400));
    assert_eq!(eth0.mac.as_deref(), Some("02:00:00:00:aa:01"));
    assert_eq!(host.mac.as_deref(), Some("02:00:00:00:aa:02"));
    let pod_sees_node_as = ns[1].nsid_of(&ns[0]).expect("nsid");
    assert_eq!(
        eth0.lower,
        Some(Lower::Remote {
            ifindex: host.index,
            netnsid: pod_sees_node_as
        })
    );

    // Our view says the same.
    let ours = link(&pod, "eth0");
    assert_eq!(ours.kind, Some(LinkKind::Veth));
    assert_eq!(ours.link_index, Some(host.index));
    assert_eq!(ours.link_netnsid, pod_sees_node_as);
    assert_eq!(ours.mac, Some(mac("02:00:00:00:aa:01")));
    assert_eq!(link(&node, "veth1a2b3c4d").link_index, Some(eth0.index));
}

#[test]
fn eexist_keeps_its_errno_and_reads_well() {
    let (_world, ns) = world("links_eexist", &["node"]);
    let (_, node) = open(&ns[0]);
    let spec = local_veth("dup0", "dup1");
    node.link_add_veth(&spec).expect("first");
    let err = node.link_add_veth(&spec).expect_err("second must fail");
    assert!(err.is_exists(), "{err}");
    assert_eq!(err.errno(), Some(libc::EEXIST));
    let text = err.to_string();
    assert!(
        text.starts_with(r#"create veth "dup0" with peer "dup1" in /run/netns/"#),
        "{text}"
    );
    assert!(text.ends_with(": File exists (EEXIST)"), "{text}");
}

#[test]
fn macvlan_source_mode_keeps_its_allowed_macs() {
    let (world, ns) = world("links_macvlan_source", &["node", "pod"]);
    world
        .veth((&ns[0], "uplink0"), (&ns[1], "far0"))
        .expect("parent veth");
    let (pod_ns, pod) = open(&ns[1]);
    let (_, node) = open(&ns[0]);
    let parent = link(&node, "uplink0").index;

    let allowed = vec![
        mac("02:00:00:00:bb:01"),
        mac("02:00:00:00:bb:02"),
        mac("02:00:00:00:bb:03"),
    ];
    let spec = MacvlanSpec {
        source_macs: allowed.clone(),
        mtu: Some(1400),
        netns: Some(&pod_ns),
        ..MacvlanSpec::new("mvsrc0", parent, MacvlanMode::Source)
    };
    node.link_add_macvlan(&spec).expect("create");

    let view = ns[1]
        .link("mvsrc0")
        .expect("ip")
        .expect("macvlan in the pod");
    assert!(ns[0].link("mvsrc0").expect("ip").is_none());
    let KindData::Macvlan(info) = &view.data else {
        panic!("not a macvlan: {view:?}")
    };
    assert_eq!(info.mode, "source");
    // The kernel keeps the list in a hash table and reports it in its own order (the reverse
    // of insertion here), so compare as sets.
    let mut oracle: Vec<String> = info.source_macs.clone();
    oracle.sort();
    assert_eq!(
        oracle,
        [
            "02:00:00:00:bb:01",
            "02:00:00:00:bb:02",
            "02:00:00:00:bb:03"
        ]
    );
    assert_eq!(view.mtu, 1400);

    let Some(LinkKind::Macvlan(ours)) = link(&pod, "mvsrc0").kind else {
        panic!("kind")
    };
    assert_eq!(ours.mode, MacvlanMode::Source);
    let mut ours = ours.source_macs;
    ours.sort();
    assert_eq!(ours, allowed);
}

#[test]
fn every_macvlan_mode_and_broadcast_queue_length() {
    let (world, ns) = world("links_macvlan_modes", &["node", "pod", "far"]);
    let (pod_ns, pod) = open(&ns[1]);
    let (_, node) = open(&ns[0]);
    let modes = [
        (MacvlanMode::Private, "private"),
        (MacvlanMode::Vepa, "vepa"),
        (MacvlanMode::Bridge, "bridge"),
        (MacvlanMode::Passthru, "passthru"),
    ];
    for (i, (mode, text)) in modes.into_iter().enumerate() {
        // Own parent each: passthru allows no sibling on its parent.
        let (parent_name, name) = (format!("up{i}"), format!("mv{i}"));
        world
            .veth((&ns[0], &parent_name), (&ns[2], &format!("far{i}")))
            .expect("parent");
        let spec = MacvlanSpec {
            bc_queue_len: Some(2000 + i as u32),
            netns: Some(&pod_ns),
            ..MacvlanSpec::new(&name, link(&node, &parent_name).index, mode)
        };
        node.link_add_macvlan(&spec).expect("create");
        let view = ns[1].link(&name).expect("ip").expect("in pod");
        let KindData::Macvlan(info) = &view.data else {
            panic!("kind")
        };
        assert_eq!(info.mode, text);
        let Some(LinkKind::Macvlan(ours)) = link(&pod, &name).kind else {
            panic!("kind")
        };
        assert_eq!(ours.mode, mode);
        assert_eq!(ours.bc_queue_len, Some(2000 + i as u32));
        assert_eq!(mode.as_str(), text);
        assert_eq!(text.parse::<MacvlanMode>(), Ok(mode));
    }
}

#[test]
fn source_macs_outside_source_mode_are_refused_before_sending() {
    let (_world, ns) = world("links_macvlan_refuse", &["node"]);
    let (_, node) = open(&ns[0]);
    let spec = MacvlanSpec {
        source_macs: vec![MacAddr([2, 0, 0, 0, 0, 1])],
        ..MacvlanSpec::new("x0", 1, MacvlanMode::Bridge)
    };
    let err = node.link_add_macvlan(&spec).expect_err("refused");
    assert!(
        matches!(err, cni_netlink::Error::InvalidArgument { .. }),
        "{err}"
    );
}

#[test]
fn macvlan_created_under_a_temporary_name_then_renamed_in_the_pod() {
    let (world, ns) = world("links_macvlan_rename", &["node", "pod", "other"]);
    world
        .veth((&ns[0], "uplink0"), (&ns[2], "far0"))
        .expect("parent veth");
    let (pod_ns, pod) = open(&ns[1]);
    let (_, node) = open(&ns[0]);
    let parent = link(&node, "uplink0").index;

    let spec = MacvlanSpec {
        mac: Some(mac("02:00:00:00:cc:01")),
        ..MacvlanSpec::new("", parent, MacvlanMode::Bridge)
    };
    let made = node
        .macvlan_add_renamed(&spec, &pod_ns, &pod, "eth0")
        .expect("create + rename");
    assert_eq!(made.name, "eth0");
    let names: Vec<String> = ns[1]
        .links()
        .expect("ip")
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(names, ["lo", "eth0"], "no temporary name left behind");
    let view = ns[1].link("eth0").expect("ip").expect("eth0");
    assert_eq!(view.mac.as_deref(), Some("02:00:00:00:cc:01"));
    let KindData::Macvlan(info) = &view.data else {
        panic!("kind")
    };
    assert_eq!(info.mode, "bridge");

    // A rename onto a taken name fails, and the temporary link is cleaned up.
    let err = node
        .macvlan_add_renamed(&spec, &pod_ns, &pod, "eth0")
        .expect_err("eth0 taken");
    assert!(err.is_exists(), "{err}");
    let names: Vec<String> = ns[1]
        .links()
        .expect("ip")
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(names, ["lo", "eth0"]);
}

#[test]
fn vxlan_is_created_directly_in_the_target_namespace() {
    let (world, ns) = world("links_vxlan", &["node", "pod", "peer"]);
    world
        .veth((&ns[0], "under0"), (&ns[2], "under1"))
        .expect("underlay");
    ns[0].add_addr("under0", "10.77.0.1/24").expect("addr");
    let (pod_ns, _) = open(&ns[1]);
    let (_, node) = open(&ns[0]);
    let underlay = link(&node, "under0").index;

    let spec = VxlanSpec {
        port: Some(4789),
        local: Some(IpAddr::V4(Ipv4Addr::new(10, 77, 0, 1))),
        underlay: Some(underlay),
        ttl: Some(64),
        learning: Some(false),
        proxy: true,
        l2miss: true,
        l3miss: true,
        udp_csum: Some(false),
        mtu: Some(1400),
        netns: Some(&pod_ns),
        ..VxlanSpec::new("vx42", Vni::new(42).expect("vni"))
    };
    node.link_add_vxlan(&spec).expect("create");

    assert!(ns[0].link("vx42").expect("ip").is_none());
    let view = ns[1].link("vx42").expect("ip").expect("vxlan in the pod");
    let KindData::Vxlan(info) = &view.data else {
        panic!("kind")
    };
    assert_eq!((info.vni, info.port), (42, 4789));
    assert_eq!(info.local, Some(IpAddr::V4(Ipv4Addr::new(10, 77, 0, 1))));
    assert!(!info.learning && info.proxy && info.l2miss && info.l3miss);
    assert_eq!(view.mtu, 1400);

    let (_, pod) = open(&ns[1]);
    let Some(LinkKind::Vxlan(ours)) = link(&pod, "vx42").kind else {
        panic!("kind")
    };
    assert_eq!(ours.vni.get(), 42);
    assert_eq!(ours.port, 4789);
    assert_eq!(
        ours.underlay,
        Some(underlay),
        "index in the node, where the UDP socket lives"
    );
    assert_eq!(
        (ours.ttl, ours.learning, ours.proxy, ours.udp_csum),
        (64, false, true, false)
    );

    // One device per VNI and port in the underlay's namespace, wherever the device sits.
    let again = VxlanSpec {
        name: "vx42b",
        netns: None,
        ..spec
    };
    let err = node.link_add_vxlan(&again).expect_err("same VNI and port");
    assert!(err.is_exists(), "{err}");
}

#[test]
fn bridge_create_race_and_lifecycle_ops() {
    let (world, ns) = world("links_bridge_ops", &["node", "pod"]);
    world
        .veth((&ns[0], "port0"), (&ns[1], "far0"))
        .expect("veth");
    let (pod_ns, node) = (open(&ns[1]).0, open(&ns[0]).1);

    let spec = BridgeSpec {
        mtu: Some(1450),
        mac: Some(mac("02:00:00:00:dd:01")),
        ..BridgeSpec::new("br-test")
    };
    node.link_add_bridge(&spec).expect("create");
    let err = node
        .link_add_bridge(&spec)
        .expect_err("a second creator loses the race");
    assert!(err.is_exists(), "{err}");
    let br = link(&node, "br-test");
    assert!(matches!(br.kind, Some(LinkKind::Bridge(_))));
    assert_eq!((br.mtu, br.mac), (1450, Some(mac("02:00:00:00:dd:01"))));
    assert!(!br.admin_up, "creation never brings a link up");

    let port = link(&node, "port0").index;
    node.link_set_master(port, br.index).expect("master");
    assert_eq!(
        ns[0]
            .link("port0")
            .expect("ip")
            .expect("port")
            .master
            .as_deref(),
        Some("br-test")
    );
    assert_eq!(link(&node, "port0").master, Some(br.index));
    node.link_set_nomaster(port).expect("nomaster");
    assert_eq!(ns[0].link("port0").expect("ip").expect("port").master, None);

    node.link_set_up(br.index).expect("up");
    assert!(ns[0].link("br-test").expect("ip").expect("br").up);
    node.link_set_down(br.index).expect("down");
    assert!(!ns[0].link("br-test").expect("ip").expect("br").up);
    node.link_set_mtu(br.index, 1300).expect("mtu");
    node.link_set_address(br.index, mac("02:00:00:00:dd:02"))
        .expect("mac");
    node.link_set_promisc(br.index, true).expect("promisc");
    let v = ns[0].link("br-test").expect("ip").expect("br");
    assert_eq!(
        (v.mtu, v.mac.as_deref(), v.promiscuity),
        (1300, Some("02:00:00:00:dd:02"), 1)
    );
    assert!(link(&node, "br-test").promisc);

    node.link_set_name(br.index, "br-renamed").expect("rename");
    assert!(ns[0].link("br-test").expect("ip").is_none());
    assert_eq!(link(&node, "br-renamed").index, br.index);

    // A bridge cannot change namespace (NETIF_F_NETNS_LOCAL); the kernel says so in its ACK.
    let err = node
        .link_set_netns(br.index, &pod_ns)
        .expect_err("bridges stay put");
    assert_eq!(err.errno(), Some(libc::EINVAL));
    assert!(
        err.to_string()
            .ends_with("Invalid argument (EINVAL): The interface netns is immutable"),
        "{err}"
    );

    // A veth end can: gone here, present there.
    node.link_set_netns(port, &pod_ns).expect("move");
    assert!(ns[0].link("port0").expect("ip").is_none());
    let moved = ns[1].link("port0").expect("ip").expect("moved veth end");
    assert_eq!(moved.kind.as_deref(), Some("veth"));

    let (_, pod) = open(&ns[1]);
    pod.link_del(moved.index).expect("delete");
    assert!(ns[1].link("port0").expect("ip").is_none());
    assert!(
        ns[1].link("far0").expect("ip").is_none(),
        "a veth takes its peer with it"
    );
    assert!(pod.link_get(moved.index).expect("get").is_none());
    let err = pod.link_del(moved.index).expect_err("already gone");
    assert!(err.is_not_found(), "{err}");
    let err = pod.link_del("port0").expect_err("already gone, by name");
    assert!(err.is_not_found(), "{err}");
    node.link_del("br-renamed").expect("delete bridge by name");
    assert!(ns[0].link("br-renamed").expect("ip").is_none());
}

#[test]
fn oper_state_follows_the_peer() {
    let (_world, ns) = world("links_operstate", &["node"]);
    let (_, node) = open(&ns[0]);
    let spec = local_veth("va", "vb");
    node.link_add_veth(&spec).expect("veth");
    let a = link(&node, "va").index;
    node.link_set_up(a).expect("up");
    assert_eq!(link(&node, "va").oper_state, OperState::LowerLayerDown);
    assert!(!ns[0].link("vb").expect("ip").expect("vb").up);
    // By name: the one the oracle shows up is the one named, not another.
    node.link_set_up("vb").expect("up by name");
    assert!(ns[0].link("vb").expect("ip").expect("vb").up);
    assert_eq!(link(&node, "va").oper_state, OperState::Up);
    let err = node.link_set_up("no-such").expect_err("missing");
    assert!(err.is_not_found(), "{err}");
}

#[test]
fn ethernet_framing_is_reported() {
    let (_world, ns) = world("links_ethernet", &["node"]);
    let (_, node) = open(&ns[0]);
    let spec = local_veth("ve", "vf");
    node.link_add_veth(&spec).expect("veth");
    // The oracle: iproute2's link_type for the same links.
    let raw = |name: &str| ns[0].link(name).expect("ip").expect("link").raw;
    assert_eq!(raw("ve")["link_type"], "ether");
    assert_eq!(raw("lo")["link_type"], "loopback");
    assert!(link(&node, "ve").ethernet);
    assert!(
        !link(&node, "lo").ethernet,
        "lo has a MAC-sized address but is not Ethernet"
    );
}

#[test]
fn a_dump_larger_than_one_datagram_arrives_whole() {
    let (_world, ns) = world("links_big_dump", &["node"]);
    let (_, node) = open(&ns[0]);
    for i in 0..150 {
        node.link_add_bridge(&BridgeSpec::new(&format!("bulk{i}")))
            .expect("bridge");
    }
    let mut ours: Vec<u32> = node
        .link_list()
        .expect("list")
        .iter()
        .map(|l| l.index)
        .collect();
    let mut oracle: Vec<u32> = ns[0].links().expect("ip").iter().map(|l| l.index).collect();
    ours.sort_unstable();
    oracle.sort_unstable();
    assert_eq!(ours.len(), 151);
    assert_eq!(ours, oracle);
}

#[test]
fn a_dump_narrowed_to_one_kind_or_master_has_only_those_links() {
    let (_world, ns) = world("links_kind_dump", &["node"]);
    let (_, node) = open(&ns[0]);
    node.link_add_veth(&local_veth("kd0", "kd1")).expect("veth");
    let parent = link(&node, "kd0").index;
    for name in ["mva", "mvb"] {
        node.link_add_macvlan(&MacvlanSpec::new(name, parent, MacvlanMode::Bridge))
            .expect("macvlan");
    }
    node.link_add_bridge(&BridgeSpec::new("kdbr"))
        .expect("bridge");
    let names = |kind| {
        let mut names: Vec<String> = node
            .link_list_kind(kind)
            .expect("list")
            .into_iter()
            .map(|l| l.name)
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(ListKind::Macvlan), ["mva", "mvb"]);
    let bridge = link(&node, "kdbr").index;
    assert!(node.link_list_ports(bridge).expect("ports").is_empty());
    node.link_set_master(link(&node, "kd1").index, bridge)
        .expect("enslave");
    let ports = node.link_list_ports(bridge).expect("ports");
    assert_eq!(
        ports.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        ["kd1"]
    );
    assert_eq!(names(ListKind::Bridge), ["kdbr"]);
    assert!(names(ListKind::Vxlan).is_empty());
    // The oracle: the whole namespace has more than those.
    assert_eq!(ns[0].links().expect("ip").len(), 6);
}
