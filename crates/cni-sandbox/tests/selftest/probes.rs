use cni_sandbox::{Family, Lower, SandboxError, World};
use ipnetwork::IpNetwork;

#[test]
fn link_probe_sees_veth_pairs_and_misses_nothing_else() {
    let world = World::new("probe-links").unwrap();
    let node = world.netns("node").unwrap();
    let pod = world.netns("pod").unwrap();
    assert!(node.link("nope").unwrap().is_none());
    assert_eq!(
        node.nsid_of(&pod).unwrap(),
        None,
        "no link between them yet"
    );
    world.veth((&node, "vhost"), (&pod, "eth0")).unwrap();
    let host = node.link("vhost").unwrap().unwrap();
    let cont = pod.link("eth0").unwrap().unwrap();
    assert_eq!(host.kind.as_deref(), Some("veth"));
    assert!(host.up && cont.up);
    // Each end names the other by index, in a namespace known by its nsid.
    assert!(
        matches!(host.lower, Some(Lower::Remote { ifindex, netnsid: Some(_) }) if ifindex == cont.index)
    );
    assert!(matches!(cont.lower, Some(Lower::Remote { ifindex, .. }) if ifindex == host.index));
    let pod_id = node.nsid_of(&pod).unwrap();
    assert!(pod_id.is_some());
    assert!(matches!(host.lower, Some(Lower::Remote { netnsid, .. }) if netnsid == pod_id));
    assert!(host.mac.as_deref().is_some_and(|m| m.len() == 17));
    let names: Vec<String> = pod.links().unwrap().into_iter().map(|l| l.name).collect();
    assert_eq!(names, ["lo", "eth0"]);
}

#[test]
fn bridge_port_shows_hairpin_toggling() {
    let world = World::new("probe-hairpin").unwrap();
    let node = world.netns("node").unwrap();
    node.ip(&["link", "add", "br0", "type", "bridge"]).unwrap();
    node.ip(&[
        "link", "add", "p0", "type", "veth", "peer", "name", "p0peer",
    ])
    .unwrap();
    assert!(node.bridge_port("p0").unwrap().is_none(), "not a port yet");
    node.ip(&["link", "set", "p0", "master", "br0"]).unwrap();
    let port = node.bridge_port("p0").unwrap().unwrap();
    assert_eq!(port.master, "br0");
    assert!(!port.hairpin && port.learning);
    node.bridge(&["link", "set", "dev", "p0", "hairpin", "on"])
        .unwrap();
    assert!(node.bridge_port("p0").unwrap().unwrap().hairpin);
    node.set_hairpin("p0", false).unwrap();
    assert!(!node.bridge_port("p0").unwrap().unwrap().hairpin);
    let link = node.link("p0").unwrap().unwrap();
    assert_eq!(link.master.as_deref(), Some("br0"));
    let br = node.link("br0").unwrap().unwrap();
    assert_eq!(br.bridge().unwrap().stp_state, 0);
}

#[test]
fn addresses_and_routes() {
    let world = World::new("probe-routes").unwrap();
    let a = world.netns("a").unwrap();
    let b = world.netns("b").unwrap();
    world.veth((&a, "va"), (&b, "vb")).unwrap();
    a.add_addr("va", "10.210.0.1/24").unwrap();
    a.add_addr("va", "fd00:210::1/64").unwrap();
    a.ip(&[
        "route",
        "add",
        "10.211.0.0/16",
        "via",
        "10.210.0.2",
        "metric",
        "50",
    ])
    .unwrap();
    a.ip(&[
        "route",
        "add",
        "default",
        "via",
        "10.210.0.2",
        "table",
        "100",
    ])
    .unwrap();
    a.ip(&["-6", "route", "add", "default", "via", "fd00:210::2"])
        .unwrap();
    let addrs = a.addrs("va").unwrap();
    assert!(addrs.contains(&"10.210.0.1/24".parse::<IpNetwork>().unwrap()));
    assert!(addrs.contains(&"fd00:210::1/64".parse::<IpNetwork>().unwrap()));

    let v4 = a.routes(Family::V4).unwrap();
    let via = v4
        .iter()
        .find(|r| r.dst == "10.211.0.0/16".parse::<IpNetwork>().unwrap())
        .unwrap();
    assert_eq!(via.gateway, Some("10.210.0.2".parse().unwrap()));
    assert_eq!(
        (via.metric, via.dev.as_deref(), via.table.as_str()),
        (Some(50), Some("va"), "main")
    );
    let def = v4.iter().find(|r| r.dst.prefix() == 0).unwrap();
    assert_eq!(def.table, "100");
    assert!(v4.iter().all(|r| r.dst.is_ipv4()));
    let v6 = a.routes(Family::V6).unwrap();
    assert!(
        v6.iter()
            .any(|r| r.dst.prefix() == 0 && r.gateway == Some("fd00:210::2".parse().unwrap()))
    );
    assert!(v6.iter().all(|r| r.dst.is_ipv6()));
}

#[test]
fn macvlan_vxlan_fdb_and_neighbours() {
    let world = World::new("probe-kinds").unwrap();
    let node = world.netns("node").unwrap();
    let peer = world.netns("peer").unwrap();
    world.veth((&node, "eth0"), (&peer, "eth0")).unwrap();
    node.add_addr("eth0", "10.220.0.1/24").unwrap();

    node.ip(&[
        "link", "add", "mv0", "link", "eth0", "type", "macvlan", "mode", "source",
    ])
    .unwrap();
    node.ip(&[
        "link",
        "set",
        "mv0",
        "type",
        "macvlan",
        "macaddr",
        "add",
        "02:00:00:00:00:01",
    ])
    .unwrap();
    let mv = node.link("mv0").unwrap().unwrap();
    let info = mv.macvlan().unwrap();
    assert_eq!(info.mode, "source");
    assert_eq!(info.source_macs, ["02:00:00:00:00:01"]);
    assert_eq!(mv.lower, Some(Lower::Local("eth0".into())));

    node.ip(&[
        "link",
        "add",
        "vx0",
        "type",
        "vxlan",
        "id",
        "42",
        "dstport",
        "4789",
        "local",
        "10.220.0.1",
        "dev",
        "eth0",
        "nolearning",
    ])
    .unwrap();
    let vx = node.link("vx0").unwrap().unwrap();
    let v = vx.vxlan().unwrap();
    assert_eq!((v.vni, v.port, v.dev.as_deref()), (42, 4789, Some("eth0")));
    assert_eq!(v.local, Some("10.220.0.1".parse().unwrap()));
    assert!(!v.learning && !v.proxy);

    assert!(node.fdb("vx0").unwrap().iter().all(|e| e.dst.is_none()));
    node.bridge(&[
        "fdb",
        "append",
        "00:00:00:00:00:00",
        "dev",
        "vx0",
        "dst",
        "10.220.0.2",
        "self",
        "permanent",
    ])
    .unwrap();
    let fdb = node.fdb("vx0").unwrap();
    let flood = fdb
        .iter()
        .find(|e| e.dst == Some("10.220.0.2".parse().unwrap()))
        .unwrap();
    assert!(flood.is_self && flood.permanent && flood.master.is_none());
    assert_eq!(flood.mac, "00:00:00:00:00:00");

    assert!(node.neighbours("eth0").unwrap().is_empty());
    node.ip(&[
        "neigh",
        "add",
        "10.220.0.7",
        "lladdr",
        "02:00:00:00:00:07",
        "dev",
        "eth0",
        "nud",
        "permanent",
    ])
    .unwrap();
    let n = node.neighbours("eth0").unwrap();
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].lladdr.as_deref(), Some("02:00:00:00:00:07"));
    assert_eq!(n[0].state, ["PERMANENT"]);
}

#[test]
fn sysctls_are_per_namespace() {
    let world = World::new("probe-sysctl").unwrap();
    let a = world.netns("a").unwrap();
    let b = world.netns("b").unwrap();
    let root_before = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let b_before = b.sysctl("net.ipv4.ip_forward").unwrap();
    // New namespaces may inherit the IPv4 value from the root (devconf_inherit_init_net), so
    // flip whatever a has and check nothing else moved.
    let flipped = if a.sysctl("net.ipv4.ip_forward").unwrap() == "1" {
        "0"
    } else {
        "1"
    };
    a.set_sysctl("net.ipv4.ip_forward", flipped).unwrap();
    assert_eq!(a.sysctl("net.ipv4.ip_forward").unwrap(), flipped);
    assert_eq!(b.sysctl("net.ipv4.ip_forward").unwrap(), b_before);
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(),
        root_before
    );
    // Per-interface keys exist only where the interface does.
    world.veth((&a, "va"), (&b, "vb")).unwrap();
    a.set_sysctl("net/ipv6/conf/va/accept_dad", "0").unwrap();
    assert_eq!(a.sysctl("net.ipv6.conf.va.accept_dad").unwrap(), "0");
    assert!(b.sysctl("net.ipv6.conf.va.accept_dad").is_err());
}

#[test]
fn tool_failures_are_loud() {
    let world = World::new("probe-loud").unwrap();
    let ns = world.netns("a").unwrap();
    let err = ns
        .ip(&["link", "add", "x0", "type", "nosuchkind"])
        .unwrap_err();
    assert!(matches!(err, SandboxError::Command { .. }), "{err}");
    assert!(err.to_string().contains("nosuchkind"), "{err}");
    // Asking for addresses of a device that does not exist is an error, not an empty list.
    assert!(ns.addrs("nope").is_err());
    let gone = ns.clone();
    drop(world);
    assert!(
        gone.links().is_err(),
        "probing a deleted namespace must fail"
    );
}

#[test]
fn exec_and_background() {
    let world = World::new("probe-exec").unwrap();
    let ns = world.netns("a").unwrap();
    let out = ns
        .exec(&["sh", "-c", "echo hi; echo oops >&2; exit 4"])
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "oops\n");
    assert!(ns.exec(&["/nonexistent/tool"]).is_err());

    let marker = world.tempdir().join("started");
    let script = format!("echo started; touch {}; exec sleep 60", marker.display());
    let mut bg = ns.spawn(&["sh", "-c", &script]).unwrap();
    // Stopping before the shell ran would lose its output: wait for it to get going.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !marker.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(bg.is_running());
    let start = std::time::Instant::now();
    let out = bg.stop();
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "started\n");
}

#[test]
fn vlan_capability_matches_the_kernel_and_vlans_read_back() {
    let supported = cni_sandbox::caps::bridge_vlan_filtering().unwrap();
    let world = World::new("probe-vlans").unwrap();
    let ns = world.netns("a").unwrap();
    ns.ip(&["link", "add", "br0", "type", "bridge"]).unwrap();
    ns.ip(&[
        "link", "add", "p0", "type", "veth", "peer", "name", "p0peer",
    ])
    .unwrap();
    ns.ip(&["link", "set", "p0", "master", "br0"]).unwrap();
    let turned_on = ns.ip(&[
        "link",
        "set",
        "br0",
        "type",
        "bridge",
        "vlan_filtering",
        "1",
    ]);
    assert_eq!(turned_on.is_ok(), supported, "{turned_on:?}");
    if !supported {
        eprintln!("kernel without CONFIG_BRIDGE_VLAN_FILTERING: checking the empty case only");
        assert!(ns.vlans("p0").unwrap().is_empty());
        return;
    }
    assert!(
        ns.link("br0")
            .unwrap()
            .unwrap()
            .bridge()
            .unwrap()
            .vlan_filtering
    );
    ns.bridge(&["vlan", "add", "dev", "p0", "vid", "10-12"])
        .unwrap();
    ns.bridge(&["vlan", "add", "dev", "p0", "vid", "20", "pvid", "untagged"])
        .unwrap();
    ns.bridge(&["vlan", "del", "dev", "p0", "vid", "1"])
        .unwrap();
    let vlans = ns.vlans("p0").unwrap();
    let vids: Vec<u16> = vlans.iter().map(|v| v.vid).collect();
    assert_eq!(vids, [10, 11, 12, 20]);
    assert!(vlans[3].pvid && vlans[3].untagged && !vlans[0].pvid);
}
