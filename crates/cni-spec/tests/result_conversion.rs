//! Golden tests: the result model printed in every version and read back from every version,
//! including as a config's `prevResult` (cni-reference.md §1.5, §1.9).

use cni_spec::{CniResult, Dns, ErrorCode, Interface, IpConfig, NetConf, Route, SpecVersion};
use serde_json::{Value, json};

fn net(s: &str) -> ipnetwork::IpNetwork {
    s.parse().expect("test CIDR")
}

fn ip(s: &str) -> std::net::IpAddr {
    s.parse().expect("test IP")
}

/// A dual-stack bridge-like result with every 1.1.0 field set.
fn full() -> CniResult {
    CniResult {
        interfaces: vec![
            Interface {
                mac: Some("0a:00:00:00:00:01".into()),
                ..Interface::named("cni0")
            },
            Interface {
                mac: Some("0a:00:00:00:00:02".into()),
                ..Interface::named("veth1234")
            },
            Interface {
                mac: Some("0a:00:00:00:00:03".into()),
                mtu: Some(1450),
                sandbox: Some("/var/run/netns/blue".into()),
                socket_path: Some("/run/vhost.sock".into()),
                pci_id: Some("0000:04:00.5".into()),
                ..Interface::named("eth0")
            },
        ],
        ips: vec![
            IpConfig {
                address: net("10.1.0.5/16"),
                gateway: Some(ip("10.1.0.1")),
                interface: Some(2),
            },
            IpConfig {
                address: net("10.1.0.6/16"),
                gateway: None,
                interface: Some(2),
            },
            IpConfig {
                address: net("2001:db8::5/64"),
                gateway: Some(ip("2001:db8::1")),
                interface: Some(2),
            },
        ],
        routes: vec![
            Route {
                mtu: Some(1400),
                advmss: Some(1360),
                priority: Some(100),
                table: Some(254),
                scope: Some(0),
                ..Route::new(net("0.0.0.0/0"), Some(ip("10.1.0.1")))
            },
            Route::new(net("::/0"), None),
            Route::new(net("192.168.0.0/16"), Some(ip("10.1.0.254"))),
        ],
        dns: Dns {
            nameservers: vec!["10.96.0.10".into()],
            domain: Some("cluster.local".into()),
            search: vec!["svc.cluster.local".into()],
            options: vec!["ndots:5".into()],
        },
    }
}

fn dns_json() -> Value {
    json!({"nameservers":["10.96.0.10"],"domain":"cluster.local","search":["svc.cluster.local"],"options":["ndots:5"]})
}

fn routes_json() -> Value {
    json!([
        {"dst":"0.0.0.0/0","gw":"10.1.0.1","mtu":1400,"advmss":1360,"priority":100,"table":254,"scope":0},
        {"dst":"::/0"},
        {"dst":"192.168.0.0/16","gw":"10.1.0.254"}
    ])
}

fn interfaces_without_1_1() -> Value {
    json!([
        {"name":"cni0","mac":"0a:00:00:00:00:01"},
        {"name":"veth1234","mac":"0a:00:00:00:00:02"},
        {"name":"eth0","mac":"0a:00:00:00:00:03","sandbox":"/var/run/netns/blue"}
    ])
}

fn print(result: &CniResult, v: SpecVersion) -> Value {
    result.to_json(v).expect("printable")
}

#[test]
fn prints_1_1_0_with_every_field() {
    let expected = json!({
        "cniVersion": "1.1.0",
        "interfaces": [
            {"name":"cni0","mac":"0a:00:00:00:00:01"},
            {"name":"veth1234","mac":"0a:00:00:00:00:02"},
            {"name":"eth0","mac":"0a:00:00:00:00:03","mtu":1450,"sandbox":"/var/run/netns/blue",
             "socketPath":"/run/vhost.sock","pciID":"0000:04:00.5"}
        ],
        "ips": [
            {"interface":2,"address":"10.1.0.5/16","gateway":"10.1.0.1"},
            {"interface":2,"address":"10.1.0.6/16"},
            {"interface":2,"address":"2001:db8::5/64","gateway":"2001:db8::1"}
        ],
        "routes": routes_json(),
        "dns": dns_json()
    });
    assert_eq!(print(&full(), SpecVersion::V1_1_0), expected);
}

#[test]
fn prints_1_0_0_without_interface_1_1_fields() {
    let expected = json!({
        "cniVersion": "1.0.0",
        "interfaces": interfaces_without_1_1(),
        "ips": [
            {"interface":2,"address":"10.1.0.5/16","gateway":"10.1.0.1"},
            {"interface":2,"address":"10.1.0.6/16"},
            {"interface":2,"address":"2001:db8::5/64","gateway":"2001:db8::1"}
        ],
        "routes": routes_json(),
        "dns": dns_json()
    });
    assert_eq!(print(&full(), SpecVersion::V1_0_0), expected);
}

#[test]
fn prints_0_3_x_and_0_4_0_with_ip_version() {
    for v in [
        SpecVersion::V0_3_0,
        SpecVersion::V0_3_1,
        SpecVersion::V0_4_0,
    ] {
        let expected = json!({
            "cniVersion": v.as_str(),
            "interfaces": interfaces_without_1_1(),
            "ips": [
                {"version":"4","interface":2,"address":"10.1.0.5/16","gateway":"10.1.0.1"},
                {"version":"4","interface":2,"address":"10.1.0.6/16"},
                {"version":"6","interface":2,"address":"2001:db8::5/64","gateway":"2001:db8::1"}
            ],
            // Go's route type is shared by 040 and 100, so the 1.1 route fields survive.
            "routes": routes_json(),
            "dns": dns_json()
        });
        assert_eq!(print(&full(), v), expected, "{v}");
    }
}

#[test]
fn prints_0_1_0_and_0_2_0_with_first_address_per_family() {
    for v in [SpecVersion::V0_1_0, SpecVersion::V0_2_0] {
        let expected = json!({
            "cniVersion": v.as_str(),
            "ip4": {"ip":"10.1.0.5/16","gateway":"10.1.0.1","routes":[
                {"dst":"0.0.0.0/0","gw":"10.1.0.1"},
                {"dst":"192.168.0.0/16","gw":"10.1.0.254"}
            ]},
            "ip6": {"ip":"2001:db8::5/64","gateway":"2001:db8::1","routes":[{"dst":"::/0"}]},
            "dns": dns_json()
        });
        assert_eq!(print(&full(), v), expected, "{v}");
    }
}

#[test]
fn legacy_single_stack_drops_routes_of_the_missing_family() {
    let mut v6_only = full();
    v6_only.ips.retain(|i| !i.is_ipv4());
    v6_only.dns = Dns::default();
    let expected = json!({
        "cniVersion": "0.2.0",
        "ip6": {"ip":"2001:db8::5/64","gateway":"2001:db8::1","routes":[{"dst":"::/0"}]},
        "dns": {}
    });
    assert_eq!(print(&v6_only, SpecVersion::V0_2_0), expected);
}

#[test]
fn legacy_needs_an_address() {
    let l2 = CniResult {
        interfaces: vec![Interface::named("eth0")],
        ..CniResult::default()
    };
    let err = l2.to_json(SpecVersion::V0_2_0).expect_err("no address");
    assert_eq!(
        (err.code, err.msg.as_str()),
        (ErrorCode::Internal, "cannot convert: no valid IP addresses")
    );
    assert!(
        l2.to_json(SpecVersion::V0_3_1).is_ok(),
        "0.3+ can express an L2 result"
    );
}

#[test]
fn empty_dns_is_kept_in_0_x_and_omitted_in_1_x() {
    let ipam_like = CniResult {
        ips: vec![IpConfig {
            address: net("10.1.0.5/24"),
            gateway: Some(ip("10.1.0.1")),
            interface: None,
        }],
        ..CniResult::default()
    };
    let with_dns = |v: SpecVersion| print(&ipam_like, v).get("dns").cloned();
    for v in SpecVersion::ALL {
        let expected = if v >= SpecVersion::V1_0_0 {
            None
        } else {
            Some(json!({}))
        };
        assert_eq!(with_dns(v), expected, "{v}");
    }
}

#[test]
fn printed_bytes_keep_gos_field_order() {
    let small = CniResult {
        interfaces: vec![Interface {
            sandbox: Some("/run/netns/x".into()),
            ..Interface::named("eth0")
        }],
        ips: vec![IpConfig {
            address: net("10.1.0.5/24"),
            gateway: Some(ip("10.1.0.1")),
            interface: Some(0),
        }],
        routes: vec![Route::new(net("0.0.0.0/0"), None)],
        dns: Dns::default(),
    };
    let bytes = small.to_bytes(SpecVersion::V0_4_0).expect("printable");
    assert_eq!(
        String::from_utf8(bytes).expect("utf-8"),
        r#"{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/x"}],"ips":[{"version":"4","interface":0,"address":"10.1.0.5/24","gateway":"10.1.0.1"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{}}"#
    );
}

#[test]
fn every_version_reads_back_into_the_model() {
    let mut without_1_1 = full();
    for i in &mut without_1_1.interfaces {
        (i.mtu, i.socket_path, i.pci_id) = (None, None, None);
    }
    let legacy = CniResult {
        interfaces: vec![],
        ips: vec![
            IpConfig {
                interface: None,
                ..full().ips[0].clone()
            },
            IpConfig {
                interface: None,
                ..full().ips[2].clone()
            },
        ],
        routes: vec![
            Route::new(net("0.0.0.0/0"), Some(ip("10.1.0.1"))),
            Route::new(net("192.168.0.0/16"), Some(ip("10.1.0.254"))),
            Route::new(net("::/0"), None),
        ],
        dns: full().dns,
    };
    for v in SpecVersion::ALL {
        let printed = print(&full(), v);
        let read = CniResult::from_json(&printed, SpecVersion::V1_1_0).expect("reads back");
        let expected = match v {
            SpecVersion::V1_1_0 => full(),
            v if v.has_legacy_result() => legacy.clone(),
            _ => without_1_1.clone(),
        };
        assert_eq!(read, expected, "{v}");
        assert_eq!(print(&read, v), printed, "{v}: printing is stable");
    }
}

#[test]
fn reading_follows_go_decoding() {
    // Keys fold, empty gateways are no gateway, unknown keys are ignored.
    let read = CniResult::from_json(
        &json!({"cniVersion":"1.0.0","IPs":[{"Address":"10.1.0.5/24","gateway":"","extra":1}],"DNS":null}),
        SpecVersion::V1_0_0,
    )
    .expect("reads");
    assert_eq!(
        read.ips,
        [IpConfig {
            address: net("10.1.0.5/24"),
            gateway: None,
            interface: None
        }]
    );
    let err = CniResult::from_json(
        &json!({"ips":[{"address":"10.1.0.5"}]}),
        SpecVersion::V1_0_0,
    )
    .expect_err("no prefix");
    assert_eq!(
        (err.code, err.msg.as_str()),
        (
            ErrorCode::InvalidConfig,
            r#""ips[0].address": invalid CIDR address: 10.1.0.5"#
        )
    );
    let err = CniResult::from_json(&json!({"cniVersion":"0.9.0"}), SpecVersion::V1_0_0)
        .expect_err("version");
    assert_eq!(err.msg, r#"unsupported CNI result version "0.9.0""#);
}

fn conf_with_prev(conf_version: &str, prev: Value) -> Result<NetConf, cni_spec::CniError> {
    NetConf::from_value(
        json!({"cniVersion": conf_version, "name": "n", "type": "bridge", "prevResult": prev}),
    )
}

#[test]
fn prev_result_is_read_in_every_version() {
    for conf_v in SpecVersion::ALL {
        for prev_v in SpecVersion::ALL {
            let prev = print(&full(), prev_v);
            let conf = conf_with_prev(conf_v.as_str(), prev.clone()).expect("parses");
            let expected = CniResult::from_json(&prev, prev_v).expect("direct");
            assert_eq!(
                conf.prev_result,
                Some(expected),
                "conf {conf_v} prev {prev_v}"
            );
        }
    }
}

#[test]
fn prev_result_without_version_takes_the_configs() {
    let mut legacy = print(&full(), SpecVersion::V0_2_0);
    legacy.as_object_mut().map(|o| o.remove("cniVersion"));
    let conf = conf_with_prev("0.2.0", legacy.clone()).expect("legacy layout");
    assert_eq!(conf.prev_result.map(|r| r.ips.len()), Some(2));
    // The same object under a 1.0.0 config is read in the 1.0 layout: no ips at all.
    let conf = conf_with_prev("1.0.0", legacy).expect("current layout");
    assert_eq!(conf.prev_result.map(|r| r.ips.len()), Some(0));
}

#[test]
fn malformed_prev_result_is_code_7() {
    let err = conf_with_prev("1.0.0", json!({"ips":[{"address":5}]})).expect_err("bad");
    assert_eq!(
        (err.code, err.msg.as_str()),
        (
            ErrorCode::InvalidConfig,
            r#"failed to parse prevResult: "ips[0].address": invalid type: integer `5`, expected a string"#
        )
    );
    let err = conf_with_prev("1.0.0", json!("nope")).expect_err("bad");
    assert_eq!(err.code, ErrorCode::InvalidConfig);
}
