//! Which MAC address the pod interface gets.
//!
//! Four places may ask for one; a later one wins (reference bridge and macvlan, cni-reference.md
//! §2.1/§2.2): the plugin config's own `mac` key, `CNI_ARGS` `MAC=`, `args.cni.mac`
//! (CONVENTIONS.md), then `runtimeConfig.mac` (the `mac` capability, e.g. set by Multus from a
//! pod annotation). Empty strings count as unset, as in Go. Only the winner is parsed, so a
//! stale bad value in a losing place does not fail the ADD, but the winner must be a MAC the
//! kernel accepts on a link: six octets, unicast, not all zero.
//!
//! Not here: rejecting unknown `CNI_ARGS` keys (the plugin knows which keys it accepts and calls
//! `CniArgs::ensure_known`).

use cni_netlink::MacAddr;
use cni_spec::{CniArgs, NetConf};

use crate::error::{Error, Result};

/// The `CNI_ARGS` key for a requested MAC.
pub const MAC_ARG: &str = "MAC";

/// The MAC to give the pod interface, or `None` to let the kernel pick one.
pub fn requested_mac(
    config_mac: Option<&str>,
    args: &CniArgs,
    conf: &NetConf,
) -> Result<Option<MacAddr>> {
    let sources = [
        ("the config's mac", config_mac),
        ("CNI_ARGS MAC", args.get(MAC_ARG)),
        ("args.cni.mac", conf.args.mac.as_deref()),
        ("runtimeConfig.mac", conf.runtime_config.mac.as_deref()),
    ];
    let winner = sources
        .into_iter()
        .filter_map(|(origin, v)| v.filter(|s| !s.is_empty()).map(|v| (origin, v)))
        .next_back();
    winner.map(|(origin, v)| parse_mac(v, origin)).transpose()
}

/// Parses a MAC and checks the kernel would accept it on a link (`is_valid_ether_addr`).
pub fn parse_mac(value: &str, origin: &'static str) -> Result<MacAddr> {
    let bad = |reason| Error::InvalidMac {
        value: value.to_owned(),
        origin,
        reason,
    };
    let mac: MacAddr = value
        .parse()
        .map_err(|_| bad("not six hex octets separated by ':'"))?;
    if !mac.is_unicast() {
        return Err(bad("a multicast address cannot be an interface address"));
    }
    if mac == MacAddr::ZERO {
        return Err(bad("the all-zero address cannot be an interface address"));
    }
    Ok(mac)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conf(extra: serde_json::Value) -> NetConf {
        let mut v = json!({"cniVersion": "1.0.0", "name": "n", "type": "bridge"});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        NetConf::from_value(v).unwrap()
    }

    #[test]
    fn later_sources_win() {
        let args = CniArgs::parse("IgnoreUnknown=1;MAC=02:00:00:00:00:02").unwrap();
        let none = conf(json!({}));
        let pick = |c: Option<&str>, a: &CniArgs, n: &NetConf| {
            requested_mac(c, a, n).unwrap().map(|m| m.to_string())
        };
        let empty = CniArgs::default();
        assert_eq!(pick(None, &empty, &none), None);
        assert_eq!(
            pick(Some("02:00:00:00:00:01"), &empty, &none).as_deref(),
            Some("02:00:00:00:00:01")
        );
        assert_eq!(
            pick(Some("02:00:00:00:00:01"), &args, &none).as_deref(),
            Some("02:00:00:00:00:02")
        );
        let with_args = conf(json!({"args": {"cni": {"mac": "02:00:00:00:00:03"}}}));
        assert_eq!(
            pick(Some("02:00:00:00:00:01"), &args, &with_args).as_deref(),
            Some("02:00:00:00:00:03")
        );
        let with_rt = conf(json!({
            "args": {"cni": {"mac": "02:00:00:00:00:03"}},
            "runtimeConfig": {"mac": "02:00:00:00:00:04"}
        }));
        assert_eq!(
            pick(None, &args, &with_rt).as_deref(),
            Some("02:00:00:00:00:04")
        );
        // An empty value is "unset", not "clear".
        let empty_rt = conf(json!({"runtimeConfig": {"mac": ""}}));
        assert_eq!(
            pick(None, &args, &empty_rt).as_deref(),
            Some("02:00:00:00:00:02")
        );
    }

    #[test]
    fn only_usable_addresses() {
        let n = conf(json!({"runtimeConfig": {"mac": "01:00:5e:00:00:01"}}));
        let err = requested_mac(None, &CniArgs::default(), &n).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid MAC address \"01:00:5e:00:00:01\" in runtimeConfig.mac: \
             a multicast address cannot be an interface address"
        );
        assert!(parse_mac("00:00:00:00:00:00", "x").is_err());
        assert!(parse_mac("02:00:00:00:00", "x").is_err());
        // A bad value that loses is never looked at.
        let args = CniArgs::parse("MAC=zz").unwrap();
        let n = conf(json!({"runtimeConfig": {"mac": "0a:58:0a:01:00:05"}}));
        assert!(requested_mac(None, &args, &n).is_ok());
    }
}
