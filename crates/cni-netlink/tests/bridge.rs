//! Bridge ports (hairpin, isolation, learning) and bridge VLANs, read back through `bridge -j`.

mod common;

use cni_netlink::{
    BridgePortSettings, BridgeSpec, BridgeVlan, Handle, LinkKind, PortState, VlanId, VlanRange,
    VlanSpec, VlanTarget,
};
use cni_sandbox::Ns;
use common::{link, open, world};

/// A bridge `br0` with port `port0` (a veth whose peer is in `far`). Returns (bridge, port).
fn bridge_with_port(world: &cni_sandbox::World, node: &Ns, far: &Ns, h: &Handle) -> (u32, u32) {
    world.veth((node, "port0"), (far, "far0")).expect("veth");
    h.link_add_bridge(&BridgeSpec::new("br0")).expect("bridge");
    let br = link(h, "br0").index;
    let port = link(h, "port0").index;
    h.link_set_master(port, br).expect("enslave");
    h.link_set_up(br).expect("up");
    (br, port)
}

fn vid(n: u16) -> VlanId {
    VlanId::new(n).expect("vlan id")
}

#[test]
fn hairpin_on_a_bridge_port() {
    let (world, ns) = world("bridge_hairpin", &["node", "pod"]);
    let (_, node) = open(&ns[0]);
    let (_, port) = bridge_with_port(&world, &ns[0], &ns[1], &node);

    assert!(
        !ns[0]
            .bridge_port("port0")
            .expect("bridge link")
            .expect("port")
            .hairpin
    );
    let on = BridgePortSettings {
        hairpin: Some(true),
        ..Default::default()
    };
    node.bridge_link_set(port, &on).expect("hairpin on");
    let view = ns[0]
        .bridge_port("port0")
        .expect("bridge link")
        .expect("port");
    assert!(view.hairpin);
    assert!(!view.isolated && view.learning, "other flags untouched");
    let ours = link(&node, "port0").bridge_port.expect("port info");
    assert!(ours.hairpin);
    assert_eq!(
        ours.state,
        PortState::Forwarding,
        "STP is off: a port of an up bridge forwards"
    );

    node.bridge_link_set(
        port,
        &BridgePortSettings {
            hairpin: Some(false),
            ..Default::default()
        },
    )
    .expect("hairpin off");
    assert!(
        !ns[0]
            .bridge_port("port0")
            .expect("bridge link")
            .expect("port")
            .hairpin
    );
}

#[test]
fn isolation_and_learning() {
    let (world, ns) = world("bridge_isolated", &["node", "pod"]);
    let (_, node) = open(&ns[0]);
    let (_, port) = bridge_with_port(&world, &ns[0], &ns[1], &node);
    let settings = BridgePortSettings {
        isolated: Some(true),
        learning: Some(false),
        hairpin: None,
    };
    node.bridge_link_set(port, &settings).expect("set");
    let view = ns[0]
        .bridge_port("port0")
        .expect("bridge link")
        .expect("port");
    assert!(view.isolated && !view.learning && !view.hairpin);
    let ours = link(&node, "port0").bridge_port.expect("port info");
    assert!(ours.isolated && !ours.learning);
}

#[test]
fn port_flags_on_a_link_that_is_not_a_port_are_refused() {
    let (world, ns) = world("bridge_not_port", &["node", "pod"]);
    world
        .veth((&ns[0], "lone0"), (&ns[1], "far0"))
        .expect("veth");
    let (_, node) = open(&ns[0]);
    let lone = link(&node, "lone0");
    assert_eq!(lone.bridge_port, None);
    let err = node
        .bridge_link_set(
            lone.index,
            &BridgePortSettings {
                hairpin: Some(true),
                ..Default::default()
            },
        )
        .expect_err("not a bridge port");
    assert_eq!(err.errno(), Some(libc::EOPNOTSUPP), "{err}");
}

/// Kernels built without CONFIG_BRIDGE_VLAN_FILTERING (this CI's is one) refuse VLAN filtering
/// with EOPNOTSUPP. There the test checks that the errno survives; elsewhere it checks the VLANs.
#[test]
fn vlans_on_a_port() {
    let (world, ns) = world("bridge_vlans", &["node", "pod"]);
    let (_, node) = open(&ns[0]);
    let (br, port) = bridge_with_port(&world, &ns[0], &ns[1], &node);

    // The dump works either way and lists every port (with no VLANs while filtering is off).
    let listed = node.bridge_vlan_list().expect("list");
    assert!(listed.iter().any(|p| p.index == port), "{listed:?}");

    match node.bridge_set_vlan_filtering(br, true) {
        Err(e) if e.errno() == Some(libc::EOPNOTSUPP) => {
            let err = node
                .bridge_vlan_add(
                    port,
                    &VlanSpec::Single {
                        vid: vid(10),
                        pvid: true,
                        untagged: true,
                    },
                    VlanTarget::Port,
                )
                .expect_err("no VLAN support in this kernel");
            assert_eq!(err.errno(), Some(libc::EOPNOTSUPP), "{err}");
            eprintln!("kernel lacks CONFIG_BRIDGE_VLAN_FILTERING: VLAN contents not checked");
            return;
        }
        other => other.expect("vlan_filtering on"),
    }
    assert!(matches!(link(&node, "br0").kind, Some(LinkKind::Bridge(b)) if b.vlan_filtering));

    node.bridge_vlan_add(
        port,
        &VlanSpec::Single {
            vid: vid(10),
            pvid: true,
            untagged: true,
        },
        VlanTarget::Port,
    )
    .expect("pvid");
    let trunk = VlanRange::new(vid(20), vid(22)).expect("range");
    node.bridge_vlan_add(
        port,
        &VlanSpec::Range {
            vids: trunk,
            untagged: false,
        },
        VlanTarget::Port,
    )
    .expect("trunk");
    node.bridge_vlan_del(port, VlanRange::one(vid(1)), VlanTarget::Port)
        .expect("drop default");

    let oracle: Vec<(u16, bool, bool)> = ns[0]
        .vlans("port0")
        .expect("bridge vlan")
        .iter()
        .map(|v| (v.vid, v.pvid, v.untagged))
        .collect();
    assert_eq!(
        oracle,
        [
            (10, true, true),
            (20, false, false),
            (21, false, false),
            (22, false, false)
        ]
    );
    let ours = node.bridge_vlan_show(port).expect("show");
    assert_eq!(
        ours[0],
        BridgeVlan {
            vid: 10,
            pvid: true,
            untagged: true
        }
    );
    assert_eq!(ours.len(), 4);

    node.bridge_vlan_add(
        br,
        &VlanSpec::Single {
            vid: vid(10),
            pvid: false,
            untagged: false,
        },
        VlanTarget::BridgeSelf,
    )
    .expect("self");
    assert!(
        node.bridge_vlan_show(br)
            .expect("show")
            .iter()
            .any(|v| v.vid == 10)
    );
}
