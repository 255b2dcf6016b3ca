//! Pure config tests: defaults, Go-style keys, and the reference's exact validation messages.

use serde_json::{Value, json};

use super::*;
use cni_attach::MasqBackend;

fn parse_json(extra: Value) -> Result<BridgeConf, CniError> {
    let mut v = json!({"cniVersion": "1.0.0", "name": "net", "type": "bridge"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    parse(&NetConf::from_value(v).unwrap())
}

fn err(extra: Value) -> String {
    let e = parse_json(extra).unwrap_err();
    assert_eq!(e.code, cni_spec::ErrorCode::InvalidConfig, "{e}");
    e.msg
}

#[test]
fn defaults_are_the_references() {
    let c = parse_json(json!({})).unwrap();
    assert_eq!(c.bridge, "cni0");
    assert!(
        !c.bridged.is_gateway
            && !c.bridged.hairpin
            && !c.preserve_default_vlan
            && c.bridged.ip_masq.is_none()
    );
    assert_eq!((c.bridged.mtu, c.vlan, c.trunk.len()), (None, None, 0));
}

#[test]
fn default_gateway_implies_gateway_and_keys_fold_case() {
    // flannel's delegate, with keys spelled as users do write them.
    let c =
        parse_json(json!({"IsDefaultGateway": true, "hairpinmode": true, "MTU": 1400})).unwrap();
    assert!(c.bridged.is_gateway && c.bridged.is_default_gateway && c.bridged.hairpin);
    assert_eq!(c.bridged.mtu, Some(1400));
}

#[test]
fn masquerade_backend_defaults_to_nftables() {
    let c = parse_json(json!({"ipMasq": true})).unwrap();
    assert_eq!(c.bridged.ip_masq, Some(MasqBackend::Nftables));
    let c = parse_json(json!({"ipMasq": true, "ipMasqBackend": "iptables"})).unwrap();
    assert_eq!(c.bridged.ip_masq, Some(MasqBackend::Iptables));
    // Only consulted when ipMasq is on, like the reference.
    assert!(parse_json(json!({"ipMasqBackend": "bogus"})).is_ok());
    assert!(
        err(json!({"ipMasq": true, "ipMasqBackend": "bogus"})).contains("unknown ipmasq backend")
    );
}

#[test]
fn vlan_range_and_messages() {
    for bad in [-1, 4095, 5000] {
        assert_eq!(
            err(json!({"vlan": bad})),
            format!("invalid VLAN ID {bad} (must be between 0 and 4094)")
        );
    }
    assert_eq!(parse_json(json!({"vlan": 0})).unwrap().vlan, None);
    assert_eq!(
        parse_json(json!({"vlan": 4094}))
            .unwrap()
            .vlan
            .map(VlanId::get),
        Some(4094)
    );
}

#[test]
fn trunk_validation_table() {
    // The reference's bridge_test.go table, message for message.
    let cases = [
        (
            json!([{"minID": 0, "maxID": 10}]),
            "incorrect trunk minID parameter",
        ),
        (
            json!([{"minID": 1, "maxID": 4095}]),
            "incorrect trunk maxID parameter",
        ),
        (
            json!([{"minID": 10, "maxID": 5}]),
            "minID is greater than maxID in trunk parameter",
        ),
        (
            json!([{"maxID": 5}]),
            "minID and maxID should be configured simultaneously, minID is missing",
        ),
        (
            json!([{"minID": 5}]),
            "minID and maxID should be configured simultaneously, maxID is missing",
        ),
        (json!([{"id": 0}]), "incorrect trunk id parameter"),
        (json!([{"id": 4095}]), "incorrect trunk id parameter"),
        (json!([{"id": -3}]), "incorrect trunk id parameter"),
    ];
    for (trunk, msg) in cases {
        assert_eq!(err(json!({"vlanTrunk": trunk})), msg, "{trunk}");
    }
    let c =
        parse_json(json!({"vlanTrunk": [{"id": 101}, {"minID": 200, "maxID": 203}, {"id": 201}]}))
            .unwrap();
    let ids: Vec<u16> = c.trunk.iter().map(|v| v.get()).collect();
    assert_eq!(ids, [101, 200, 201, 202, 203]);
    // vlan and vlanTrunk together are allowed since v1.8.0.
    assert!(parse_json(json!({"vlan": 100, "vlanTrunk": [{"id": 101}]})).is_ok());
}

#[test]
fn conflicting_keys() {
    assert_eq!(
        err(json!({"hairpinMode": true, "promiscMode": true})),
        "cannot set hairpin mode and promiscuous mode at the same time"
    );
    assert_eq!(
        err(json!({"disableContainerInterface": true, "ipam": {"type": "host-local"}})),
        "cannot use IPAM when DisableContainerInterface flag is set"
    );
    // L2 (`ipam: {}`) is fine with a disabled interface.
    assert!(parse_json(json!({"disableContainerInterface": true, "ipam": {}})).is_ok());
}

#[test]
fn names_must_fit_the_kernel() {
    assert!(err(json!({"bridge": "a-very-long-bridge-name"})).starts_with("invalid bridge name"));
    // cni0.1000 fits; a long bridge plus a VLAN suffix does not, but only matters as gateway.
    assert!(parse_json(json!({"bridge": "br-0123456789", "vlan": 1000})).is_ok());
    assert!(
        err(json!({"bridge": "br-0123456789", "vlan": 1000, "isGateway": true}))
            .starts_with("invalid vlan gateway interface name")
    );
    assert!(err(json!({"mtu": 20})).starts_with("invalid MTU 20"));
}

#[test]
fn wrong_types_are_errors_not_defaults() {
    // cni.dev's docs show "portIsolation": "true"; Go rejects a string for a bool.
    let e = parse_json(json!({"portIsolation": "true"})).unwrap_err();
    assert_eq!(e.code, cni_spec::ErrorCode::InvalidConfig);
    assert!(e.msg.contains("portIsolation"), "{}", e.msg);
}
