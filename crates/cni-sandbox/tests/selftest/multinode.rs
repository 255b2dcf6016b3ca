use cni_sandbox::{Ping, World};

#[test]
fn three_nodes_on_a_switch_reach_each_other() {
    let world = World::new("multinode").unwrap();
    let switch = world.switch("tor").unwrap();
    let nodes: Vec<_> = (1..=3)
        .map(|i| {
            let node = world.netns(&format!("node{i}")).unwrap();
            let plug = switch
                .plug(&node, "eth0", Some(&format!("192.168.77.{i}/24")))
                .unwrap();
            (node, plug)
        })
        .collect();
    for (i, (node, plug)) in nodes.iter().enumerate() {
        let port = switch.ns().bridge_port(&plug.switch_port).unwrap().unwrap();
        assert_eq!(port.master, cni_sandbox::SWITCH_BRIDGE);
        assert_eq!(
            port.state, "forwarding",
            "STP is off: ports forward at once"
        );
        for j in 1..=3 {
            if j != i + 1 {
                let dst = format!("192.168.77.{j}");
                assert!(node.ping(&dst).unwrap(), "node{} -> {dst}", i + 1);
            }
        }
    }
    // Unplugging a node (its switch port going down) cuts it off.
    let (node1, plug1) = &nodes[0];
    switch
        .ns()
        .ip(&["link", "set", "dev", &plug1.switch_port, "down"])
        .unwrap();
    assert!(!node1.ping_with("192.168.77.2", &Ping::once()).unwrap());
    // Hairpin on a switch port toggles and reads back.
    let (_, plug2) = &nodes[1];
    switch.set_hairpin(plug2, true).unwrap();
    assert!(
        switch
            .ns()
            .bridge_port(&plug2.switch_port)
            .unwrap()
            .unwrap()
            .hairpin
    );
    switch.set_hairpin(plug2, false).unwrap();
    assert!(
        !switch
            .ns()
            .bridge_port(&plug2.switch_port)
            .unwrap()
            .unwrap()
            .hairpin
    );
}
