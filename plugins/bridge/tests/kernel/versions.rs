//! Every spec version yields a result of its own shape (cni-reference.md §1.5).

use serde_json::json;

use crate::common::Node;

#[test]
fn every_version_yields_its_result_shape() {
    let node = Node::new("br-versions");
    let pod = node.pod("pod");
    for version in [
        "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0",
    ] {
        let conf = node.conf(
            version,
            &["10.20.0.0/24"],
            json!({"isGateway": true, "mtu": 1400}),
        );
        let r = node.add(&conf, &pod, "ctr");
        assert_eq!(r["cniVersion"], version, "{r}");
        match version {
            "0.1.0" | "0.2.0" => {
                assert!(
                    r["ip4"]["ip"].as_str().unwrap().starts_with("10.20.0."),
                    "{r}"
                );
                assert_eq!(r["ip4"]["gateway"], "10.20.0.1");
                assert!(
                    r.get("interfaces").is_none() && r.get("ips").is_none(),
                    "{r}"
                );
            }
            "0.3.0" | "0.3.1" | "0.4.0" => {
                assert_eq!(r["ips"][0]["version"], "4", "{r}");
                assert_eq!(r["ips"][0]["interface"], 2);
                assert_eq!(r["dns"], json!({}), "Go's 040 type always prints dns");
                assert_eq!(r["interfaces"].as_array().unwrap().len(), 3);
                assert!(r["interfaces"][2].get("mtu").is_none(), "{r}");
            }
            "1.0.0" => {
                assert!(r["ips"][0].get("version").is_none(), "{r}");
                assert!(r["interfaces"][0].get("mtu").is_none(), "{r}");
            }
            _ => {
                assert!(r["ips"][0].get("version").is_none(), "{r}");
                for iface in r["interfaces"].as_array().unwrap() {
                    assert_eq!(iface["mtu"], 1400, "1.1.0 reports interface MTUs: {r}");
                }
            }
        }
        node.del(&conf, Some(&pod), "ctr");
        assert!(
            pod.link("eth0").unwrap().is_none(),
            "{version}: DEL removed eth0"
        );
    }
}
