//! Every verb in every spec version, and the ways DEL, CHECK and STATUS meet a changed world.

use cni_sandbox::CniVar;
use serde_json::{Value, json};

use crate::common::{Lan, call, conf, ip};

#[test]
fn every_version_adds_checks_and_deletes() {
    let lan = Lan::new("mv_versions");
    for (n, version) in [
        "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0",
    ]
    .into_iter()
    .enumerate()
    {
        let pod = lan.pod(&format!("p{n}"));
        let id = format!("c{n}");
        let c = conf("lan", version, json!({"ipam": lan.ipam(json!({}))}));
        let r = lan.add(&pod, &id, "eth0", &c);
        assert_eq!(r["cniVersion"], version);
        let address = match version {
            "0.1.0" | "0.2.0" => {
                assert!(r.get("interfaces").is_none(), "{version}: {r}");
                assert_eq!(r["ip4"]["gateway"], "10.10.0.1", "{version}: {r}");
                r["ip4"]["ip"].as_str().unwrap().to_owned()
            }
            _ => {
                let iface = &r["interfaces"][0];
                assert_eq!(iface["name"], "eth0");
                assert_eq!(iface["sandbox"], pod.path().display().to_string());
                assert_eq!(r["ips"][0]["interface"], 0);
                let has_version = matches!(version, "0.3.0" | "0.3.1" | "0.4.0");
                assert_eq!(r["ips"][0].get("version").is_some(), has_version, "{r}");
                assert_eq!(iface.get("mtu").is_some(), version == "1.1.0", "{r}");
                r["ips"][0]["address"].as_str().unwrap().to_owned()
            }
        };
        let on_link = pod.addrs("eth0").unwrap();
        assert!(
            on_link.contains(&address.parse().unwrap()),
            "{version}: {on_link:?}"
        );

        if matches!(version, "0.4.0" | "1.0.0" | "1.1.0") {
            let mut check = c.clone();
            check["prevResult"] = r.clone();
            lan.run(&call("CHECK", &pod, &id, "eth0", &check))
                .expect_ok();
        } else {
            lan.run(&call("CHECK", &pod, &id, "eth0", &c)).expect_err(1);
        }
        if version == "1.1.0" {
            lan.run(&call("STATUS", &pod, "", "", &c).set(CniVar::Netns, ""))
                .expect_ok();
        }
        lan.del(&pod, &id, "eth0", &c);
        assert!(pod.link("eth0").unwrap().is_none(), "{version}");
        lan.del(&pod, &id, "eth0", &c);
    }
    assert!(lan.reservations("lan").is_empty());
}

#[test]
fn check_catches_what_changed_and_asks_ipam() {
    let lan = Lan::new("mv_check");
    let pod = lan.pod("pod");
    let c = conf(
        "lan",
        "1.0.0",
        json!({"ipam": lan.ipam(json!({"routes": [{"dst": "10.30.0.0/16"}]}))}),
    );
    let r = lan.add(&pod, "c", "eth0", &c);
    let run_check = |conf: &Value, prev: Option<&Value>| {
        let mut conf = conf.clone();
        if let Some(prev) = prev {
            conf["prevResult"] = prev.clone();
        }
        lan.run(&call("CHECK", &pod, "c", "eth0", &conf))
    };
    let msg = |run: cni_sandbox::PluginRun| -> String {
        run.expect_err(999)["msg"].as_str().unwrap().to_owned()
    };
    run_check(&c, Some(&r)).expect_ok();

    assert_eq!(msg(run_check(&c, None)), "Required prevResult missing");
    let mut vepa = c.clone();
    vepa["mode"] = json!("vepa");
    assert_eq!(
        msg(run_check(&vepa, Some(&r))),
        "container macvlan mode bridge does not match expected value: vepa"
    );

    lan.switch.plug(&lan.node, "up1", None).unwrap();
    let mut elsewhere = c.clone();
    elsewhere["master"] = json!("up1");
    assert_eq!(
        msg(run_check(&elsewhere, Some(&r))),
        "container macvlan \"eth0\" is not on master \"up1\""
    );

    let mac = pod.link("eth0").unwrap().unwrap().mac.unwrap();
    pod.ip(&["link", "set", "eth0", "address", "02:00:00:00:00:99"])
        .unwrap();
    assert!(
        msg(run_check(&c, Some(&r))).contains("mac"),
        "a changed MAC is caught"
    );
    pod.ip(&["link", "set", "eth0", "address", &mac]).unwrap();
    run_check(&c, Some(&r)).expect_ok();

    let cidr = r["ips"][0]["address"].as_str().unwrap();
    pod.ip(&["addr", "del", cidr, "dev", "eth0"]).unwrap();
    assert!(msg(run_check(&c, Some(&r))).contains("Failed to match addr"));
    pod.ip(&["addr", "add", cidr, "dev", "eth0"]).unwrap();
    pod.ip(&["route", "add", "10.30.0.0/16", "via", "10.10.0.1"])
        .unwrap();
    run_check(&c, Some(&r)).expect_ok();

    pod.ip(&["route", "del", "10.30.0.0/16"]).unwrap();
    assert!(msg(run_check(&c, Some(&r))).contains("Failed to match route 10.30.0.0/16"));
    pod.ip(&["route", "add", "10.30.0.0/16", "via", "10.10.0.1"])
        .unwrap();
    run_check(&c, Some(&r)).expect_ok();

    // CHECK is forwarded to IPAM: host-local notices its reservation is gone.
    let reservation = std::path::Path::new(&lan.data_dir())
        .join("lan")
        .join(ip(&r, 0));
    std::fs::remove_file(reservation).unwrap();
    assert!(
        !run_check(&c, Some(&r)).success(),
        "IPAM's CHECK failure is passed up"
    );
}

#[test]
fn del_succeeds_when_the_link_the_netns_or_the_master_is_gone() {
    let lan = Lan::new("mv_del_gone");
    let c = conf("lan", "1.0.0", json!({"ipam": lan.ipam(json!({}))}));
    let (a, b, d) = (lan.pod("a"), lan.pod("b"), lan.pod("d"));
    lan.add(&a, "ca", "eth0", &c);
    lan.add(&b, "cb", "eth0", &c);
    lan.add(&d, "cd", "eth0", &c);
    assert_eq!(lan.reservations("lan").len(), 3);

    a.ip(&["link", "del", "eth0"]).unwrap();
    lan.del(&a, "ca", "eth0", &c);

    let gone = call("DEL", &b, "cb", "eth0", &c).set(CniVar::Netns, "/run/netns/mv-gone-ns");
    lan.run(&gone).expect_ok();
    let empty = call("DEL", &b, "cb", "eth0", &c).set(CniVar::Netns, "");
    lan.run(&empty).expect_ok();
    assert!(
        b.link("eth0").unwrap().is_some(),
        "no netns given: the link is not touched"
    );

    // The master goes, and the kernel takes its macvlans with it.
    lan.node.ip(&["link", "del", "up0"]).unwrap();
    assert!(d.link("eth0").unwrap().is_none());
    lan.del(&d, "cd", "eth0", &c);
    assert!(
        lan.reservations("lan").is_empty(),
        "IPAM released every time"
    );
}

#[test]
fn status_says_unavailable_without_a_master_and_asks_ipam() {
    let lan = Lan::new("mv_status");
    let pod = lan.pod("pod");
    let status = |extra: Value| {
        let c = conf("lan", "1.1.0", extra);
        lan.run(&call("STATUS", &pod, "", "", &c).set(CniVar::Netns, ""))
    };
    status(json!({"ipam": lan.ipam(json!({}))})).expect_ok();
    let err = status(json!({"master": "nope0", "ipam": lan.ipam(json!({}))})).expect_err(50);
    assert!(err["msg"].as_str().unwrap().contains("\"nope0\""), "{err}");
    status(json!({"master": null, "ipam": lan.ipam(json!({}))})).expect_err(50);

    // IPAM's verdict counts too: host-local cannot write a data dir that is a file.
    let file = lan.world.tempdir().join("not-a-dir");
    std::fs::write(&file, "").unwrap();
    let ipam = lan.ipam(json!({"dataDir": file.join("sub").display().to_string()}));
    assert!(!status(json!({"ipam": ipam})).success());
}

#[test]
fn an_existing_interface_fails_the_add_and_releases_the_address() {
    let lan = Lan::new("mv_exists");
    let pod = lan.pod("pod");
    pod.ip(&["link", "add", "eth0", "type", "veth", "peer", "name", "x0"])
        .unwrap();
    let c = conf("lan", "1.0.0", json!({"ipam": lan.ipam(json!({}))}));
    let err = lan.run(&call("ADD", &pod, "c", "eth0", &c)).expect_err(999);
    assert!(
        err["msg"].as_str().unwrap().contains("already exists"),
        "{err}"
    );
    assert_eq!(
        pod.link("eth0").unwrap().unwrap().kind.as_deref(),
        Some("veth")
    );
    assert!(lan.reservations("lan").is_empty());
    let names: Vec<String> = pod.links().unwrap().into_iter().map(|l| l.name).collect();
    assert_eq!(
        names.len(),
        3,
        "lo, eth0, x0 and no temporary macvlan: {names:?}"
    );
}
