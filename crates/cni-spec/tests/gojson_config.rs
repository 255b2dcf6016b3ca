//! Golden tests: Go `encoding/json` decoding rules and the shared `NetConf`.

use std::collections::BTreeMap;

use cni_spec::{Attachment, CniError, ErrorCode, NetConf, SpecVersion, gojson};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize, PartialEq, Default)]
#[serde(default)]
struct BridgeLike {
    bridge: String,
    #[serde(rename = "isGateway")]
    is_gateway: bool,
    #[serde(rename = "hairpinMode")]
    hairpin_mode: bool,
    mtu: u32,
    ipam: Option<Ipam>,
}

#[derive(Debug, Deserialize, PartialEq, Default)]
struct Ipam {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    ranges: Vec<Vec<Range>>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Range {
    subnet: String,
    gateway: Option<String>,
}

fn decode<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, CniError> {
    gojson::from_slice(text.as_bytes())
}

fn config_error(err: CniError) -> String {
    assert_eq!(err.code, ErrorCode::InvalidConfig, "{err}");
    err.msg
}

#[test]
fn keys_fold_case_and_unknown_keys_are_ignored() {
    let conf: BridgeLike = decode(
        r#"{"BRIDGE":"cni0","IsGateway":true,"hairpinmode":true,"Mtu":1400,"unknown":[1,{"x":2}]}"#,
    )
    .expect("decodes");
    assert_eq!(conf.bridge, "cni0");
    assert!(conf.is_gateway && conf.hairpin_mode);
    assert_eq!(conf.mtu, 1400);
}

#[test]
fn exact_key_wins_over_folded_key() {
    for text in [
        r#"{"mtu":1,"MTU":2}"#,
        r#"{"MTU":2,"mtu":1}"#,
        r#"{"Mtu":2,"mtu":1,"mTU":3}"#,
    ] {
        let conf: BridgeLike = decode(text).expect("decodes");
        assert_eq!(conf.mtu, 1, "{text}");
    }
    // A folded key that sorts after the exact one must not displace it either.
    let conf: BridgeLike =
        decode(r#"{"hairpinMode":true,"hairpinmode":false,"HAIRPINMODE":false}"#).expect("decodes");
    assert!(conf.hairpin_mode);
}

#[test]
fn null_behaves_as_absent() {
    let conf: BridgeLike = decode(r#"{"bridge":null,"mtu":null,"ipam":null}"#).expect("decodes");
    assert_eq!(conf, BridgeLike::default());
    #[derive(Debug, Deserialize)]
    struct Required {
        #[allow(dead_code)]
        subnet: String,
    }
    let err = decode::<Required>(r#"{"subnet":null}"#).expect_err("null is absent");
    assert_eq!(config_error(err), "missing field `subnet`");
}

#[test]
fn wrong_types_name_the_key_path() {
    let err = decode::<BridgeLike>(r#"{"hairpinMode":"true"}"#).expect_err("string for bool");
    assert_eq!(
        config_error(err),
        r#""hairpinMode": invalid type: string "true", expected a boolean"#
    );
    // The path uses the key as the user wrote it.
    let err = decode::<BridgeLike>(r#"{"HairpinMode":1}"#).expect_err("int for bool");
    assert_eq!(
        config_error(err),
        r#""HairpinMode": invalid type: integer `1`, expected a boolean"#
    );
    let err = decode::<BridgeLike>(r#"{"mtu":1500.5}"#).expect_err("float for int");
    assert_eq!(
        config_error(err),
        r#""mtu": invalid type: floating point `1500.5`, expected u32"#
    );
    let err = decode::<BridgeLike>(r#"{"mtu":-1}"#).expect_err("negative");
    assert_eq!(
        config_error(err),
        r#""mtu": invalid value: integer `-1`, expected u32"#
    );
    let err = decode::<BridgeLike>(
        r#"{"ipam":{"type":"host-local","ranges":[[{"subnet":"10.0.0.0/24"},{"subnet":5}]]}}"#,
    )
    .expect_err("nested");
    assert_eq!(
        config_error(err),
        r#""ipam.ranges[0][1].subnet": invalid type: integer `5`, expected a string"#
    );
    let err = decode::<BridgeLike>(r#"{"ipam":{"ranges":[[{"gateway":"10.0.0.1"}]]}}"#)
        .expect_err("missing");
    assert_eq!(
        config_error(err),
        r#""ipam.ranges[0][0]": missing field `subnet`"#
    );
    let err = decode::<BridgeLike>(r#"{"ipam":"host-local"}"#).expect_err("string for struct");
    assert_eq!(
        config_error(err),
        r#""ipam": invalid type: string "host-local", expected struct Ipam"#
    );
    let err = decode::<BridgeLike>(r#"[1,2]"#).expect_err("array for struct");
    assert_eq!(
        config_error(err),
        "invalid type: sequence, expected struct BridgeLike"
    );
}

#[test]
fn maps_keep_keys_as_written_and_values_are_checked() {
    let map: BTreeMap<String, u8> = decode(r#"{"A":1,"a":2}"#).expect("decodes");
    assert_eq!(map.len(), 2);
    let err = decode::<BTreeMap<String, u8>>(r#"{"x":300}"#).expect_err("overflow");
    assert_eq!(
        config_error(err),
        r#""x": invalid value: integer `300`, expected u8"#
    );
}

#[test]
fn enums_decode_from_strings_and_objects() {
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Bridge,
        Vepa,
        Custom(u8),
    }
    assert_eq!(decode::<Mode>(r#""vepa""#).expect("unit"), Mode::Vepa);
    assert_eq!(
        decode::<Mode>(r#"{"custom":3}"#).expect("newtype"),
        Mode::Custom(3)
    );
    let err = decode::<Mode>(r#""Bridge""#).expect_err("enum values are not folded");
    assert!(config_error(err).contains("unknown variant `Bridge`"));
    let _ = Mode::Bridge;
}

#[test]
fn not_json_is_code_6() {
    let err = decode::<BridgeLike>("{not json").expect_err("garbage");
    assert_eq!(err.code, ErrorCode::Decode);
    assert!(
        err.msg.starts_with("error unmarshall network config: "),
        "{}",
        err.msg
    );
    let err = NetConf::from_slice(b"").expect_err("empty");
    assert_eq!(err.code, ErrorCode::Decode);
}

fn conf(value: serde_json::Value) -> Result<NetConf, CniError> {
    NetConf::from_value(value)
}

#[test]
fn name_is_required_and_checked_before_version() {
    let err = conf(json!({"cniVersion":"9.9.9","type":"bridge"})).expect_err("no name");
    assert_eq!(
        (err.code, err.msg.as_str()),
        (ErrorCode::InvalidConfig, "missing network name")
    );
    let err = conf(json!({"cniVersion":"1.0.0","name":""})).expect_err("empty name");
    assert_eq!(err.msg, "missing network name");
    let err = conf(json!({"cniVersion":"1.0.0","name":"my net"})).expect_err("bad name");
    assert_eq!(
        (err.code, err.msg.as_str(), err.details.as_str()),
        (
            ErrorCode::InvalidConfig,
            "invalid characters found in network name",
            "my net"
        )
    );
    let err = conf(json!({"cniVersion":"1.0.0","name":7})).expect_err("number name");
    assert_eq!(
        config_error(err),
        r#""name": invalid type: integer `7`, expected a string"#
    );
    let ok = conf(json!({"cniVersion":"1.0.0","NAME":"Net.1-a_b"})).expect("folded key");
    assert_eq!(ok.name, "Net.1-a_b");
}

#[test]
fn version_missing_is_0_1_0_and_unknown_is_code_1() {
    assert_eq!(
        conf(json!({"name":"n"})).expect("ok").cni_version,
        SpecVersion::V0_1_0
    );
    assert_eq!(
        conf(json!({"name":"n","cniVersion":""}))
            .expect("ok")
            .cni_version,
        SpecVersion::V0_1_0
    );
    assert_eq!(
        conf(json!({"name":"n","CNIVersion":"0.3.1"}))
            .expect("ok")
            .cni_version,
        SpecVersion::V0_3_1
    );
    let err = conf(json!({"name":"n","cniVersion":"1.0.1"})).expect_err("1.0.1");
    assert_eq!(
        (err.code, err.msg.as_str(), err.details.as_str()),
        (
            ErrorCode::IncompatibleVersion,
            "incompatible CNI versions",
            r#"config is "1.0.1", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0" "1.1.0"]"#
        )
    );
}

#[test]
fn ipam_presence_and_l2_mode() {
    let none = conf(json!({"name":"n","cniVersion":"1.0.0","type":"bridge"})).expect("ok");
    assert_eq!(
        (
            none.plugin_type.as_str(),
            none.ipam.is_none(),
            none.ipam_type()
        ),
        ("bridge", true, None)
    );
    for ipam in [
        json!({}),
        json!({"type":""}),
        json!({"subnet":"10.0.0.0/24"}),
    ] {
        let l2 = conf(json!({"name":"n","ipam":ipam})).expect("ok");
        assert!(l2.ipam.is_some());
        assert_eq!(l2.ipam_type(), None, "{ipam}");
    }
    let raw = json!({"TYPE":"host-local","ranges":[[{"subnet":"10.1.0.0/16"}]],"dataDir":"/tmp/x"});
    let l3 = conf(json!({"name":"n","IPAM":raw})).expect("ok");
    assert_eq!(l3.ipam_type(), Some("host-local"));
    assert_eq!(l3.ipam.map(|i| i.raw), Some(raw));
    let err = conf(json!({"name":"n","ipam":{"type":5}})).expect_err("bad type");
    assert_eq!(
        config_error(err),
        r#""ipam.type": invalid type: integer `5`, expected a string"#
    );
}

#[test]
fn runtime_config_args_and_dns() {
    let c = conf(json!({
        "name": "n", "cniVersion": "1.0.0",
        "dns": {"nameservers": ["10.0.0.10"], "search": ["svc"]},
        "runtimeConfig": {"mac": "c2:11:22:33:44:55", "ips": ["10.1.0.5/24"], "ipRanges": [[{"subnet":"10.9.0.0/16"}]], "portMappings": []},
        "args": {"cni": {"ips": ["10.1.0.6"], "mac": "c2:00:00:00:00:01", "labels": []}}
    }))
    .expect("ok");
    let dns = c.dns.expect("dns");
    assert_eq!(
        (dns.nameservers, dns.search),
        (vec!["10.0.0.10".to_owned()], vec!["svc".to_owned()])
    );
    assert_eq!(c.runtime_config.mac.as_deref(), Some("c2:11:22:33:44:55"));
    assert_eq!(c.runtime_config.ips, ["10.1.0.5/24"]);
    assert_eq!(
        c.runtime_config.ip_ranges,
        Some(json!([[{"subnet":"10.9.0.0/16"}]]))
    );
    assert_eq!(c.runtime_config.raw["portMappings"], json!([]));
    assert_eq!(c.args.ips, ["10.1.0.6"]);
    assert_eq!(c.args.mac.as_deref(), Some("c2:00:00:00:00:01"));
    assert_eq!(c.args.raw["cni"]["labels"], json!([]));
    let bare = conf(json!({"name":"n"})).expect("ok");
    assert!(bare.runtime_config.ips.is_empty() && bare.runtime_config.raw.is_null());
    let err = conf(json!({"name":"n","runtimeConfig":{"ips":"10.0.0.1"}})).expect_err("ips string");
    assert_eq!(
        config_error(err),
        r#""runtimeConfig.ips": invalid type: string "10.0.0.1", expected a sequence"#
    );
}

#[test]
fn gc_attachment_keys_new_old_neither() {
    let a = |id: &str, ifname: &str| Attachment {
        container_id: id.into(),
        ifname: ifname.into(),
    };
    let new = conf(json!({"name":"n","cniVersion":"1.1.0",
        "cni.dev/valid-attachments":[{"containerID":"c1","ifname":"eth0"}],
        "cni.dev/attachments":[{"containerID":"old","ifname":"eth9"}]}))
    .expect("ok");
    assert_eq!(new.valid_attachments, Some(vec![a("c1", "eth0")]));
    let old = conf(json!({"name":"n","cniVersion":"1.1.0",
        "cni.dev/attachments":[{"containerID":"c2","ifname":"net1"}]}))
    .expect("ok");
    assert_eq!(old.valid_attachments, Some(vec![a("c2", "net1")]));
    let empty =
        conf(json!({"name":"n","cniVersion":"1.1.0","cni.dev/valid-attachments":[]})).expect("ok");
    assert_eq!(empty.valid_attachments, Some(vec![]));
    let neither = conf(json!({"name":"n","cniVersion":"1.1.0"})).expect("ok");
    assert_eq!(neither.valid_attachments, None);
}
