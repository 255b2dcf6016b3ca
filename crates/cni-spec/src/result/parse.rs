//! Reading a result of any version into the internal model (Go's up-conversions).
//!
//! 0.1.0/0.2.0 `ip4`/`ip6` become `ips`, their routes merged into `routes` (IPv4 first);
//! 0.3.x/0.4.0 `ips[].version` is dropped (the address says its family). Keys fold like Go's
//! `encoding/json` (this goes through `gojson`).

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::{CniResult, Dns, Interface, IpConfig, Route};
use crate::error::Error;
use crate::{CniError, SpecVersion, gojson};

impl CniResult {
    /// Reads `value` as a result. Its own `cniVersion` decides the layout; a result without
    /// one takes `version` (Go's `ParsePrevResult` / libcni `fixupResultVersion`, cni #895).
    /// Malformed -> code 7.
    pub fn from_json(value: &Value, version: SpecVersion) -> Result<CniResult, CniError> {
        parse_any(value, version).map_err(|reason| Error::InvalidResult(reason).into())
    }
}

/// [`CniResult::from_json`] with the reason as text, for callers that pick their own code.
pub(crate) fn parse_any(value: &Value, version: SpecVersion) -> Result<CniResult, String> {
    let declared: Declared = gojson::from_value(value).map_err(|e| e.msg)?;
    let version = match declared.cni_version.as_deref() {
        None | Some("") => version,
        Some(text) => text
            .parse()
            .map_err(|_| format!("unsupported CNI result version {text:?}"))?,
    };
    if version.has_legacy_result() {
        let wire: LegacyResult = gojson::from_value(value).map_err(|e| e.msg)?;
        Ok(wire.into_model())
    } else {
        let wire: CurrentResult = gojson::from_value(value).map_err(|e| e.msg)?;
        Ok(wire.into_model())
    }
}

#[derive(Deserialize)]
struct Declared {
    #[serde(rename = "cniVersion")]
    cni_version: Option<String>,
}

/// 0.3.0 through 1.1.0 (`version` in `ips` is accepted and ignored).
#[derive(Deserialize)]
struct CurrentResult {
    #[serde(default)]
    interfaces: Vec<WireInterface>,
    #[serde(default)]
    ips: Vec<WireIp>,
    #[serde(default)]
    routes: Vec<WireRoute>,
    #[serde(default)]
    dns: Dns,
}

#[derive(Deserialize)]
struct WireInterface {
    #[serde(default)]
    name: String,
    mac: Option<String>,
    mtu: Option<u32>,
    sandbox: Option<String>,
    #[serde(rename = "socketPath")]
    socket_path: Option<String>,
    #[serde(rename = "pciID")]
    pci_id: Option<String>,
}

#[derive(Deserialize)]
struct WireIp {
    #[serde(deserialize_with = "cidr")]
    address: IpNetwork,
    #[serde(default, deserialize_with = "optional_ip")]
    gateway: Option<IpAddr>,
    interface: Option<usize>,
}

#[derive(Deserialize)]
struct WireRoute {
    #[serde(deserialize_with = "cidr")]
    dst: IpNetwork,
    #[serde(default, deserialize_with = "optional_ip")]
    gw: Option<IpAddr>,
    mtu: Option<u32>,
    advmss: Option<u32>,
    priority: Option<u32>,
    table: Option<u32>,
    scope: Option<u8>,
}

/// 0.1.0 / 0.2.0.
#[derive(Deserialize)]
struct LegacyResult {
    ip4: Option<LegacyIp>,
    ip6: Option<LegacyIp>,
    #[serde(default)]
    dns: Dns,
}

#[derive(Deserialize)]
struct LegacyIp {
    #[serde(deserialize_with = "cidr")]
    ip: IpNetwork,
    #[serde(default, deserialize_with = "optional_ip")]
    gateway: Option<IpAddr>,
    #[serde(default)]
    routes: Vec<WireRoute>,
}

impl CurrentResult {
    fn into_model(self) -> CniResult {
        CniResult {
            interfaces: self
                .interfaces
                .into_iter()
                .map(WireInterface::into_model)
                .collect(),
            ips: self
                .ips
                .into_iter()
                .map(|ip| IpConfig {
                    address: ip.address,
                    gateway: ip.gateway,
                    interface: ip.interface,
                })
                .collect(),
            routes: self.routes.into_iter().map(WireRoute::into_model).collect(),
            dns: self.dns,
        }
    }
}

impl LegacyResult {
    fn into_model(self) -> CniResult {
        let mut result = CniResult {
            dns: self.dns,
            ..CniResult::default()
        };
        for family in [self.ip4, self.ip6].into_iter().flatten() {
            result.ips.push(IpConfig {
                address: family.ip,
                gateway: family.gateway,
                interface: None,
            });
            result
                .routes
                .extend(family.routes.into_iter().map(WireRoute::into_model));
        }
        result
    }
}

impl WireInterface {
    fn into_model(self) -> Interface {
        Interface {
            name: self.name,
            mac: non_empty(self.mac),
            mtu: non_zero(self.mtu),
            sandbox: non_empty(self.sandbox),
            socket_path: non_empty(self.socket_path),
            pci_id: non_empty(self.pci_id),
        }
    }
}

impl WireRoute {
    fn into_model(self) -> Route {
        // Go's route type has plain ints for mtu/advmss/priority: 0 means unset.
        Route {
            dst: self.dst,
            gw: self.gw,
            mtu: non_zero(self.mtu),
            advmss: non_zero(self.advmss),
            priority: non_zero(self.priority),
            table: self.table,
            scope: self.scope,
        }
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

fn non_zero(n: Option<u32>) -> Option<u32> {
    n.filter(|n| *n != 0)
}

/// An address with prefix, host bits kept. The prefix is required, as Go's `net.ParseCIDR`
/// requires it (ipnetwork alone would read a bare address as /32).
fn cidr<'de, D: Deserializer<'de>>(deserializer: D) -> Result<IpNetwork, D::Error> {
    let text = String::deserialize(deserializer)?;
    let parsed = text.contains('/').then(|| text.parse::<IpNetwork>().ok());
    parsed
        .flatten()
        .ok_or_else(|| serde::de::Error::custom(format!("invalid CIDR address: {text}")))
}

/// An address; empty text is no address, like Go's `net.IP.UnmarshalText`.
fn optional_ip<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<IpAddr>, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| serde::de::Error::custom(format!("invalid IP address: {text}")))
}
