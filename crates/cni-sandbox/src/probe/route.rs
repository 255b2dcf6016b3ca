//! Routes of every table, as `ip -j -d route show table all` reports them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnetwork::IpNetwork;
use serde::Deserialize;
use serde_json::Value;

use super::typed;
use crate::error::{Result, SandboxError};
use crate::netns::Ns;

/// Address family of a route dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl Family {
    fn flag(self) -> &'static str {
        match self {
            Family::V4 => "-4",
            Family::V6 => "-6",
        }
    }

    fn default_dst(self) -> IpNetwork {
        let any = match self {
            Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        IpNetwork::new(any, 0).unwrap_or_else(|_| unreachable!("prefix 0 is always valid"))
    }
}

/// One route.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteView {
    /// Route type: `unicast`, `local`, `broadcast`, `blackhole`, `multicast`, ...
    pub kind: String,
    /// Destination; `default` becomes 0.0.0.0/0 or ::/0, a bare host address /32 or /128.
    pub dst: IpNetwork,
    /// Next hop.
    pub gateway: Option<IpAddr>,
    /// Output device.
    pub dev: Option<String>,
    /// Metric (priority); iproute2 omits it when 0.
    pub metric: Option<u32>,
    /// Table: `main`, `local`, or a number as text.
    pub table: String,
    /// `global`, `link`, `host`.
    pub scope: String,
    /// `kernel`, `boot`, `static`, ...
    pub protocol: String,
    /// Preferred source address.
    pub prefsrc: Option<IpAddr>,
    /// Route MTU metric (`RTAX_MTU`).
    pub mtu: Option<u32>,
    /// The whole JSON object (multipath `nexthops`, `advmss`, ...).
    pub raw: Value,
}

#[derive(Deserialize)]
struct RawRoute {
    #[serde(rename = "type", default)]
    kind: String,
    dst: String,
    gateway: Option<IpAddr>,
    dev: Option<String>,
    metric: Option<u32>,
    #[serde(default)]
    table: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    protocol: String,
    prefsrc: Option<IpAddr>,
    #[serde(default)]
    metrics: Vec<RawMetrics>,
}

#[derive(Deserialize)]
struct RawMetrics {
    mtu: Option<u32>,
}

fn parse_dst(dst: &str, family: Family) -> Option<IpNetwork> {
    if dst == "default" {
        return Some(family.default_dst());
    }
    // A host route prints without a prefix; IpNetwork then assumes /32 or /128.
    dst.parse().ok()
}

pub(crate) fn parse_routes(cmd: &str, family: Family, items: Vec<Value>) -> Result<Vec<RouteView>> {
    typed::<RawRoute>(cmd, items)?
        .into_iter()
        .map(|(r, raw)| {
            let dst = parse_dst(&r.dst, family).ok_or_else(|| SandboxError::Parse {
                cmd: cmd.to_owned(),
                detail: format!("unparsable dst {:?}", r.dst),
            })?;
            Ok(RouteView {
                kind: r.kind,
                dst,
                gateway: r.gateway,
                dev: r.dev,
                metric: r.metric,
                table: r.table,
                scope: r.scope,
                protocol: r.protocol,
                prefsrc: r.prefsrc,
                mtu: r.metrics.iter().find_map(|m| m.mtu),
                raw,
            })
        })
        .collect()
}

impl Ns {
    /// Every route of `family` in every table (main, local, and numbered ones).
    pub fn routes(&self, family: Family) -> Result<Vec<RouteView>> {
        let args = [family.flag(), "-d", "route", "show", "table", "all"];
        let items: Vec<Value> = self.json("ip", &args)?;
        let cmd = format!("ip -j {} in {}", args.join(" "), self.name());
        parse_routes(&cmd, family, items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_host_and_metrics() {
        let v4 = r#"[{"type":"unicast","dst":"default","gateway":"10.1.0.2","dev":"va","table":"main","protocol":"boot","scope":"global","flags":[]},{"type":"local","dst":"10.1.0.1","dev":"va","table":"local","protocol":"kernel","scope":"host","prefsrc":"10.1.0.1","flags":[]},{"type":"unicast","dst":"10.7.0.0/16","gateway":"10.1.0.2","dev":"va","table":"100","protocol":"boot","scope":"global","metric":50,"flags":["linkdown"],"metrics":[{"mtu":1300,"advmss":1200}]},{"type":"blackhole","dst":"10.6.0.0/16","table":"main","protocol":"boot","scope":"global","flags":[]}]"#;
        let r = parse_routes("t", Family::V4, serde_json::from_str(v4).unwrap()).unwrap();
        assert_eq!(r[0].dst, "0.0.0.0/0".parse::<IpNetwork>().unwrap());
        assert_eq!(r[0].gateway, Some("10.1.0.2".parse().unwrap()));
        assert_eq!(r[1].dst, "10.1.0.1/32".parse::<IpNetwork>().unwrap());
        assert_eq!(
            (r[2].metric, r[2].mtu, r[2].table.as_str()),
            (Some(50), Some(1300), "100")
        );
        assert_eq!(
            (r[3].kind.as_str(), r[3].dev.as_deref()),
            ("blackhole", None)
        );
    }

    #[test]
    fn v6_default() {
        let v6 = r#"[{"type":"unicast","dst":"default","gateway":"fd00::9","dev":"va","table":"main","protocol":"boot","scope":"global","metric":1024,"flags":[],"pref":"medium"}]"#;
        let r = parse_routes("t", Family::V6, serde_json::from_str(v6).unwrap()).unwrap();
        assert_eq!(r[0].dst, "::/0".parse::<IpNetwork>().unwrap());
        assert_eq!(r[0].metric, Some(1024));
    }
}
