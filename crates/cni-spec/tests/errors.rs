//! Golden tests: CNI error codes and the error JSON.

use cni_spec::{CniError, ErrorCode, SpecVersion};
use serde_json::json;

#[test]
fn codes_round_trip_and_unknown_codes_are_kept() {
    let known = [
        (ErrorCode::IncompatibleVersion, 1),
        (ErrorCode::UnsupportedField, 2),
        (ErrorCode::UnknownContainer, 3),
        (ErrorCode::InvalidEnvironment, 4),
        (ErrorCode::Io, 5),
        (ErrorCode::Decode, 6),
        (ErrorCode::InvalidConfig, 7),
        (ErrorCode::TryAgainLater, 11),
        (ErrorCode::PluginNotAvailable, 50),
        (ErrorCode::PluginNotAvailableLimited, 51),
        (ErrorCode::Internal, 999),
    ];
    for (code, n) in known {
        assert_eq!((code.as_u32(), ErrorCode::from_u32(n)), (n, code));
    }
    for n in [0, 8, 100, 1000] {
        assert_eq!(ErrorCode::from_u32(n), ErrorCode::Other(n));
        assert_eq!(ErrorCode::Other(n).as_u32(), n);
    }
}

#[test]
fn json_carries_the_version_and_omits_empty_details() {
    let err = CniError::invalid_config("bad bridge name");
    assert_eq!(
        err.to_json(Some(SpecVersion::V0_3_1)),
        json!({"cniVersion":"0.3.1","code":7,"msg":"bad bridge name"})
    );
    let err = CniError::new(ErrorCode::PluginNotAvailable, "no free addresses")
        .with_details("10.1.0.0/24");
    assert_eq!(
        err.to_json(None),
        json!({"cniVersion":"1.1.0","code":50,"msg":"no free addresses","details":"10.1.0.0/24"})
    );
    assert_eq!(err.to_string(), "no free addresses; 10.1.0.0/24");
    assert_eq!(CniError::internal("x").to_string(), "x");
}

#[test]
fn error_objects_read_back_like_gos_types_error() {
    let read = |v: serde_json::Value| CniError::from_json(&v);
    assert_eq!(
        read(json!({"cniVersion":"1.0.0","code":3,"msg":"gone","details":"ctr"})),
        Some(CniError::new(ErrorCode::UnknownContainer, "gone").with_details("ctr"))
    );
    assert_eq!(
        read(json!({"Code":11,"Msg":"later"})),
        Some(CniError::try_again_later("later"))
    );
    assert_eq!(
        read(json!({"msg":"no code"})),
        Some(CniError::new(ErrorCode::Other(0), "no code"))
    );
    assert_eq!(read(json!({"code":"7","msg":"x"})), None);
    assert_eq!(read(json!(["not", "an", "object"])), None);
}
