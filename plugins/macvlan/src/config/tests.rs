use serde_json::json;

use super::*;

fn parse(extra: Value) -> Result<MacvlanConf> {
    let mut v = json!({"cniVersion": "1.0.0", "name": "n", "type": "macvlan"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    MacvlanConf::from_value(&v)
}

fn err(extra: Value) -> String {
    parse(extra).unwrap_err().to_string()
}

#[test]
fn defaults_are_the_references() {
    let c = parse(json!({})).unwrap();
    assert_eq!(c.master, None);
    assert_eq!(c.mode, Mode::Bridge);
    assert_eq!((c.mtu, c.mac, c.link_in_container), (0, None, false));
    assert_eq!((c.bc_queue_len, c.host_shim), (None, None));
    // An empty mode and an empty master mean the defaults too.
    let c = parse(json!({"mode": "", "master": "", "mac": ""})).unwrap();
    assert_eq!((c.mode, c.master, c.mac), (Mode::Bridge, None, None));
}

#[test]
fn every_key_is_read_case_insensitively_like_go() {
    let c = parse(json!({
        "Master": "eth1", "MODE": "vepa", "mtu": 1400, "Mac": "02:00:00:00:00:01",
        "linkincontainer": true, "bcqueuelen": 64
    }))
    .unwrap();
    assert_eq!(c.master.as_ref().map(|m| m.as_str()), Some("eth1"));
    assert_eq!(c.mode, Mode::Vepa);
    assert_eq!(c.mtu, 1400);
    assert_eq!(c.mac.as_deref(), Some("02:00:00:00:00:01"));
    assert!(c.link_in_container);
    assert_eq!(c.bc_queue_len, Some(64));
}

#[test]
fn modes_and_their_errors() {
    for (name, mode) in [
        ("bridge", Mode::Bridge),
        ("vepa", Mode::Vepa),
        ("private", Mode::Private),
        ("passthru", Mode::Passthru),
    ] {
        assert_eq!(parse(json!({"mode": name})).unwrap().mode, mode);
    }
    assert_eq!(
        err(json!({"mode": "bridged"})),
        "unknown macvlan mode: \"bridged\""
    );
    let c =
        parse(json!({"mode": "source", "sourceMacs": ["02:00:00:00:00:0a", "02-00-00-00-00-0B"]}))
            .unwrap();
    let macs: Vec<String> = c
        .mode
        .source_macs()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(macs, ["02:00:00:00:00:0a", "02:00:00:00:00:0b"]);
    assert_eq!(c.mode.kernel(), MacvlanMode::Source);
    assert!(err(json!({"mode": "source"})).contains("needs \"sourceMacs\""));
    assert!(err(json!({"mode": "source", "sourceMacs": []})).contains("needs"));
    assert_eq!(
        err(json!({"mode": "source", "sourceMacs": ["02:00:00:00:00:0a", "nope"]})),
        "sourceMacs[1]: invalid MAC address \"nope\""
    );
    assert!(err(json!({"sourceMacs": ["02:00:00:00:00:0a"]})).contains("only applies to mode"));
}

#[test]
fn wrong_types_name_the_key() {
    assert!(err(json!({"mtu": "1400"})).contains("\"mtu\""));
    assert!(err(json!({"bcqueuelen": -1})).contains("\"bcqueuelen\""));
    assert!(err(json!({"master": "has space"})).contains("invalid master"));
}

#[test]
fn host_shim_needs_addresses_bridge_mode_and_a_node_side_master() {
    let c = parse(json!({"hostShim": {"addresses": ["10.1.0.250", "fd00:1::fa"]}})).unwrap();
    let shim = c.host_shim.unwrap();
    assert_eq!(shim.v4, Some(Ipv4Addr::new(10, 1, 0, 250)));
    assert_eq!(
        shim.address_for("fd00::1".parse().unwrap()),
        shim.v6.map(IpAddr::V6)
    );
    assert!(err(json!({"hostShim": {}})).contains("must hold the node's address"));
    assert!(err(json!({"hostShim": {"addresses": ["10.1.0.250/24"]}})).contains("is not an IP"));
    assert!(
        err(json!({"hostShim": {"addresses": ["10.0.0.1", "10.0.0.2"]}}))
            .contains("more than one IPv4")
    );
    assert!(err(json!({"hostShim": {"addresses": ["0.0.0.0"]}})).contains("cannot be"));
    let vepa = err(json!({"mode": "vepa", "hostShim": {"addresses": ["10.0.0.1"]}}));
    assert!(vepa.contains("needs mode \"bridge\""), "{vepa}");
    let inside = err(json!({"linkInContainer": true, "hostShim": {"addresses": ["10.0.0.1"]}}));
    assert!(inside.contains("linkInContainer"), "{inside}");
}

#[test]
fn config_errors_are_code_7() {
    let e: cni_spec::CniError = parse(json!({"mode": "x"})).unwrap_err().into();
    assert_eq!(e.code, cni_spec::ErrorCode::InvalidConfig);
    let e: cni_spec::CniError = parse(json!({"mtu": "x"})).unwrap_err().into();
    assert_eq!(e.code, cni_spec::ErrorCode::InvalidConfig);
}
