//! Addresses and routes, with every field a CNI 1.1 route can carry, read back with `ip -j`.

mod common;

use std::net::IpAddr;

use cni_netlink::{AddrOptions, Handle, IpFamily, RT_TABLE_MAIN, RouteKind, RouteSpec, Scope};
use cni_sandbox::Family;
use common::{link, open, world};
use ipnetwork::IpNetwork;

fn net(s: &str) -> IpNetwork {
    s.parse().expect("cidr")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

/// A pod with `eth0` (peer in the node), both ends up. Returns the handle and eth0's index.
fn pod_with_eth0(test: &str) -> (cni_sandbox::World, Vec<cni_sandbox::Ns>, Handle, u32) {
    let (world, ns) = world(test, &["node", "pod"]);
    world
        .veth((&ns[1], "eth0"), (&ns[0], "host0"))
        .expect("veth");
    let (_, pod) = open(&ns[1]);
    let eth0 = link(&pod, "eth0").index;
    (world, ns, pod, eth0)
}

#[test]
fn addresses_v4_with_broadcast_and_v6_without_dad() {
    let (_w, ns, pod, eth0) = pod_with_eth0("addr_add_list_del");
    pod.addr_add(eth0, net("10.88.0.5/24"), AddrOptions::default())
        .expect("v4");
    pod.addr_add(eth0, net("fd00:88::5/64"), AddrOptions { nodad: true })
        .expect("v6");

    let oracle = ns[1].addr_details("eth0").expect("ip addr");
    let v4 = oracle
        .iter()
        .find(|a| a.addr == net("10.88.0.5/24"))
        .expect("v4 present");
    assert_eq!(v4.raw["broadcast"], "10.88.0.255");
    let v6 = oracle
        .iter()
        .find(|a| a.addr == net("fd00:88::5/64"))
        .expect("v6 present");
    assert!(v6.nodad && !v6.tentative);

    let ours = pod.addr_list(Some(eth0)).expect("list");
    assert!(ours.iter().all(|a| a.index == eth0));
    let v6 = ours
        .iter()
        .find(|a| a.network == net("fd00:88::5/64"))
        .expect("ours v6");
    assert!(v6.flags.nodad && v6.flags.permanent && !v6.flags.tentative);
    assert!(
        ours.iter()
            .any(|a| a.network == net("10.88.0.5/24") && a.scope == Scope::UNIVERSE)
    );
    // The kernel filtered by index: lo's 127.0.0.1 is not in the per-link list, but is in all.
    assert!(!ours.iter().any(|a| a.network.ip() == ip("127.0.0.1")));
    assert!(
        pod.addr_list(None)
            .expect("all")
            .iter()
            .any(|a| a.network.ip() == ip("127.0.0.1"))
    );
    // One family: exactly that family's part of the full list, per link or for all links.
    for (family, v4) in [(IpFamily::V4, true), (IpFamily::V6, false)] {
        let mut want: Vec<_> = ours
            .iter()
            .filter(|a| a.network.is_ipv4() == v4)
            .map(|a| a.network)
            .collect();
        let mut got: Vec<_> = pod
            .addr_list_family(Some(eth0), family)
            .expect("one family")
            .iter()
            .map(|a| a.network)
            .collect();
        want.sort();
        got.sort();
        assert!(!got.is_empty());
        assert_eq!(got, want, "{family:?}");
    }
    let all_v6 = pod.addr_list_family(None, IpFamily::V6).expect("all v6");
    assert!(all_v6.iter().all(|a| a.network.is_ipv6()));
    assert!(all_v6.iter().any(|a| a.network.ip() == ip("::1")));

    let err = pod
        .addr_add(eth0, net("10.88.0.5/24"), AddrOptions::default())
        .expect_err("dup");
    assert!(err.is_exists(), "{err}");
    pod.addr_del(eth0, net("10.88.0.5/24")).expect("del");
    assert!(
        !ns[1]
            .addrs("eth0")
            .expect("ip")
            .contains(&net("10.88.0.5/24"))
    );
    let err = pod.addr_del(eth0, net("10.88.0.5/24")).expect_err("gone");
    assert!(err.is_not_found(), "{err}");
}

#[test]
fn dad_keeps_a_new_v6_address_tentative() {
    let (_w, ns, pod, eth0) = pod_with_eth0("addr_dad_tentative");
    ns[1]
        .set_sysctl("net/ipv6/conf/eth0/accept_dad", "1")
        .expect("dad on");
    pod.link_set_up(eth0).expect("up");
    pod.addr_add(eth0, net("fd00:99::7/64"), AddrOptions::default())
        .expect("v6 with DAD");
    let ours = pod.addr_list(Some(eth0)).expect("list");
    let a = ours
        .iter()
        .find(|a| a.network == net("fd00:99::7/64"))
        .expect("present");
    let oracle = ns[1].addr_details("eth0").expect("ip");
    let o = oracle
        .iter()
        .find(|x| x.addr == net("fd00:99::7/64"))
        .expect("present");
    // Read at nearly the same moment; DAD takes about a second, so both should still see it.
    assert!(a.flags.tentative && o.tentative, "ours {a:?}, oracle {o:?}");
}

#[test]
fn routes_with_gateway_onlink_metric_table_mtu_advmss() {
    let (_w, ns, pod, eth0) = pod_with_eth0("route_fields");
    pod.addr_add(eth0, net("10.88.0.5/24"), AddrOptions::default())
        .expect("addr");

    // onlink needs the device up; the kernel explains itself in the extended ACK.
    pod.link_set_down(eth0).expect("down");
    let onlink = RouteSpec {
        gateway: Some(ip("10.99.0.1")),
        oif: Some(eth0),
        onlink: true,
        ..RouteSpec::to(net("10.50.0.0/16"))
    };
    let err = pod.route_add(&onlink).expect_err("device is down");
    assert_eq!(err.errno(), Some(libc::ENETDOWN));
    assert!(
        err.to_string()
            .ends_with("Network is down (ENETDOWN): Nexthop device is not up"),
        "{err}"
    );
    pod.link_set_up(eth0).expect("up");
    pod.route_add(&onlink).expect("onlink route");

    let full = RouteSpec {
        gateway: Some(ip("10.88.0.1")),
        oif: Some(eth0),
        table: Some(100),
        metric: Some(50),
        mtu: Some(1400),
        advmss: Some(1360),
        ..RouteSpec::to(net("10.60.0.0/16"))
    };
    pod.route_add(&full).expect("table 100 route");
    let default = RouteSpec {
        gateway: Some(ip("10.88.0.1")),
        ..RouteSpec::to(net("0.0.0.0/0"))
    };
    pod.route_add(&default).expect("default route");
    let big_table = RouteSpec {
        oif: Some(eth0),
        table: Some(1000),
        scope: Some(Scope::LINK),
        ..RouteSpec::to(net("10.70.0.0/16"))
    };
    pod.route_add(&big_table).expect("table 1000");

    let oracle = ns[1].routes(Family::V4).expect("ip route");
    let r = oracle
        .iter()
        .find(|r| r.dst == net("10.60.0.0/16"))
        .expect("oracle sees it");
    assert_eq!(
        (r.table.as_str(), r.metric, r.mtu, r.gateway),
        ("100", Some(50), Some(1400), Some(ip("10.88.0.1")))
    );
    assert_eq!(r.raw["metrics"][0]["advmss"], 1360);
    assert_eq!(r.protocol, "boot");
    let o = oracle
        .iter()
        .find(|r| r.dst == net("10.50.0.0/16"))
        .expect("onlink route");
    assert!(
        o.raw["flags"]
            .as_array()
            .expect("flags")
            .iter()
            .any(|f| f == "onlink")
    );
    let d = oracle
        .iter()
        .find(|r| r.dst == net("0.0.0.0/0"))
        .expect("default");
    assert_eq!(
        (d.gateway, d.dev.as_deref()),
        (Some(ip("10.88.0.1")), Some("eth0"))
    );
    let b = oracle
        .iter()
        .find(|r| r.dst == net("10.70.0.0/16"))
        .expect("table 1000");
    assert_eq!((b.table.as_str(), b.scope.as_str()), ("1000", "link"));

    // Ours: the main table has the default and onlink routes, not the table-100 one.
    let main = pod.route_list(IpFamily::V4, RT_TABLE_MAIN).expect("main");
    assert!(main.iter().all(|r| r.table == RT_TABLE_MAIN));
    let d = main.iter().find(|r| r.dst.prefix() == 0).expect("default");
    assert_eq!(
        (d.gateway, d.oif, d.kind, d.protocol),
        (Some(ip("10.88.0.1")), Some(eth0), RouteKind::Unicast, 3)
    );
    assert!(
        main.iter()
            .any(|r| r.dst == net("10.50.0.0/16") && r.onlink)
    );
    assert!(!main.iter().any(|r| r.dst == net("10.60.0.0/16")));
    let t100 = pod.route_list(IpFamily::V4, 100).expect("table 100");
    assert_eq!(t100.len(), 1);
    assert_eq!(
        (t100[0].metric, t100[0].mtu, t100[0].advmss),
        (Some(50), Some(1400), Some(1360))
    );
    let t1000 = pod.route_list(IpFamily::V4, 1000).expect("table 1000");
    assert_eq!((t1000.len(), t1000[0].scope), (1, Scope::LINK));

    // Replace changes the route in place; add of the same would be EEXIST.
    assert!(pod.route_add(&full).expect_err("exists").is_exists());
    pod.route_replace(&RouteSpec {
        mtu: Some(1300),
        ..full
    })
    .expect("replace");
    assert_eq!(
        pod.route_list(IpFamily::V4, 100).expect("t100")[0].mtu,
        Some(1300)
    );

    // Delete matches however the route was made; a second delete is "not found".
    pod.route_del(&RouteSpec {
        table: Some(100),
        ..RouteSpec::to(net("10.60.0.0/16"))
    })
    .expect("del");
    assert!(
        !ns[1]
            .routes(Family::V4)
            .expect("ip")
            .iter()
            .any(|r| r.dst == net("10.60.0.0/16"))
    );
    let err = pod
        .route_del(&RouteSpec {
            table: Some(100),
            ..RouteSpec::to(net("10.60.0.0/16"))
        })
        .expect_err("gone");
    assert!(err.is_not_found(), "{err}");
}

#[test]
fn v6_routes_and_family_mismatch() {
    let (_w, ns, pod, eth0) = pod_with_eth0("route_v6");
    pod.link_set_up(eth0).expect("up");
    pod.addr_add(eth0, net("fd00:88::5/64"), AddrOptions { nodad: true })
        .expect("addr");
    let spec = RouteSpec {
        gateway: Some(ip("fd00:88::1")),
        metric: Some(1024),
        ..RouteSpec::to(net("::/0"))
    };
    pod.route_add(&spec).expect("v6 default");
    let oracle = ns[1].routes(Family::V6).expect("ip -6 route");
    assert!(
        oracle
            .iter()
            .any(|r| r.dst == net("::/0") && r.gateway == Some(ip("fd00:88::1")))
    );
    let ours = pod.route_list(IpFamily::V6, RT_TABLE_MAIN).expect("list");
    assert!(ours.iter().any(|r| r.dst.prefix() == 0
        && r.gateway == Some(ip("fd00:88::1"))
        && r.metric == Some(1024)));
    assert!(ours.iter().all(|r| r.dst.is_ipv6()));

    let bad = RouteSpec {
        gateway: Some(ip("10.0.0.1")),
        ..RouteSpec::to(net("fd00:1::/64"))
    };
    assert!(matches!(
        pod.route_add(&bad),
        Err(cni_netlink::Error::InvalidArgument { .. })
    ));
}
