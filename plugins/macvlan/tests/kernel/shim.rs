//! The host shim (seed macvlan-bridge-default-route.txt, last part): node <-> pod traffic,
//! which the kernel forbids between a master and its macvlan children.

use cni_netlink::MacvlanMode;
use cni_sandbox::{Family, Ns, RouteView};
use serde_json::{Value, json};

use crate::common::{Lan, NODE_IP, call, conf, ip, reaches, reaches_once};

/// The node's shim links (macvlans in the node namespace).
fn shims(node: &Ns) -> Vec<cni_sandbox::LinkView> {
    node.links()
        .unwrap()
        .into_iter()
        .filter(|l| l.kind.as_deref() == Some("macvlan"))
        .collect()
}

/// Routes via `dev` in the node's main table.
fn routes_via(node: &Ns, dev: &str, family: Family) -> Vec<RouteView> {
    node.routes(family)
        .unwrap()
        .into_iter()
        .filter(|r| r.dev.as_deref() == Some(dev) && r.table == "main" && r.protocol == "boot")
        .collect()
}

/// Where the plugin takes the shim's lock on this world's node.
fn lock_path(lan: &Lan, shim: &str) -> std::path::PathBuf {
    let node = cni_netlink::Netns::open(lan.node.path()).unwrap();
    cni_attach::NodeLock::path_for(&lan.lock_dir(), shim, &node).unwrap()
}

/// The shim's lock files in this world.
fn lock_files(lan: &Lan, shim: &str) -> Vec<String> {
    let path = lock_path(lan, shim);
    let file = path.file_name().unwrap().to_string_lossy();
    cni_sandbox::list_dir(lan.lock_dir())
        .unwrap_or_default()
        .into_iter()
        .filter(|f| *f == file)
        .collect()
}

/// A config with a host shim; its IPAM range (.30-.50) is disjoint from other networks'.
fn shim_conf(lan: &Lan, network: &str, shim_addrs: Value) -> Value {
    conf(
        network,
        "1.0.0",
        json!({
            "hostShim": {"addresses": shim_addrs},
            "ipam": lan.ipam(json!({"rangeStart": "10.10.0.30"})),
        }),
    )
}

#[test]
fn without_a_shim_node_and_pod_cannot_talk_with_one_they_can() {
    let lan = Lan::new("mv_shim_talk");
    let (_host, _) = lan.host("host", &["10.10.0.100/24"]);

    // Without: the kernel isolates the master from its children.
    // Two networks on one LAN: disjoint ranges, or both pods would get 10.10.0.10.
    let plain = conf(
        "plain",
        "1.0.0",
        json!({"ipam": lan.ipam(json!({"rangeEnd": "10.10.0.29"}))}),
    );
    let a = lan.pod("a");
    let ra = lan.add(&a, "ca", "eth0", &plain);
    assert!(reaches(&a, "10.10.0.100"), "the pod is on the LAN");
    assert!(
        !reaches_once(&lan.node, &ip(&ra, 0)),
        "node -> pod without shim"
    );
    assert!(!reaches_once(&a, NODE_IP), "pod -> node without shim");
    assert!(shims(&lan.node).is_empty());

    // With: a bridge-mode sibling on the node's side.
    let shimmed = shim_conf(&lan, "shimmed", json!(["10.10.0.250"]));
    let b = lan.pod("b");
    let rb = lan.add(&b, "cb", "eth0", &shimmed);
    let pod_ip = ip(&rb, 0);
    assert!(reaches(&lan.node, &pod_ip), "node -> pod with shim");
    assert!(reaches(&b, "10.10.0.250"), "pod -> the node's shim address");
    assert!(
        reaches(&b, NODE_IP),
        "pod -> the node's own address on the master"
    );
    assert!(reaches(&b, "10.10.0.100"), "the pod still reaches the LAN");

    let shim = cni_macvlan::shim::name("shimmed", "up0");
    let link = lan
        .node
        .link(&shim)
        .unwrap()
        .expect("shim link on the node");
    assert_eq!(link.macvlan().unwrap().mode, MacvlanMode::Bridge.as_str());
    assert_eq!(link.lower, Some(cni_sandbox::Lower::Local("up0".into())));
    assert!(
        lan.node
            .addrs(&shim)
            .unwrap()
            .contains(&"10.10.0.250/32".parse().unwrap())
    );
    let routes = routes_via(&lan.node, &shim, Family::V4);
    assert_eq!(routes.len(), 1, "{routes:?}");
    assert_eq!(routes[0].dst, format!("{pod_ip}/32").parse().unwrap());
    assert_eq!(routes[0].prefsrc, Some("10.10.0.250".parse().unwrap()));
    assert_eq!(routes[0].metric, Some(cni_macvlan::shim::tag("cb", "eth0")));
    assert!(
        !reaches_once(&lan.node, &ip(&ra, 0)),
        "pods of other networks stay unreachable"
    );
}

#[test]
fn the_shim_lives_while_a_pod_uses_it_and_routes_the_pod_back() {
    let lan = Lan::new("mv_shim_life");
    // A shim address outside the pods' subnet: ADD gives each pod a route back to it.
    let c = shim_conf(&lan, "lan", json!(["10.99.0.1"]));
    let shim = cni_macvlan::shim::name("lan", "up0");
    let (a, b) = (lan.pod("a"), lan.pod("b"));
    let ra = lan.add(&a, "ca", "net1", &c);
    let rb = lan.add(&b, "cb", "net1", &c);

    let back: Vec<_> = a
        .routes(Family::V4)
        .unwrap()
        .into_iter()
        .filter(|r| r.dst == "10.99.0.1/32".parse().unwrap())
        .collect();
    assert_eq!(back.len(), 1, "the pod has a route back to the shim");
    assert_eq!(back[0].dev.as_deref(), Some("net1"));
    assert!(
        reaches(&a, "10.99.0.1"),
        "pod -> shim address outside its subnet"
    );
    assert!(reaches(&lan.node, &ip(&ra, 0)));
    assert!(reaches(&lan.node, &ip(&rb, 0)));
    assert_eq!(routes_via(&lan.node, &shim, Family::V4).len(), 2);
    assert_eq!(lock_files(&lan, &shim).len(), 1);

    // CHECK sees the shim's routes; take one away behind its back and CHECK says so.
    let check = |pod: &Ns, id: &str, result: &Value| {
        let mut c = c.clone();
        c["prevResult"] = result.clone();
        lan.run(&call("CHECK", pod, id, "net1", &c))
    };
    check(&a, "ca", &ra).expect_ok();
    lan.node
        .ip(&["route", "del", &format!("{}/32", ip(&ra, 0)), "dev", &shim])
        .unwrap();
    let err = check(&a, "ca", &ra).expect_err(999);
    assert!(err["msg"].as_str().unwrap().contains("host shim"), "{err}");

    lan.del(&a, "ca", "net1", &c);
    assert!(
        lan.node.link(&shim).unwrap().is_some(),
        "b still uses the shim"
    );
    assert!(reaches(&lan.node, &ip(&rb, 0)));
    lan.del(&b, "cb", "net1", &c);
    assert!(
        lan.node.link(&shim).unwrap().is_none(),
        "the last DEL removes the shim"
    );
    assert!(lock_files(&lan, &shim).is_empty(), "and its lock file");
    // A repeated DEL finds nothing and succeeds.
    lan.del(&b, "cb", "net1", &c);
}

#[test]
fn gc_drops_stale_shim_routes_and_forwards_to_ipam() {
    let lan = Lan::new("mv_shim_gc");
    let c = shim_conf(&lan, "lan", json!(["10.10.0.250"]));
    let shim = cni_macvlan::shim::name("lan", "up0");
    let (a, b) = (lan.pod("a"), lan.pod("b"));
    let ra = lan.add(&a, "ca", "eth0", &c);
    lan.add(&b, "cb", "eth0", &c);
    assert_eq!(lan.reservations("lan").len(), 2);

    let mut gc = c.clone();
    gc["cniVersion"] = json!("1.1.0");
    gc["cni.dev/valid-attachments"] = json!([{"containerID": "ca", "ifname": "eth0"}]);
    lan.run(&call("GC", &a, "", "", &gc).set(cni_sandbox::CniVar::Netns, ""))
        .expect_ok();
    let routes = routes_via(&lan.node, &shim, Family::V4);
    assert_eq!(routes.len(), 1, "only the valid attachment keeps its route");
    assert_eq!(routes[0].dst, format!("{}/32", ip(&ra, 0)).parse().unwrap());
    assert_eq!(
        lan.reservations("lan"),
        vec![ip(&ra, 0).parse::<std::net::IpAddr>().unwrap()],
        "GC reached host-local"
    );
    assert!(reaches(&lan.node, &ip(&ra, 0)));

    gc["cni.dev/valid-attachments"] = json!([]);
    lan.run(&call("GC", &a, "", "", &gc).set(cni_sandbox::CniVar::Netns, ""))
        .expect_ok();
    assert!(
        lan.node.link(&shim).unwrap().is_none(),
        "no attachment left: no shim"
    );
    assert!(lock_files(&lan, &shim).is_empty());
}

#[test]
fn a_failed_shim_step_leaves_nothing_behind() {
    let lan = Lan::new("mv_shim_rollback");
    // Dual-stack IPAM but an IPv4-only shim: the shim step refuses after IPAM and the link.
    let ipam = lan.ipam(json!({
        "subnet": null, "rangeStart": null, "rangeEnd": null,
        "ranges": [[{"subnet": "10.10.0.0/24", "rangeStart": "10.10.0.10"}],
                   [{"subnet": "fd00:10::/64"}]],
    }));
    let c = conf(
        "lan",
        "1.0.0",
        json!({"hostShim": {"addresses": ["10.10.0.250"]}, "ipam": ipam}),
    );
    let pod = lan.pod("pod");
    let err = lan.run(&call("ADD", &pod, "c", "eth0", &c)).expect_err(7);
    assert!(
        err["msg"].as_str().unwrap().contains("no IPv6 address"),
        "{err}"
    );
    assert!(
        pod.link("eth0").unwrap().is_none(),
        "the pod's link was removed"
    );
    assert!(
        lan.reservations("lan").is_empty(),
        "the addresses were released"
    );
    assert!(shims(&lan.node).is_empty(), "no shim was left");
}

#[test]
fn concurrent_adds_and_dels_share_one_shim_safely() {
    let lan = Lan::new("mv_shim_race");
    let c = shim_conf(&lan, "lan", json!(["10.10.0.250"]));
    let shim = cni_macvlan::shim::name("lan", "up0");
    let pods: Vec<Ns> = (0..5).map(|i| lan.pod(&format!("p{i}"))).collect();
    let add = |i: usize| lan.run(&call("ADD", &pods[i], &format!("c{i}"), "eth0", &c));
    let del = |i: usize| lan.run(&call("DEL", &pods[i], &format!("c{i}"), "eth0", &c));

    // Four first ADDs at once, while the test itself holds the shim's lock: they must wait
    // for it (nothing of the shim appears), then one creates the shim and none trips over
    // another.
    std::fs::create_dir_all(lan.lock_dir()).unwrap();
    let path = lock_path(&lan, &shim);
    let file = std::fs::File::create(&path).unwrap();
    let held = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive).unwrap();
    let runs = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|i| s.spawn(move || add(i))).collect();
        std::thread::sleep(std::time::Duration::from_millis(800));
        assert!(
            shims(&lan.node).is_empty(),
            "an ADD went past the held lock"
        );
        drop(held);
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    let results: Vec<Value> = runs.into_iter().map(|r| r.expect_result()).collect();
    assert_eq!(shims(&lan.node).len(), 1);
    assert_eq!(routes_via(&lan.node, &shim, Family::V4).len(), 4);

    // Every DEL at once while a fifth pod arrives: the shim must survive for the newcomer.
    let (dels, fifth) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|i| s.spawn(move || del(i))).collect();
        let fifth = s.spawn(move || add(4));
        let dels: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        (dels, fifth.join().unwrap())
    });
    dels.into_iter().for_each(|d| {
        d.expect_ok();
    });
    let fifth = fifth.expect_result();
    let routes = routes_via(&lan.node, &shim, Family::V4);
    assert_eq!(routes.len(), 1, "{routes:?}");
    assert_eq!(
        routes[0].dst,
        format!("{}/32", ip(&fifth, 0)).parse().unwrap()
    );
    assert!(
        reaches(&lan.node, &ip(&fifth, 0)),
        "the newcomer is reachable"
    );
    for r in &results {
        assert!(!reaches_once(&lan.node, &ip(r, 0)), "deleted pods are gone");
    }
}
