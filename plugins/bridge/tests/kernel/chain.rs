//! Chaining: the reference `portmap` and `bandwidth` plugins take our result as prevResult, as
//! in flannel's and most Kubernetes conflists, and `bandwidth` finds the host veth in it.

use cni_sandbox::{Invocation, PluginRun};
use serde_json::{Value, json};

use crate::common::{Node, ip_of};

/// One plugin of the list, as libcni runs it: the list's name and version injected,
/// `runtimeConfig` from the capabilities, `prevResult` from the previous plugin.
fn run_in_chain(
    node: &Node,
    pod: &cni_sandbox::Ns,
    command: &str,
    mut plugin: Value,
    prev: Option<&Value>,
) -> PluginRun {
    plugin["cniVersion"] = json!("1.0.0");
    plugin["name"] = json!("net");
    if let Some(prev) = prev {
        plugin["prevResult"] = prev.clone();
    }
    let binary = node.cni_path.join(plugin["type"].as_str().unwrap());
    let inv = Invocation::new(binary, command)
        .cni_path(&node.cni_path.to_string_lossy())
        .container_id("ctr")
        .netns(pod.path())
        .ifname("eth0")
        .config(&plugin);
    node.run(&inv)
}

#[test]
fn reference_portmap_and_bandwidth_accept_our_result() {
    let node = Node::new("br-chain");
    let pod = node.pod("pod");
    let bridge = node.conf(
        "1.0.0",
        &["10.60.0.0/24"],
        json!({"isDefaultGateway": true, "hairpinMode": true}),
    );
    let portmap = json!({
        "type": "portmap",
        "capabilities": {"portMappings": true},
        "runtimeConfig": {"portMappings": [{"hostPort": 18080, "containerPort": 80, "protocol": "tcp"}]}
    });
    // Ingress only: egress shaping needs an ifb device, which this kernel lacks.
    let bandwidth = json!({
        "type": "bandwidth",
        "capabilities": {"bandwidth": true},
        "runtimeConfig": {"bandwidth": {"ingressRate": 8_000_000, "ingressBurst": 80_000}}
    });

    let r1 = run_in_chain(&node, &pod, "ADD", bridge.clone(), None).expect_result();
    let r2 = run_in_chain(&node, &pod, "ADD", portmap.clone(), Some(&r1)).expect_result();
    let r3 = run_in_chain(&node, &pod, "ADD", bandwidth.clone(), Some(&r2)).expect_result();
    assert_eq!(
        r3["interfaces"], r1["interfaces"],
        "meta plugins pass our interfaces on"
    );

    // bandwidth shaped the host veth it found in our result (the entry without a sandbox).
    let host = node.host_veth(&r1);
    let qdisc = node
        .ns
        .exec_ok(&["tc", "qdisc", "show", "dev", &host])
        .unwrap();
    assert!(qdisc.contains("tbf"), "no tbf on {host}: {qdisc}");
    // portmap's DNAT for the pod address.
    let nat = node.ns.exec_ok(&["iptables-save", "-t", "nat"]).unwrap();
    let pod_ip = ip_of(&r1, 0);
    assert!(nat.contains("18080") && nat.contains(&pod_ip), "{nat}");

    // CHECK and DEL in reverse order, as libcni does. The Debian portmap's own CHECK fails
    // on an IPv4-only pod ("could not check ipv6 dnat: chain ... not found"), a reference bug
    // independent of the prevResult, so its CHECK is left out.
    for (plugin, prev) in [(&bandwidth, &r3), (&bridge, &r3)] {
        run_in_chain(&node, &pod, "CHECK", plugin.clone(), Some(prev)).expect_ok();
    }
    for (plugin, prev) in [(&bandwidth, &r3), (&portmap, &r3), (&bridge, &r3)] {
        run_in_chain(&node, &pod, "DEL", plugin.clone(), Some(prev)).expect_ok();
    }
    assert!(node.ns.link(&host).unwrap().is_none());
    assert!(
        !node
            .ns
            .exec_ok(&["iptables-save", "-t", "nat"])
            .unwrap()
            .contains(&pod_ip)
    );
}
