//! Leaving the subnet (seed macvlan-bridge-default-route.txt): a pod needs a default route via
//! the gateway, which IPAM's routes provide.

use cni_sandbox::Family;
use serde_json::json;

use crate::common::{Lan, conf, reaches, reaches_once};

#[test]
fn a_default_route_via_the_gateway_reaches_beyond_the_subnet() {
    let lan = Lan::new("mv_default_route");
    // A router on the LAN (10.10.0.1, IPAM's default gateway) with a far network behind it.
    let (router, _) = lan.host("router", &["10.10.0.1/24"]);
    let far = lan.world.netns("far").unwrap();
    lan.world.veth((&router, "far0"), (&far, "eth0")).unwrap();
    router.add_addr("far0", "10.20.0.1/24").unwrap();
    far.add_addr("eth0", "10.20.0.2/24").unwrap();
    far.ip(&["route", "add", "default", "via", "10.20.0.1"])
        .unwrap();
    router.set_sysctl("net.ipv4.ip_forward", "1").unwrap();

    let routed = conf(
        "lan",
        "1.0.0",
        json!({"ipam": lan.ipam(json!({"routes": [{"dst": "0.0.0.0/0"}]}))}),
    );
    let a = lan.pod("a");
    let ra = lan.add(&a, "ca", "eth0", &routed);
    assert_eq!(ra["routes"][0]["dst"], "0.0.0.0/0");
    assert_eq!(ra["ips"][0]["gateway"], "10.10.0.1");
    let default: Vec<_> = a
        .routes(Family::V4)
        .unwrap()
        .into_iter()
        .filter(|r| r.dst.prefix() == 0 && r.table == "main")
        .collect();
    assert_eq!(default.len(), 1, "{default:?}");
    assert_eq!(default[0].gateway, Some("10.10.0.1".parse().unwrap()));
    assert_eq!(default[0].dev.as_deref(), Some("eth0"));
    assert!(
        reaches(&a, "10.20.0.2"),
        "the pod leaves its subnet through the gateway"
    );

    // The same LAN without IPAM routes: the far network is out of reach.
    // A second network on the same LAN: its own range, so no address is handed out twice.
    let unrouted = conf(
        "lan2",
        "1.0.0",
        json!({"ipam": lan.ipam(json!({"rangeStart": "10.10.0.30"}))}),
    );
    let b = lan.pod("b");
    lan.add(&b, "cb", "eth0", &unrouted);
    assert!(reaches(&b, "10.10.0.1"), "the gateway itself is on-link");
    assert!(
        !reaches_once(&b, "10.20.0.2"),
        "no default route, no way out"
    );
}
