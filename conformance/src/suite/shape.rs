//! What a result and an error must look like on the wire, per spec version, checked on the raw
//! JSON a plugin printed (black-box: no plugin library decides what is acceptable).
//!
//! Results (cni-reference.md §1.5): 0.1.0/0.2.0 have `ip4`/`ip6` and nothing of the later
//! layout; 0.3.0-0.4.0 have `ips[]` each with `version` "4"/"6" matching its address; 1.x drop
//! `version`. `cniVersion` is the config's. Addresses are CIDRs, gateways and route hops IPs of
//! the right family, interface indexes point into `interfaces`. An interface-creating plugin
//! must list the container interface with `sandbox` = `CNI_NETNS` and point its IPs at it.
//!
//! Errors (§1.6): non-zero exit, a JSON object on stdout with a numeric `code` and a non-empty
//! `msg`; `details` and `cniVersion`, when present, are strings.

use std::net::IpAddr;

use cni_sandbox::PluginRun;
use ipnetwork::IpNetwork;
use serde_json::{Map, Value};

/// What the result is expected to describe.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    /// The config's `cniVersion`.
    pub version: &'a str,
    /// For interface-creating plugins: the container interface's name and `CNI_NETNS`.
    pub container: Option<(&'a str, &'a str)>,
}

/// Checks a result; `Err` says the first thing wrong.
pub fn check_result(result: &Value, want: Expect<'_>) -> Result<(), String> {
    let Value::Object(obj) = result else {
        return Err(format!("result is not a JSON object: {result}"));
    };
    let version = obj.get("cniVersion").and_then(Value::as_str);
    if version != Some(want.version) {
        return Err(format!(
            "cniVersion is {version:?}, config said {:?}",
            want.version
        ));
    }
    if matches!(want.version, "0.1.0" | "0.2.0") {
        return check_legacy(obj);
    }
    let with_ip_version = matches!(want.version, "0.3.0" | "0.3.1" | "0.4.0");
    for key in ["ip4", "ip6"] {
        if obj.contains_key(key) {
            return Err(format!(
                "{key:?} belongs to the 0.2.0 layout, not {}",
                want.version
            ));
        }
    }
    let interfaces = array(obj, "interfaces")?;
    for (i, iface) in interfaces.iter().enumerate() {
        check_interface(iface).map_err(|e| format!("interfaces[{i}]: {e}"))?;
    }
    let ips = array(obj, "ips")?;
    if ips.is_empty() {
        return Err("no ips in the result of an IPAM-backed ADD".into());
    }
    for (i, ip) in ips.iter().enumerate() {
        check_ip(ip, with_ip_version, interfaces.len()).map_err(|e| format!("ips[{i}]: {e}"))?;
    }
    for (i, route) in array(obj, "routes")?.iter().enumerate() {
        check_route(route).map_err(|e| format!("routes[{i}]: {e}"))?;
    }
    if let Some(dns) = obj.get("dns") {
        check_dns(dns)?;
    }
    if let Some((ifname, netns)) = want.container {
        check_container(interfaces, ips, ifname, netns)?;
    }
    Ok(())
}

fn check_legacy(obj: &Map<String, Value>) -> Result<(), String> {
    for key in ["ips", "interfaces", "routes"] {
        if obj.contains_key(key) {
            return Err(format!("{key:?} does not exist in the 0.1.0/0.2.0 layout"));
        }
    }
    let mut any = false;
    for (key, v4) in [("ip4", true), ("ip6", false)] {
        let Some(ip) = obj.get(key) else { continue };
        any = true;
        let addr = cidr(ip.get("ip")).map_err(|e| format!("{key}.ip: {e}"))?;
        family(addr.ip(), v4).map_err(|e| format!("{key}.ip: {e}"))?;
        if let Some(gw) = ip.get("gateway") {
            family(ip_of(gw).map_err(|e| format!("{key}.gateway: {e}"))?, v4)?;
        }
        for (i, route) in ip
            .get("routes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            check_route(route).map_err(|e| format!("{key}.routes[{i}]: {e}"))?;
        }
    }
    if !any {
        return Err("neither ip4 nor ip6 in a 0.1.0/0.2.0 result".into());
    }
    if let Some(dns) = obj.get("dns") {
        check_dns(dns)?;
    }
    Ok(())
}

fn check_interface(iface: &Value) -> Result<(), String> {
    let name = iface
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.is_empty() || name.len() > 15 {
        return Err(format!("bad name {:?}", iface.get("name")));
    }
    if let Some(mac) = iface.get("mac") {
        let mac = mac.as_str().unwrap_or_default();
        let ok = mac.split(':').count() == 6
            && mac
                .split(':')
                .all(|b| b.len() == 2 && b.chars().all(|c| c.is_ascii_hexdigit()));
        if !ok {
            return Err(format!("bad mac {mac:?}"));
        }
    }
    if iface.get("sandbox").is_some_and(|s| !s.is_string()) {
        return Err("sandbox is not a string".into());
    }
    Ok(())
}

fn check_ip(ip: &Value, with_version: bool, interfaces: usize) -> Result<(), String> {
    let addr = cidr(ip.get("address"))?;
    let v4 = addr.is_ipv4();
    match (with_version, ip.get("version").and_then(Value::as_str)) {
        (true, Some("4")) if v4 => {}
        (true, Some("6")) if !v4 => {}
        (true, other) => return Err(format!("version {other:?} does not fit address {addr}")),
        (false, Some(v)) => return Err(format!("version {v:?} was removed in 1.0.0")),
        (false, None) => {}
    }
    if let Some(gw) = ip.get("gateway") {
        family(ip_of(gw)?, v4).map_err(|e| format!("gateway: {e}"))?;
    }
    if let Some(index) = ip.get("interface") {
        let i = index.as_u64().ok_or("interface is not an index")?;
        if i as usize >= interfaces {
            return Err(format!(
                "interface index {i} but only {interfaces} interfaces"
            ));
        }
    }
    Ok(())
}

fn check_route(route: &Value) -> Result<(), String> {
    let dst = cidr(route.get("dst")).map_err(|e| format!("dst: {e}"))?;
    if let Some(gw) = route.get("gw") {
        family(ip_of(gw).map_err(|e| format!("gw: {e}"))?, dst.is_ipv4())?;
    }
    Ok(())
}

fn check_dns(dns: &Value) -> Result<(), String> {
    let Value::Object(d) = dns else {
        return Err(format!("dns is not an object: {dns}"));
    };
    for key in ["nameservers", "search", "options"] {
        if let Some(v) = d.get(key) {
            let ok = v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
            if !ok {
                return Err(format!("dns.{key} is not a list of strings"));
            }
        }
    }
    Ok(())
}

/// The container interface is listed with its sandbox, and every IP points at it.
fn check_container(
    interfaces: &[Value],
    ips: &[Value],
    ifname: &str,
    netns: &str,
) -> Result<(), String> {
    let index = interfaces
        .iter()
        .position(|i| i.get("name").and_then(Value::as_str) == Some(ifname))
        .ok_or_else(|| format!("no interface {ifname:?} in the result"))?;
    let sandbox = interfaces[index].get("sandbox").and_then(Value::as_str);
    if sandbox != Some(netns) {
        return Err(format!(
            "interface {ifname:?} has sandbox {sandbox:?}, CNI_NETNS was {netns:?}"
        ));
    }
    for (i, ip) in ips.iter().enumerate() {
        if ip.get("interface").and_then(Value::as_u64) != Some(index as u64) {
            return Err(format!(
                "ips[{i}].interface is {:?}, the container interface is {index}",
                ip.get("interface")
            ));
        }
    }
    Ok(())
}

fn array<'v>(obj: &'v Map<String, Value>, key: &str) -> Result<&'v [Value], String> {
    match obj.get(key) {
        None => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(format!("{key} is not a list: {other}")),
    }
}

fn cidr(v: Option<&Value>) -> Result<IpNetwork, String> {
    let text = v.and_then(Value::as_str).ok_or("missing or not a string")?;
    text.parse()
        .map_err(|e| format!("{text:?} is not a CIDR: {e}"))
}

fn ip_of(v: &Value) -> Result<IpAddr, String> {
    let text = v.as_str().ok_or("not a string")?;
    text.parse()
        .map_err(|e| format!("{text:?} is not an IP: {e}"))
}

fn family(ip: IpAddr, v4: bool) -> Result<(), String> {
    if ip.is_ipv4() == v4 {
        Ok(())
    } else {
        Err(format!("{ip} is of the wrong family"))
    }
}

/// The first address of a result of any version (`ips[0]`, else `ip4`, else `ip6`).
pub fn first_ip(result: &Value) -> Option<IpAddr> {
    let text = result
        .pointer("/ips/0/address")
        .or_else(|| result.pointer("/ip4/ip"))
        .or_else(|| result.pointer("/ip6/ip"))?
        .as_str()?;
    text.parse::<IpNetwork>().ok().map(|n| n.ip())
}

/// Checks that `run` failed with a well-formed CNI error; with `code`, that exact code.
pub fn check_error(run: &PluginRun, code: Option<u64>) -> Result<(), String> {
    if run.success() {
        return Err(format!(
            "succeeded where an error was due; stdout: {}",
            run.stdout.trim()
        ));
    }
    let Some(Value::Object(err)) = &run.error else {
        return Err(format!(
            "exit {} without a JSON error object on stdout (stdout {:?}, stderr {:?})",
            run.status,
            run.stdout.trim(),
            run.stderr.trim()
        ));
    };
    let got = err.get("code").and_then(Value::as_u64);
    if got.is_none() {
        return Err(format!(
            "error object without a numeric code: {}",
            run.stdout.trim()
        ));
    }
    if err
        .get("msg")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(format!("error object without a msg: {}", run.stdout.trim()));
    }
    for key in ["details", "cniVersion"] {
        if err.get(key).is_some_and(|v| !v.is_string()) {
            return Err(format!(
                "error {key} is not a string: {}",
                run.stdout.trim()
            ));
        }
    }
    match code {
        Some(want) if got != Some(want) => Err(format!(
            "error code {} where {want} is due: {}",
            got.unwrap_or_default(),
            run.stdout.trim()
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const V04: Expect<'static> = Expect {
        version: "0.4.0",
        container: None,
    };

    #[test]
    fn version_field_per_layout() {
        let r = json!({"cniVersion": "0.4.0", "ips": [{"version": "4", "address": "10.1.0.5/24"}]});
        assert_eq!(check_result(&r, V04), Ok(()));
        let r = json!({"cniVersion": "0.4.0", "ips": [{"version": "6", "address": "10.1.0.5/24"}]});
        assert!(check_result(&r, V04).is_err());
        let r = json!({"cniVersion": "1.0.0", "ips": [{"version": "4", "address": "10.1.0.5/24"}]});
        assert!(
            check_result(
                &r,
                Expect {
                    version: "1.0.0",
                    container: None
                }
            )
            .is_err()
        );
        let r = json!({"cniVersion": "0.2.0", "ip4": {"ip": "10.1.0.5/24", "gateway": "10.1.0.1"}});
        assert_eq!(
            check_result(
                &r,
                Expect {
                    version: "0.2.0",
                    container: None
                }
            ),
            Ok(())
        );
        assert_eq!(first_ip(&r), Some("10.1.0.5".parse().unwrap()));
    }

    #[test]
    fn container_interface_and_indexes() {
        let r = json!({"cniVersion": "1.0.0",
            "interfaces": [{"name": "cni0"}, {"name": "eth0", "sandbox": "/run/netns/p"}],
            "ips": [{"interface": 1, "address": "10.1.0.5/24"}]});
        let want = Expect {
            version: "1.0.0",
            container: Some(("eth0", "/run/netns/p")),
        };
        assert_eq!(check_result(&r, want), Ok(()));
        let wrong_ns = Expect {
            container: Some(("eth0", "/run/netns/q")),
            ..want
        };
        assert!(check_result(&r, wrong_ns).is_err());
        let r = json!({"cniVersion": "1.0.0", "interfaces": [], "ips": [{"interface": 0, "address": "10.1.0.5/24"}]});
        assert!(
            check_result(
                &r,
                Expect {
                    version: "1.0.0",
                    container: None
                }
            )
            .is_err()
        );
    }
}
