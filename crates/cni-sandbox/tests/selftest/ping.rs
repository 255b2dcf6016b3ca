use std::time::{Duration, Instant};

use cni_sandbox::{Ping, World};

#[test]
fn ping_over_a_veth_v4_and_v6() {
    let world = World::new("ping-veth").unwrap();
    let a = world.netns("a").unwrap();
    let b = world.netns("b").unwrap();
    world.veth((&a, "va"), (&b, "vb")).unwrap();
    a.add_addr("va", "10.200.0.1/24").unwrap();
    b.add_addr("vb", "10.200.0.2/24").unwrap();
    a.add_addr("va", "fd00:200::1/64").unwrap();
    b.add_addr("vb", "fd00:200::2/64").unwrap();
    assert!(a.ping("10.200.0.2").unwrap());
    assert!(b.ping("10.200.0.1").unwrap());
    assert!(a.ping("fd00:200::2").unwrap());
    // The harness adds v6 addresses with nodad, so they are usable at once.
    let details = b.addr_details("vb").unwrap();
    let v6 = details
        .iter()
        .find(|d| d.addr.ip().to_string() == "fd00:200::2")
        .unwrap();
    assert!(v6.nodad && !v6.tentative);
}

#[test]
fn ping_to_nobody_is_false_and_bounded() {
    let world = World::new("ping-nobody").unwrap();
    let a = world.netns("a").unwrap();
    let b = world.netns("b").unwrap();
    world.veth((&a, "va"), (&b, "vb")).unwrap();
    a.add_addr("va", "10.201.0.1/24").unwrap();
    let start = Instant::now();
    assert!(!a.ping_with("10.201.0.99", &Ping::once()).unwrap());
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    let start = Instant::now();
    assert!(!a.ping("10.201.0.99").unwrap());
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn ping_between_unconnected_namespaces_fails() {
    let world = World::new("ping-apart").unwrap();
    let a = world.netns("a").unwrap();
    let b = world.netns("b").unwrap();
    let c = world.netns("c").unwrap();
    let d = world.netns("d").unwrap();
    // Two separate links with the same subnet: a-b and c-d. a must not reach d.
    world.veth((&a, "va"), (&b, "vb")).unwrap();
    world.veth((&c, "vc"), (&d, "vd")).unwrap();
    a.add_addr("va", "10.202.0.1/24").unwrap();
    d.add_addr("vd", "10.202.0.4/24").unwrap();
    assert!(!a.ping_with("10.202.0.4", &Ping::once()).unwrap());
    // And with no route at all ("Network is unreachable", exit 2) it is false, not an error.
    assert!(!b.ping_with("10.202.0.4", &Ping::once()).unwrap());
}

#[test]
fn ping_with_df_respects_mtu() {
    let world = World::new("ping-mtu").unwrap();
    let a = world.netns("a").unwrap();
    let b = world.netns("b").unwrap();
    world.veth((&a, "va"), (&b, "vb")).unwrap();
    for (ns, dev) in [(&a, "va"), (&b, "vb")] {
        ns.ip(&["link", "set", "dev", dev, "mtu", "1400"]).unwrap();
    }
    a.add_addr("va", "10.203.0.1/24").unwrap();
    b.add_addr("vb", "10.203.0.2/24").unwrap();
    assert_eq!(a.link("va").unwrap().unwrap().mtu, 1400);
    // 1400 - 20 (IPv4) - 8 (ICMP) = 1372 bytes of payload fit; one more does not.
    assert!(a.ping_with("10.203.0.2", &Ping::sized_df(1372)).unwrap());
    let too_big = Ping {
        attempts: 1,
        ..Ping::sized_df(1373)
    };
    assert!(!a.ping_with("10.203.0.2", &too_big).unwrap());
}

#[test]
fn bad_ping_address_is_an_error() {
    let world = World::new("ping-bad").unwrap();
    let a = world.netns("a").unwrap();
    assert!(a.ping("not-an-ip").is_err());
}
