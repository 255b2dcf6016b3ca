//! The three ways to find peers, each across three nodes: connectivity, what the kernel holds,
//! and what crosses the underlay.

use serde_json::json;

use crate::common::*;

/// Encapsulated ARP requests in a capture (tcpdump prints the inner frame on its own line).
fn arp_requests(capture: &str) -> usize {
    capture
        .lines()
        .filter(|l| l.contains("ARP, Request"))
        .count()
}

#[test]
fn remotes_connect_three_nodes_with_one_flood_entry_per_remote() {
    let c = Cluster::new("vxlan-remotes", 3);
    // One config for all nodes, listing every node: each skips its own address.
    let extra = || json!({"remotes": c.underlays()});
    let pods: Vec<_> = (1..=3).map(|n| c.pod(&format!("pod{n}"))).collect();
    let capture = c.capture_underlay(4789);
    let mut addrs = Vec::new();
    for n in 1..=3 {
        let result = c.add(n, &c.conf(n, extra()), &pods[n - 1], &format!("c{n}"));
        addrs.push(ip_of(&result));
    }

    for node in &c.nodes {
        let mut others: Vec<String> = c.underlays();
        others.retain(|u| *u != node.underlay);
        assert_eq!(flood_remotes(&node.ns), others, "node {}", node.number);
        let (link, info) = vtep(&node.ns);
        assert_eq!((info.vni, info.port), (100, 4789));
        assert_eq!(
            info.local.map(|l| l.to_string()),
            Some(node.underlay.clone())
        );
        assert_eq!(info.dev.as_deref(), Some("eth0"));
        assert!(!info.learning && !info.proxy && info.group.is_none());
        assert_eq!(link.master.as_deref(), Some(BRIDGE));
        assert!(link.up);
    }

    let pairs: Vec<_> = pods.iter().zip(addrs.iter().cloned()).collect();
    assert_eq!(all_ping(&pairs), Vec::<String>::new());
    // Without proxy, ARP for a pod on another node is flooded to every remote: the positive
    // control for the proxy test's zero.
    let packets = capture.stop();
    assert!(
        arp_requests(&packets) > 0,
        "ARP crossed the underlay:\n{packets}"
    );

    // Node 3 leaves the config; node 1's next ADD drops its flood entry, and adds it back
    // when it returns.
    let two = json!({"remotes": [c.node(1).underlay, c.node(2).underlay]});
    let extra_pod = c.pod("pod1b");
    c.add(1, &c.conf(1, two), &extra_pod, "c1b");
    assert_eq!(flood_remotes(&c.node(1).ns), [c.node(2).underlay.clone()]);
    let extra_pod2 = c.pod("pod1c");
    c.add(1, &c.conf(1, extra()), &extra_pod2, "c1c");
    assert_eq!(
        flood_remotes(&c.node(1).ns),
        [c.node(2).underlay.clone(), c.node(3).underlay.clone()]
    );
}

#[test]
fn a_multicast_group_connects_three_nodes_and_learning_fills_the_fdb() {
    let c = Cluster::new("vxlan-group", 3);
    // The switch bridge keeps its default IGMP snooping: the nodes' joins register the group
    // on their ports, so it is not needed off (checked, not assumed).
    let sw = c.switch.ns().link("sw0").unwrap().unwrap();
    assert_eq!(
        sw.raw["linkinfo"]["info_data"]["mcast_snooping"], 1,
        "{:#}",
        sw.raw
    );

    let extra = json!({"group": "239.1.1.1"});
    let pods: Vec<_> = (1..=3).map(|n| c.pod(&format!("pod{n}"))).collect();
    let mut addrs = Vec::new();
    let mut macs = Vec::new();
    for n in 1..=3 {
        let result = c.add(n, &c.conf(n, extra.clone()), &pods[n - 1], &format!("c{n}"));
        addrs.push(ip_of(&result));
        macs.push(result["interfaces"][3]["mac"].as_str().unwrap().to_owned());
    }
    for node in &c.nodes {
        let (_, info) = vtep(&node.ns);
        assert_eq!(
            info.group.map(|g| g.to_string()).as_deref(),
            Some("239.1.1.1")
        );
        assert!(info.learning && !info.proxy);
        assert_eq!(flood_remotes(&node.ns), ["239.1.1.1"]);
    }

    let pairs: Vec<_> = pods.iter().zip(addrs.iter().cloned()).collect();
    assert_eq!(all_ping(&pairs), Vec::<String>::new());

    // Node 1 learned where pods 2 and 3 live: dynamic (not permanent) entries pointing at
    // their nodes.
    let fdb = c.node(1).ns.fdb(VTEP).unwrap();
    for (pod, node) in [(1, 2), (2, 3)] {
        let entry = fdb
            .iter()
            .find(|e| e.mac == macs[pod] && e.is_self)
            .unwrap_or_else(|| panic!("no learned entry for {} in {fdb:#?}", macs[pod]));
        assert_eq!(
            entry.dst.map(|d| d.to_string()),
            Some(c.node(node).underlay.clone())
        );
        assert!(!entry.permanent, "learned, not programmed: {entry:?}");
    }
}

#[test]
fn proxy_mode_answers_arp_locally_so_no_request_crosses_the_underlay() {
    let c = Cluster::new("vxlan-proxy", 3);
    // Each pod's MAC is fixed and its address is the first of its node's slice.
    let mac = |n: usize| format!("02:00:00:00:01:0{n}");
    let ip = |n: usize| format!("10.100.0.{n}1");
    let neighbors: Vec<_> = (1..=3)
        .map(|n| json!({"ip": ip(n), "mac": mac(n), "remote": c.node(n).underlay}))
        .collect();
    let extra = json!({"neighbors": neighbors});
    let pods: Vec<_> = (1..=3).map(|n| c.pod(&format!("pod{n}"))).collect();
    for n in 1..=3 {
        let inv = c
            .inv(
                "ADD",
                &c.conf(n, extra.clone()),
                Some(&pods[n - 1]),
                &format!("c{n}"),
                "eth0",
            )
            .args(&format!("IgnoreUnknown=1;MAC={}", mac(n)));
        let result = c.run(n, &inv).expect_result();
        assert_eq!(ip_of(&result), ip(n));
    }

    for node in &c.nodes {
        let me = node.number;
        let (_, info) = vtep(&node.ns);
        assert!(info.proxy && !info.learning);
        assert_eq!(
            flood_remotes(&node.ns),
            Vec::<String>::new(),
            "nothing floods"
        );
        let fdb = node.ns.fdb(VTEP).unwrap();
        let neigh = node.ns.neighbours(VTEP).unwrap();
        for other in (1..=3).filter(|o| *o != me) {
            let entry = fdb.iter().find(|e| e.mac == mac(other)).expect("fdb entry");
            assert!(entry.is_self && entry.permanent);
            assert_eq!(
                entry.dst.map(|d| d.to_string()),
                Some(c.node(other).underlay.clone())
            );
            let n = neigh
                .iter()
                .find(|n| n.dst.to_string() == ip(other))
                .expect("neighbour entry");
            assert_eq!(n.lladdr.as_deref(), Some(mac(other).as_str()));
            assert!(n.state.iter().any(|s| s == "PERMANENT"));
        }
        // Our own pod is reached through the bridge, not programmed on the VTEP.
        assert!(fdb.iter().all(|e| e.mac != mac(me) || !e.is_self));
    }

    let capture = c.capture_underlay(4789);
    let pairs: Vec<_> = pods.iter().zip((1..=3).map(ip)).collect();
    assert_eq!(all_ping(&pairs), Vec::<String>::new());
    let packets = capture.stop();
    assert!(
        packets.contains("ICMP echo request"),
        "the pings crossed: {packets}"
    );
    assert_eq!(
        arp_requests(&packets),
        0,
        "ARP crossed the underlay:\n{packets}"
    );
    // The pods resolved each other to the right MACs, from the VTEP's answers.
    let resolved = pods[0].neighbours("eth0").unwrap();
    let two = resolved
        .iter()
        .find(|n| n.dst.to_string() == ip(2))
        .expect("pod 2 resolved");
    assert_eq!(two.lladdr.as_deref(), Some(mac(2).as_str()));
}
