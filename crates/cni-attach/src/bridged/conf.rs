//! The config keys of a pod behind a bridge port that the bridge and vxlan plugins share, with
//! the same meaning, defaults, validation and messages (the reference bridge's at v1.8+):
//!
//! | Key | Default | Meaning |
//! |---|---|---|
//! | `isGateway` | false (implied by `isDefaultGateway`) | the gateway address on the bridge, forwarding on |
//! | `isDefaultGateway` | false | a default route via the gateway in the pod |
//! | `forceAddress` | false | replace another address on the bridge instead of failing |
//! | `ipMasq`, `ipMasqBackend` | off, `nftables` | masquerade pod traffic leaving its subnet |
//! | `mtu` | 0 (none) | MTU of the veth ends (and of what the plugin creates with them) |
//! | `hairpinMode` | false | hairpin on the pod's bridge port |
//! | `mac` | none | the pod MAC, lowest priority of the MAC sources |
//!
//! Each plugin decodes its own keys from the same config; this is a second, independent
//! decoding of the same object (Go's rules, `cni_spec::gojson`, which has no `flatten`).

use cni_spec::{CniError, NetConf, gojson};
use serde::Deserialize;

use crate::error::Error;
use crate::masq::Backend;

/// The shared keys, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgedConf {
    /// Gateway address on the bridge and forwarding (`isGateway`, or implied).
    pub is_gateway: bool,
    /// Default route via the gateway in the pod (`isDefaultGateway`).
    pub is_default_gateway: bool,
    /// Replace conflicting bridge addresses instead of failing (`forceAddress`).
    pub force_address: bool,
    /// Masquerading (`ipMasq`), and with which backend (`ipMasqBackend`).
    pub ip_masq: Option<Backend>,
    /// `mtu`; 0 or absent is `None`.
    pub mtu: Option<u32>,
    /// Hairpin on the pod's port (`hairpinMode`).
    pub hairpin: bool,
    /// The config's own pod MAC (`mac`; empty is `None`).
    pub mac: Option<String>,
}

#[derive(Deserialize, Default)]
struct Wire {
    #[serde(rename = "isGateway", default)]
    is_gateway: bool,
    #[serde(rename = "isDefaultGateway", default)]
    is_default_gateway: bool,
    #[serde(rename = "forceAddress", default)]
    force_address: bool,
    #[serde(rename = "ipMasq", default)]
    ip_masq: bool,
    #[serde(rename = "ipMasqBackend")]
    ip_masq_backend: Option<String>,
    #[serde(default)]
    mtu: i64,
    #[serde(rename = "hairpinMode", default)]
    hairpin_mode: bool,
    mac: Option<String>,
}

impl BridgedConf {
    /// Decodes and validates the shared keys of `conf` (code 7 naming the problem).
    pub fn parse(conf: &NetConf) -> Result<BridgedConf, CniError> {
        let wire: Wire = gojson::from_value(&conf.raw)?;
        Ok(BridgedConf::validate(wire)?)
    }

    fn validate(w: Wire) -> Result<BridgedConf, Error> {
        let mtu = match w.mtu {
            0 => None,
            m if (68..=65535).contains(&m) => u32::try_from(m).ok(),
            m => {
                return Err(Error::InvalidConfig(format!(
                    "invalid MTU {m} (must be 0 or between 68 and 65535)"
                )));
            }
        };
        // The backend is read only when masquerading is on, as in the reference.
        let ip_masq = match w.ip_masq {
            true => Some(Backend::from_config(w.ip_masq_backend.as_deref())?),
            false => None,
        };
        Ok(BridgedConf {
            is_gateway: w.is_gateway || w.is_default_gateway,
            is_default_gateway: w.is_default_gateway,
            force_address: w.force_address,
            ip_masq,
            mtu,
            hairpin: w.hairpin_mode,
            mac: w.mac.filter(|m| !m.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn parse(keys: Value) -> Result<BridgedConf, CniError> {
        let mut v = json!({"cniVersion": "1.0.0", "name": "net", "type": "bridge"});
        if let (Some(o), Some(k)) = (v.as_object_mut(), keys.as_object()) {
            o.extend(k.clone());
        }
        BridgedConf::parse(&NetConf::from_value(v).unwrap())
    }

    #[test]
    fn defaults_and_go_style_keys() {
        assert_eq!(parse(json!({})).unwrap(), BridgedConf::default());
        let c =
            parse(json!({"IsDefaultGateway": true, "hairpinmode": true, "MTU": 1400, "mac": ""}))
                .unwrap();
        assert!(c.is_gateway && c.is_default_gateway && c.hairpin);
        assert_eq!((c.mtu, c.mac), (Some(1400), None));
    }

    #[test]
    fn mtu_and_backend_are_validated_with_the_references_words() {
        for bad in [-1, 67, 65536] {
            let e = parse(json!({"mtu": bad})).unwrap_err();
            assert_eq!(e.code, cni_spec::ErrorCode::InvalidConfig);
            assert_eq!(
                e.msg,
                format!("invalid MTU {bad} (must be 0 or between 68 and 65535)")
            );
        }
        assert!(
            parse(json!({"ipMasqBackend": "pf"})).is_ok(),
            "read only with ipMasq"
        );
        let e = parse(json!({"ipMasq": true, "ipMasqBackend": "pf"})).unwrap_err();
        assert_eq!(e.code, cni_spec::ErrorCode::InvalidConfig);
        let c = parse(json!({"ipMasq": true})).unwrap();
        assert_eq!(c.ip_masq, Some(Backend::Nftables));
    }
}
