//! Printing the internal model in a given version, by cni-reference.md §1.5/§1.9:
//! - 0.1.0/0.2.0: `ip4`/`ip6` with the FIRST address of each family; routes split by the family
//!   of `dst`, only `dst`/`gw`, kept only for a family that has an address; no address at all
//!   is an error; `"dns":{}` always present (Go's 020 type has no omitempty on a struct).
//! - 0.3.0/0.3.1/0.4.0: `ips[].version` "4"/"6"; `"dns":{}` always present (040 type);
//!   interface `mtu/socketPath/pciID` dropped; route 1.1 fields kept (the route type is shared).
//! - 1.0.0/1.1.0: no `version`; `dns` omitted when empty; interface 1.1 fields only in 1.1.0.
//!
//! Output structs keep Go's field order, so printed JSON reads like the reference plugins'.

use serde::Serialize;
use serde_json::Value;

use super::{CniResult, Dns, Interface, IpConfig, Route};
use crate::error::Error;
use crate::{CniError, SpecVersion};

impl CniResult {
    /// The result as JSON in `version`, `cniVersion` included.
    pub fn to_json(&self, version: SpecVersion) -> Result<Value, CniError> {
        serde_json::to_value(printable(self, version)?).map_err(|e| Error::Encode(e).into())
    }

    /// The result as the bytes a plugin prints (compact JSON, Go's field order, no newline).
    pub fn to_bytes(&self, version: SpecVersion) -> Result<Vec<u8>, CniError> {
        serde_json::to_vec(&printable(self, version)?).map_err(|e| Error::Encode(e).into())
    }
}

fn printable(result: &CniResult, version: SpecVersion) -> Result<Printable<'_>, CniError> {
    if version.has_legacy_result() {
        legacy(result, version).map(Printable::Legacy)
    } else {
        Ok(Printable::Current(current(result, version)))
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum Printable<'a> {
    Legacy(LegacyOut<'a>),
    Current(CurrentOut<'a>),
}

#[derive(Serialize)]
struct CurrentOut<'a> {
    #[serde(rename = "cniVersion")]
    cni_version: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    interfaces: Vec<InterfaceOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ips: Vec<IpOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    routes: Vec<RouteOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dns: Option<&'a Dns>,
}

#[derive(Serialize)]
struct InterfaceOut<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    mac: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mtu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox: Option<&'a str>,
    #[serde(rename = "socketPath", skip_serializing_if = "Option::is_none")]
    socket_path: Option<&'a str>,
    #[serde(rename = "pciID", skip_serializing_if = "Option::is_none")]
    pci_id: Option<&'a str>,
}

#[derive(Serialize)]
struct IpOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interface: Option<usize>,
    address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    gateway: Option<String>,
}

#[derive(Serialize)]
struct RouteOut<'a> {
    dst: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    gw: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mtu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    advmss: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    table: Option<&'a u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a u8>,
}

#[derive(Serialize)]
struct LegacyOut<'a> {
    #[serde(rename = "cniVersion")]
    cni_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip4: Option<LegacyIpOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip6: Option<LegacyIpOut<'a>>,
    dns: &'a Dns,
}

#[derive(Serialize)]
struct LegacyIpOut<'a> {
    ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    gateway: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    routes: Vec<RouteOut<'a>>,
}

fn current(result: &CniResult, version: SpecVersion) -> CurrentOut<'_> {
    let with_1_1 = version >= SpecVersion::V1_1_0;
    let keep_empty_dns = version.has_ip_version();
    CurrentOut {
        cni_version: version.as_str(),
        interfaces: result
            .interfaces
            .iter()
            .map(|i| interface(i, with_1_1))
            .collect(),
        ips: result
            .ips
            .iter()
            .map(|ip| IpOut {
                version: version
                    .has_ip_version()
                    .then_some(if ip.is_ipv4() { "4" } else { "6" }),
                interface: ip.interface,
                address: ip.address.to_string(),
                gateway: ip.gateway.map(|g| g.to_string()),
            })
            .collect(),
        routes: result.routes.iter().map(route).collect(),
        dns: (keep_empty_dns || !result.dns.is_empty()).then_some(&result.dns),
    }
}

fn interface(i: &Interface, with_1_1: bool) -> InterfaceOut<'_> {
    InterfaceOut {
        name: &i.name,
        mac: non_empty(&i.mac),
        mtu: i.mtu.filter(|_| with_1_1),
        sandbox: non_empty(&i.sandbox),
        socket_path: non_empty(&i.socket_path).filter(|_| with_1_1),
        pci_id: non_empty(&i.pci_id).filter(|_| with_1_1),
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

fn route(r: &Route) -> RouteOut<'_> {
    RouteOut {
        dst: r.dst.to_string(),
        gw: r.gw.map(|g| g.to_string()),
        mtu: r.mtu.filter(|n| *n != 0),
        advmss: r.advmss.filter(|n| *n != 0),
        priority: r.priority.filter(|n| *n != 0),
        table: r.table.as_ref(),
        scope: r.scope.as_ref(),
    }
}

fn legacy(result: &CniResult, version: SpecVersion) -> Result<LegacyOut<'_>, CniError> {
    let first = |v4: bool| result.ips.iter().find(|ip| ip.is_ipv4() == v4);
    let mut ip4 = first(true).map(legacy_ip);
    let mut ip6 = first(false).map(legacy_ip);
    if ip4.is_none() && ip6.is_none() {
        return Err(Error::NoAddressForLegacy.into());
    }
    for r in &result.routes {
        let family = if r.dst.is_ipv4() { &mut ip4 } else { &mut ip6 };
        if let Some(family) = family {
            family.routes.push(RouteOut {
                dst: r.dst.to_string(),
                gw: r.gw.map(|g| g.to_string()),
                mtu: None,
                advmss: None,
                priority: None,
                table: None,
                scope: None,
            });
        }
    }
    Ok(LegacyOut {
        cni_version: version.as_str(),
        ip4,
        ip6,
        dns: &result.dns,
    })
}

fn legacy_ip<'a>(ip: &IpConfig) -> LegacyIpOut<'a> {
    LegacyIpOut {
        ip: ip.address.to_string(),
        gateway: ip.gateway.map(|g| g.to_string()),
        routes: Vec::new(),
    }
}
