//! IPv6: dual-stack pods on the LAN, DAD settled before ADD returns, and the shim for IPv6.

use serde_json::json;

use crate::common::{Lan, conf, ip, reaches};

#[test]
fn dual_stack_pods_reach_each_other_the_lan_and_through_the_shim_the_node() {
    let lan = Lan::new("mv_ipv6");
    let (_host, _) = lan.host("host", &["10.10.0.100/24", "fd00:10::100/64"]);
    let ipam = lan.ipam(json!({
        "subnet": null, "rangeStart": null, "rangeEnd": null,
        "ranges": [
            [{"subnet": "10.10.0.0/24", "rangeStart": "10.10.0.10", "rangeEnd": "10.10.0.50"}],
            [{"subnet": "fd00:10::/64", "rangeStart": "fd00:10::10", "rangeEnd": "fd00:10::50"}]
        ],
    }));
    let c = conf(
        "lan",
        "1.0.0",
        json!({"hostShim": {"addresses": ["10.10.0.250", "fd00:10::fe"]}, "ipam": ipam}),
    );
    let (a, b) = (lan.pod("a"), lan.pod("b"));
    let ra = lan.add(&a, "ca", "eth0", &c);
    let rb = lan.add(&b, "cb", "eth0", &c);
    let v6 = |r: &serde_json::Value| -> String {
        let cidr = r["ips"][1]["address"].as_str().unwrap();
        assert!(cidr.starts_with("fd00:10::"), "{r}");
        cidr.split('/').next().unwrap().to_owned()
    };
    // IPAM gave an IPv6 gateway, so ADD waited for DAD: the address is usable on return.
    let details = a.addr_details("eth0").unwrap();
    assert!(
        details
            .iter()
            .any(|d| d.addr.ip().to_string() == v6(&ra) && !d.tentative),
        "{details:?}"
    );
    assert!(reaches(&a, &v6(&rb)), "pod a -> pod b over IPv6");
    assert!(reaches(&b, "fd00:10::100"), "pod b -> host over IPv6");
    assert!(
        reaches(&lan.node, &v6(&ra)),
        "node -> pod over IPv6 through the shim"
    );
    assert!(
        reaches(&a, "fd00:10::fe"),
        "pod -> the node's IPv6 shim address"
    );
    assert!(
        reaches(&lan.node, &ip(&rb, 0)),
        "and over IPv4 in the same shim"
    );
}
