//! Many concurrent ADDs on a bridge none of them finds: creation races must be harmless.

use std::collections::BTreeSet;

use serde_json::json;

use crate::common::{Node, ip_of};

#[test]
fn fifty_pods_at_once_on_a_fresh_bridge() {
    let node = Node::new("br-fifty");
    let conf = node.conf(
        "1.0.0",
        &["10.40.0.0/24"],
        json!({"isGateway": true, "hairpinMode": true}),
    );
    let pods: Vec<_> = (0..50).map(|i| node.pod(&format!("p{i}"))).collect();
    assert!(
        node.ns.link(&node.bridge).unwrap().is_none(),
        "fresh: no bridge yet"
    );
    let runs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = pods
            .iter()
            .enumerate()
            .map(|(i, pod)| {
                let inv = node.inv("ADD", &conf, Some(pod), &format!("ctr-{i}"), "eth0");
                let ns = &node.ns;
                s.spawn(move || ns.run_plugin(&inv).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut addresses = BTreeSet::new();
    for run in runs {
        let r = run.expect_result();
        addresses.insert(ip_of(&r, 0));
    }
    assert_eq!(addresses.len(), 50, "distinct addresses: {addresses:?}");
    assert_eq!(node.ns.bridge_ports().unwrap().len(), 50);
    // Spot-check traffic across the crowd.
    assert!(pods[0].ping(addresses.iter().last().unwrap()).unwrap());
}
