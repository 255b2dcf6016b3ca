//! Static neighbours and VXLAN FDB entries, read back with `ip -j neigh` and `bridge -j fdb`.

mod common;

use std::net::IpAddr;

use cni_netlink::{MacAddr, Vni, VxlanSpec};
use common::{link, open, world};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

fn mac(s: &str) -> MacAddr {
    s.parse().expect("mac")
}

#[test]
fn permanent_neighbours_add_replace_del() {
    let (world, ns) = world("neigh_static", &["node", "pod"]);
    world
        .veth((&ns[1], "eth0"), (&ns[0], "host0"))
        .expect("veth");
    let (_, pod) = open(&ns[1]);
    let eth0 = link(&pod, "eth0").index;

    pod.neigh_add(eth0, ip("10.88.0.9"), mac("02:00:00:00:ee:01"))
        .expect("add");
    let err = pod
        .neigh_add(eth0, ip("10.88.0.9"), mac("02:00:00:00:ee:01"))
        .expect_err("dup");
    assert!(err.is_exists(), "{err}");
    pod.neigh_replace(eth0, ip("10.88.0.9"), mac("02:00:00:00:ee:02"))
        .expect("replace");
    pod.neigh_replace(eth0, ip("fd00:88::9"), mac("02:00:00:00:ee:03"))
        .expect("v6");

    let oracle = ns[1].neighbours("eth0").expect("ip neigh");
    let v4 = oracle
        .iter()
        .find(|n| n.dst == ip("10.88.0.9"))
        .expect("v4");
    assert_eq!(v4.lladdr.as_deref(), Some("02:00:00:00:ee:02"));
    assert_eq!(v4.state, ["PERMANENT"]);
    assert!(oracle.iter().any(|n| n.dst == ip("fd00:88::9")));

    let ours = pod.neigh_list(Some(eth0)).expect("list");
    let v4 = ours
        .iter()
        .find(|n| n.ip == ip("10.88.0.9"))
        .expect("ours v4");
    assert_eq!(v4.mac, Some(mac("02:00:00:00:ee:02")));
    assert!(v4.is_permanent());
    assert!(
        ours.iter()
            .any(|n| n.ip == ip("fd00:88::9") && n.is_permanent())
    );

    pod.neigh_del(eth0, ip("10.88.0.9")).expect("del");
    assert!(
        !ns[1]
            .neighbours("eth0")
            .expect("ip")
            .iter()
            .any(|n| n.dst == ip("10.88.0.9"))
    );
    let err = pod.neigh_del(eth0, ip("10.88.0.9")).expect_err("gone");
    assert!(err.is_not_found(), "{err}");
}

/// Head-end replication: one all-zero-MAC entry per remote VTEP, appended; deleting one remote
/// leaves the others.
#[test]
fn three_appended_flood_entries_and_deleting_one_leaves_two() {
    let (world, ns) = world("fdb_her", &["node", "peer"]);
    world
        .veth((&ns[0], "under0"), (&ns[1], "under1"))
        .expect("underlay");
    ns[0].add_addr("under0", "10.77.0.1/24").expect("addr");
    let (_, node) = open(&ns[0]);
    let underlay = link(&node, "under0").index;
    let spec = VxlanSpec {
        port: Some(4789),
        local: Some(ip("10.77.0.1")),
        underlay: Some(underlay),
        learning: Some(false),
        ..VxlanSpec::new("vx100", Vni::new(100).expect("vni"))
    };
    node.link_add_vxlan(&spec).expect("vxlan");
    let vx = link(&node, "vx100").index;

    let remotes = [ip("10.77.0.2"), ip("10.77.0.3"), ip("10.77.0.4")];
    for r in remotes {
        node.fdb_append(vx, MacAddr::ZERO, r).expect("append");
    }
    let flood_dsts = |entries: Vec<cni_sandbox::FdbEntry>| {
        let mut d: Vec<IpAddr> = entries
            .into_iter()
            .filter(|e| e.mac == "00:00:00:00:00:00")
            .inspect(|e| assert!(e.is_self && e.permanent, "{e:?}"))
            .filter_map(|e| e.dst)
            .collect();
        d.sort();
        d
    };
    assert_eq!(flood_dsts(ns[0].fdb("vx100").expect("bridge fdb")), remotes);

    let ours = node.fdb_list(vx).expect("list");
    let mut dsts: Vec<IpAddr> = ours
        .iter()
        .filter(|e| e.mac == MacAddr::ZERO)
        .filter_map(|e| e.dst)
        .collect();
    dsts.sort();
    assert_eq!(dsts, remotes);
    assert!(
        ours.iter()
            .all(|e| e.index == vx && e.is_self && e.permanent)
    );

    node.fdb_del(vx, MacAddr::ZERO, remotes[1])
        .expect("delete one remote");
    assert_eq!(
        flood_dsts(ns[0].fdb("vx100").expect("bridge fdb")),
        [remotes[0], remotes[2]]
    );
    assert_eq!(
        node.fdb_list(vx)
            .expect("list")
            .iter()
            .filter(|e| e.mac == MacAddr::ZERO)
            .count(),
        2
    );

    // Unicast entries are re-pointed with replace (append would silently do nothing).
    let pod_mac = mac("02:00:00:00:ff:01");
    node.fdb_replace(vx, pod_mac, remotes[0]).expect("replace");
    node.fdb_replace(vx, pod_mac, remotes[2]).expect("re-point");
    let unicast: Vec<_> = ns[0]
        .fdb("vx100")
        .expect("fdb")
        .into_iter()
        .filter(|e| e.mac == "02:00:00:00:ff:01")
        .collect();
    assert_eq!(unicast.len(), 1);
    assert_eq!(unicast[0].dst, Some(remotes[2]));
    // And the kernel refuses replace on the flood entry, keeping the errno.
    let err = node
        .fdb_replace(vx, MacAddr::ZERO, remotes[0])
        .expect_err("not for all-zero");
    assert_eq!(err.errno(), Some(libc::EOPNOTSUPP), "{err}");
}
