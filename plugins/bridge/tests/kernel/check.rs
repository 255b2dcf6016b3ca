//! CHECK: passes on a fresh attachment and detects what broke.

use serde_json::json;

use crate::common::Node;

#[test]
fn check_detects_removed_address_cleared_hairpin_and_detached_port() {
    let node = Node::new("br-check");
    let conf = node.conf(
        "1.0.0",
        &["10.50.0.0/24"],
        json!({"isDefaultGateway": true, "hairpinMode": true, "ipMasq": true, "mtu": 1450}),
    );
    let pod = node.pod("pod");
    let r = node.add(&conf, &pod, "ctr");
    let host = node.host_veth(&r);
    node.check(&conf, &r, &pod, "ctr").expect_ok();

    // Removed address.
    pod.ip(&["addr", "del", "10.50.0.2/24", "dev", "eth0"])
        .unwrap();
    let e = node.check(&conf, &r, &pod, "ctr").expect_err(999);
    assert!(e["msg"].as_str().unwrap().contains("10.50.0.2"), "{e}");
    pod.ip(&["addr", "add", "10.50.0.2/24", "dev", "eth0"])
        .unwrap();
    pod.ip(&["route", "replace", "default", "via", "10.50.0.1"])
        .unwrap();
    node.check(&conf, &r, &pod, "ctr").expect_ok();

    // Cleared hairpin.
    node.ns.set_hairpin(&host, false).unwrap();
    let e = node.check(&conf, &r, &pod, "ctr").expect_err(999);
    assert!(e["msg"].as_str().unwrap().contains("hairpin"), "{e}");
    node.ns.set_hairpin(&host, true).unwrap();
    node.check(&conf, &r, &pod, "ctr").expect_ok();

    // Detached port.
    node.ns.ip(&["link", "set", &host, "nomaster"]).unwrap();
    let e = node.check(&conf, &r, &pod, "ctr").expect_err(999);
    assert!(
        e["msg"]
            .as_str()
            .unwrap()
            .contains("not attached to bridge"),
        "{e}"
    );
    node.ns
        .ip(&["link", "set", &host, "master", &node.bridge])
        .unwrap();
    node.ns.set_hairpin(&host, true).unwrap();
    node.check(&conf, &r, &pod, "ctr").expect_ok();

    // A missing default route and a missing masquerade rule.
    pod.ip(&["route", "del", "default"]).unwrap();
    let e = node.check(&conf, &r, &pod, "ctr").expect_err(999);
    assert!(e["msg"].as_str().unwrap().contains("0.0.0.0/0"), "{e}");
    pod.ip(&["route", "add", "default", "via", "10.50.0.1"])
        .unwrap();
    node.ns
        .nft(&[
            "flush",
            "chain",
            "inet",
            "cni_plugins_masquerade",
            "masq_checks",
        ])
        .unwrap();
    let e = node.check(&conf, &r, &pod, "ctr").expect_err(999);
    assert!(e["msg"].as_str().unwrap().contains("masquerade"), "{e}");

    // Without prevResult.
    let run = node.run(&node.inv("CHECK", &conf, Some(&pod), "ctr", "eth0"));
    let e = run.expect_err(999);
    assert_eq!(e["msg"], "Required prevResult missing");
}

#[test]
fn check_works_in_l2_mode() {
    // The reference fails here with "no plugin name provided" (it runs IPAM CHECK anyway).
    let node = Node::new("br-check-l2");
    let mut conf = node.conf("1.0.0", &[], json!({}));
    conf["ipam"] = json!({});
    let pod = node.pod("pod");
    let r = node.add(&conf, &pod, "ctr");
    assert!(r["ips"].as_array().is_none_or(|a| a.is_empty()), "{r}");
    assert!(
        pod.link("eth0").unwrap().unwrap().up,
        "L2: link up, no address"
    );
    node.check(&conf, &r, &pod, "ctr").expect_ok();
    pod.ip(&["link", "del", "eth0"]).unwrap();
    node.check(&conf, &r, &pod, "ctr").expect_err(999);
}
