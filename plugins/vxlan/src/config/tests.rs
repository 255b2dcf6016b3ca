//! Pure config tests: defaults, Go-style keys, every validation message.

use serde_json::{Value, json};

use super::*;

fn parse_json(extra: Value) -> Result<VxlanConf, CniError> {
    let mut v = json!({"cniVersion": "1.0.0", "name": "net", "type": "vxlan"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    parse(&NetConf::from_value(v).unwrap())
}

/// The smallest valid config (`vni` 100), for other modules' tests.
pub(crate) fn minimal() -> VxlanConf {
    parse_json(json!({"vni": 100})).unwrap()
}

fn err(extra: Value) -> String {
    let e = parse_json(extra).unwrap_err();
    assert_eq!(e.code, cni_spec::ErrorCode::InvalidConfig, "{e}");
    e.msg
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn defaults() {
    let c = minimal();
    assert_eq!(c.vni.get(), 100);
    assert_eq!(c.port, 4789, "the IANA port, not the kernel's 8472");
    assert_eq!(
        (c.bridge.as_str(), c.vtep.as_str()),
        ("vxbr100", "vxlan100")
    );
    assert_eq!(c.flood, Flood::Remotes(vec![]));
    assert!(!c.learning && !c.proxy && c.udp_csum && !c.bridged.hairpin && !c.bridged.is_gateway);
    assert_eq!(
        (c.ttl, c.bridged.mtu, c.dev.as_deref(), c.local),
        (0, None, None, None)
    );
    assert_eq!(c.family(), None);
    assert_eq!(c.gateway_mac(), None);
}

#[test]
fn keys_fold_case_and_port_zero_is_the_default() {
    let c = parse_json(json!({"VNI": 7, "Port": 0, "MTU": 1400, "hairpinmode": true})).unwrap();
    assert_eq!(
        (c.vni.get(), c.port, c.bridged.mtu, c.bridged.hairpin),
        (7, 4789, Some(1400), true)
    );
    let c = parse_json(json!({"vni": 7, "port": 8472, "bridge": "br-x", "dev": "eth1"})).unwrap();
    assert_eq!(
        (c.port, c.bridge.as_str(), c.dev.as_deref()),
        (8472, "br-x", Some("eth1"))
    );
}

#[test]
fn group_turns_learning_on_and_excludes_remotes() {
    let c = parse_json(json!({"vni": 1, "group": "239.1.1.1"})).unwrap();
    assert_eq!(c.flood, Flood::Group(ip("239.1.1.1")));
    assert!(c.learning);
    let c = parse_json(json!({"vni": 1, "group": "239.1.1.1", "learning": false})).unwrap();
    assert!(!c.learning);
    assert_eq!(
        err(json!({"vni": 1, "group": "239.1.1.1", "remotes": ["10.0.0.1"]})),
        "group and remotes cannot both be set: each names where flooded frames go"
    );
    assert_eq!(
        err(json!({"vni": 1, "group": "10.0.0.1"})),
        "group 10.0.0.1 is not a multicast address"
    );
}

#[test]
fn remotes_are_unicast_sorted_and_unique() {
    let c = parse_json(json!({"vni": 1, "remotes": ["10.0.0.3", "10.0.0.2", "10.0.0.3"]})).unwrap();
    assert_eq!(
        c.flood,
        Flood::Remotes(vec![ip("10.0.0.2"), ip("10.0.0.3")])
    );
    assert_eq!(c.family(), Some(IpFamily::V4));
    assert_eq!(
        err(json!({"vni": 1, "remotes": ["239.1.1.1"]})),
        "remote 239.1.1.1 must be a unicast address"
    );
    let e = err(json!({"vni": 1, "remotes": ["10.0.0.300"]}));
    assert!(e.contains("remotes[0]"), "{e}");
}

#[test]
fn neighbors_turn_proxy_on_and_must_be_consistent() {
    let n = |ip: &str, mac: &str, remote: &str| json!({"ip": ip, "mac": mac, "remote": remote});
    let c = parse_json(json!({"vni": 1, "neighbors": [
        n("10.1.0.2", "02:00:00:00:00:02", "10.0.0.2"),
        n("fd01::2", "02:00:00:00:00:02", "10.0.0.2"),
    ]}))
    .unwrap();
    assert!(c.proxy && !c.learning);
    assert_eq!(
        c.neighbors.len(),
        2,
        "one MAC may carry an IPv4 and an IPv6 address"
    );
    assert_eq!(c.family(), Some(IpFamily::V4));
    let c = parse_json(json!({"vni": 1, "proxy": false,
        "neighbors": [n("10.1.0.2", "02:00:00:00:00:02", "10.0.0.2")]}))
    .unwrap();
    assert!(!c.proxy);
    assert_eq!(
        err(json!({"vni": 1, "neighbors": [
            n("10.1.0.2", "02:00:00:00:00:02", "10.0.0.2"),
            n("10.1.0.3", "02:00:00:00:00:02", "10.0.0.3"),
        ]})),
        "neighbors[1]: 02:00:00:00:00:02 is listed behind two remotes (10.0.0.2 and 10.0.0.3)"
    );
    assert_eq!(
        err(json!({"vni": 1, "neighbors": [
            n("10.1.0.2", "02:00:00:00:00:02", "10.0.0.2"),
            n("10.1.0.2", "02:00:00:00:00:03", "10.0.0.2"),
        ]})),
        "neighbors[1]: 10.1.0.2 is listed with two different MACs"
    );
    let e = err(json!({"vni": 1, "neighbors": [n("10.1.0.2", "01:00:5e:00:00:01", "10.0.0.2")]}));
    assert!(e.starts_with("neighbors[0]: invalid MAC address"), "{e}");
}

#[test]
fn one_tunnel_family() {
    assert_eq!(
        err(json!({"vni": 1, "local": "10.0.0.1", "remotes": ["fd00::2"]})),
        "10.0.0.1 and fd00::2 differ in IP family: a VXLAN device tunnels over one family"
    );
    assert_eq!(
        err(json!({"vni": 1, "remotes": ["fd00::2"], "udpCsum": false})),
        "udpCsum false is only supported over an IPv4 underlay (IPv6 requires UDP checksums)"
    );
    let c = parse_json(json!({"vni": 1, "remotes": ["fd00::2"]})).unwrap();
    assert_eq!(c.family(), Some(IpFamily::V6));
}

#[test]
fn ranges() {
    assert_eq!(err(json!({})), "vni is required");
    assert_eq!(
        err(json!({"vni": 16777216})),
        "invalid vni 16777216 (must be 0..=16777215)"
    );
    assert_eq!(
        err(json!({"vni": -1})),
        "invalid vni -1 (must be 0..=16777215)"
    );
    assert_eq!(
        err(json!({"vni": 1, "port": 65536})),
        "invalid port 65536 (must be 1..=65535)"
    );
    assert_eq!(
        err(json!({"vni": 1, "ttl": 256})),
        "invalid ttl 256 (must be 0..=255)"
    );
    assert_eq!(
        err(json!({"vni": 1, "mtu": 67})),
        "invalid MTU 67 (must be 0 or between 68 and 65535)"
    );
    assert_eq!(
        err(json!({"vni": 1, "local": "0.0.0.0"})),
        "local 0.0.0.0 must be a unicast address"
    );
    let e = err(json!({"vni": 1, "bridge": "a-name-that-is-too-long"}));
    assert!(
        e.starts_with("invalid bridge \"a-name-that-is-too-long\""),
        "{e}"
    );
    assert_eq!(
        err(json!({"vni": 1, "ipMasq": true, "ipMasqBackend": "pf"})),
        "unknown ipmasq backend \"pf\" (must be \"iptables\" or \"nftables\")"
    );
}

#[test]
fn the_gateway_mac_is_the_same_on_every_node_and_differs_per_network() {
    let a = parse_json(json!({"vni": 1, "isDefaultGateway": true})).unwrap();
    assert!(a.bridged.is_gateway);
    let mac = a.gateway_mac().unwrap();
    assert!(mac.is_unicast() && mac.0[0] == 0x02);
    assert_eq!(
        mac,
        parse_json(json!({"vni": 1, "isGateway": true}))
            .unwrap()
            .gateway_mac()
            .unwrap()
    );
    let other = parse_json(json!({"vni": 2, "isGateway": true})).unwrap();
    assert_ne!(other.gateway_mac(), Some(mac));
}
