//! The node side the bridge plugin also offers: an (anycast) gateway on every node's bridge,
//! a default route in the pod, masquerading, hairpin.

use serde_json::json;

use crate::common::*;

#[test]
fn every_node_is_the_gateway_with_one_mac_and_masquerades() {
    let c = Cluster::new("vxlan-gateway", 2);
    let extra = json!({
        "remotes": c.underlays(),
        "isDefaultGateway": true,
        "ipMasq": true,
        "hairpinMode": true,
    });
    let (p1, p2) = (c.pod("pod1"), c.pod("pod2"));
    let r1 = c.add(1, &c.conf(1, extra.clone()), &p1, "c1");
    let r2 = c.add(2, &c.conf(2, extra), &p2, "c2");
    assert_eq!(r1["ips"][0]["gateway"], "10.100.0.1");

    let bridge_mac = |n: usize| c.node(n).ns.link(BRIDGE).unwrap().unwrap().mac;
    assert_eq!(
        bridge_mac(1),
        bridge_mac(2),
        "one gateway MAC on the segment"
    );
    assert_eq!(
        r1["interfaces"][0]["mac"].as_str(),
        bridge_mac(1).as_deref()
    );
    for node in &c.nodes {
        let addrs: Vec<String> = node
            .ns
            .addrs(BRIDGE)
            .unwrap()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert!(addrs.contains(&"10.100.0.1/24".to_owned()), "{addrs:?}");
        assert_eq!(node.ns.sysctl("net.ipv4.ip_forward").unwrap(), "1");
    }
    let default = p1
        .routes(cni_sandbox::Family::V4)
        .unwrap()
        .into_iter()
        .find(|r| r.dst.prefix() == 0)
        .expect("default route in the pod");
    assert_eq!(
        default.gateway.map(|g| g.to_string()).as_deref(),
        Some("10.100.0.1")
    );

    // Pods reach their node's gateway, each other across nodes, and their node reaches them.
    assert!(p1.ping("10.100.0.1").unwrap());
    assert!(p2.ping("10.100.0.1").unwrap());
    let pairs = [(&p1, ip_of(&r1)), (&p2, ip_of(&r2))];
    assert_eq!(all_ping(&pairs), Vec::<String>::new());
    assert!(c.node(1).ns.ping(&ip_of(&r1)).unwrap());
    // Pod 1 resolved the gateway to the shared MAC, whichever node answered first.
    let gw = p1
        .neighbours("eth0")
        .unwrap()
        .into_iter()
        .find(|n| n.dst.to_string() == "10.100.0.1");
    assert_eq!(gw.and_then(|n| n.lladdr), bridge_mac(1));

    let host = r1["interfaces"][2]["name"].as_str().unwrap();
    assert!(c.node(1).ns.bridge_port(host).unwrap().unwrap().hairpin);
    let rules = c.node(1).ns.nft(&["list", "ruleset"]).unwrap();
    assert!(
        rules.contains("masquerade") && rules.contains(&ip_of(&r1)),
        "{rules}"
    );
    c.del(
        1,
        &c.conf(1, json!({"remotes": c.underlays(), "ipMasq": true})),
        Some(&p1),
        "c1",
    );
    let rules = c.node(1).ns.nft(&["list", "ruleset"]).unwrap();
    assert!(
        !rules.contains(&ip_of(&r1)),
        "DEL removed the rule: {rules}"
    );
}
