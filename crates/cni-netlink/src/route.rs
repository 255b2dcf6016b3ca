//! Routes (`ip route add|replace|del|show`), with every field a CNI 1.1 route can carry.
//!
//! Requests mirror iproute2: protocol `boot` (what `ip route add` and Go's netlink use, so `ip
//! route` shows our routes exactly like the reference plugins'), table ids above 255 in
//! `RTA_TABLE`, `mtu`/`advmss` inside `RTA_METRICS`. Deletes leave protocol, type and scope open
//! (scope `NOWHERE` means "any" to the kernel) so they match however the route was made.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteMetric, RouteProtocol, RouteScope,
    RouteType, RouteVia,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::error::Result;
use crate::handle::Handle;
use crate::transport::Request;
use crate::types::{IpFamily, Scope};

/// The main routing table.
pub const RT_TABLE_MAIN: u32 = 254;

/// A route to add, replace or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    /// Destination; `0.0.0.0/0` or `::/0` for a default route.
    pub dst: IpNetwork,
    /// Next hop; must be the same family as `dst`.
    pub gateway: Option<IpAddr>,
    /// Output interface index.
    pub oif: Option<u32>,
    /// Treat the gateway as on-link even if no prefix covers it. The kernel requires the
    /// output device to be up for this (ENETDOWN, "Nexthop device is not up").
    pub onlink: bool,
    /// Scope; `None` is universe for add/replace and "any" for delete.
    pub scope: Option<Scope>,
    /// Table id; `None` is the main table.
    pub table: Option<u32>,
    /// Metric (`RTA_PRIORITY`).
    pub metric: Option<u32>,
    /// Path MTU (`RTAX_MTU`).
    pub mtu: Option<u32>,
    /// Advertised TCP MSS (`RTAX_ADVMSS`).
    pub advmss: Option<u32>,
    /// Preferred source address.
    pub src: Option<IpAddr>,
}

impl RouteSpec {
    /// A route to `dst` with nothing else set.
    pub fn to(dst: IpNetwork) -> RouteSpec {
        RouteSpec {
            dst,
            gateway: None,
            oif: None,
            onlink: false,
            scope: None,
            table: None,
            metric: None,
            mtu: None,
            advmss: None,
            src: None,
        }
    }
}

impl std::fmt::Display for RouteSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "route {}", self.dst)?;
        if let Some(gw) = self.gateway {
            write!(f, " via {gw}")?;
        }
        if let Some(oif) = self.oif {
            write!(f, " dev {oif}")?;
        }
        if let Some(t) = self.table {
            write!(f, " table {t}")?;
        }
        if let Some(m) = self.metric {
            write!(f, " metric {m}")?;
        }
        Ok(())
    }
}

/// A route as the kernel reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Destination (prefix length 0 for a default route).
    pub dst: IpNetwork,
    /// Next hop.
    pub gateway: Option<IpAddr>,
    /// Output interface index.
    pub oif: Option<u32>,
    /// Table id.
    pub table: u32,
    /// Metric.
    pub metric: Option<u32>,
    /// Scope.
    pub scope: Scope,
    /// Routing protocol (`rtm_protocol`): 2 kernel, 3 boot, 4 static, ...
    pub protocol: u8,
    /// Route type.
    pub kind: RouteKind,
    /// Marked on-link.
    pub onlink: bool,
    /// Path MTU metric.
    pub mtu: Option<u32>,
    /// Advertised MSS metric.
    pub advmss: Option<u32>,
    /// Preferred source.
    pub src: Option<IpAddr>,
}

/// Route types (`rtm_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// A gateway or direct route.
    Unicast,
    /// A local address.
    Local,
    /// A broadcast address.
    Broadcast,
    /// Silently drop.
    Blackhole,
    /// Answer "host unreachable".
    Unreachable,
    /// Answer "prohibited".
    Prohibit,
    /// Anything else, by number.
    Other(u8),
}

fn address_family(ip: &IpAddr) -> AddressFamily {
    match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

fn message(spec: &RouteSpec, for_delete: bool) -> RouteMessage {
    let mut msg = RouteMessage::default();
    let h = &mut msg.header;
    h.address_family = address_family(&spec.dst.ip());
    h.destination_prefix_length = spec.dst.prefix();
    let table = spec.table.unwrap_or(RT_TABLE_MAIN);
    // rtm_table is 8 bits; larger ids travel in RTA_TABLE with rtm_table = RT_TABLE_UNSPEC.
    h.table = u8::try_from(table).unwrap_or(0);
    if for_delete {
        h.scope = RouteScope::from(spec.scope.unwrap_or(Scope::NOWHERE).0);
    } else {
        h.protocol = RouteProtocol::Boot;
        h.scope = RouteScope::from(spec.scope.unwrap_or(Scope::UNIVERSE).0);
        h.kind = RouteType::Unicast;
    }
    if spec.onlink {
        h.flags |= RouteFlags::Onlink;
    }
    let a = &mut msg.attributes;
    // `ip route add default` sends no RTA_DST at all.
    if spec.dst.prefix() > 0 {
        a.push(RouteAttribute::Destination(spec.dst.ip().into()));
    }
    if let Some(src) = spec.src {
        a.push(RouteAttribute::PrefSource(src.into()));
    }
    if let Some(gw) = spec.gateway {
        a.push(RouteAttribute::Gateway(gw.into()));
    }
    if let Some(m) = spec.metric {
        a.push(RouteAttribute::Priority(m));
    }
    if table > 255 {
        a.push(RouteAttribute::Table(table));
    }
    if let Some(oif) = spec.oif {
        a.push(RouteAttribute::Oif(oif));
    }
    let mut metrics = Vec::new();
    metrics.extend(spec.mtu.map(RouteMetric::Mtu));
    metrics.extend(spec.advmss.map(RouteMetric::Advmss));
    if !metrics.is_empty() {
        a.push(RouteAttribute::Metrics(metrics));
    }
    msg
}

pub(crate) fn add_request(spec: &RouteSpec, replace: bool) -> Request {
    let flags = NLM_F_CREATE | if replace { NLM_F_REPLACE } else { NLM_F_EXCL };
    Request::ack(RouteNetlinkMessage::NewRoute(message(spec, false)), flags)
}

pub(crate) fn del_request(spec: &RouteSpec) -> Request {
    Request::ack(RouteNetlinkMessage::DelRoute(message(spec, true)), 0)
}

pub(crate) fn list_request(family: IpFamily, table: u32) -> Request {
    // A strict dump rejects any header field but family, table, protocol, type and flags, and
    // filters on the non-zero ones; so everything else stays zero.
    let mut msg = RouteMessage::default();
    msg.header.address_family = match family {
        IpFamily::V4 => AddressFamily::Inet,
        IpFamily::V6 => AddressFamily::Inet6,
    };
    msg.header.table = u8::try_from(table).unwrap_or(0);
    if table > 255 {
        msg.attributes.push(RouteAttribute::Table(table));
    }
    Request::dump(RouteNetlinkMessage::GetRoute(msg))
}

fn ip_of(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some((*v4).into()),
        RouteAddress::Inet6(v6) => Some((*v6).into()),
        _ => None,
    }
}

fn route(msg: &RouteMessage) -> Option<Route> {
    let h = &msg.header;
    let unspecified: IpAddr = match h.address_family {
        AddressFamily::Inet => std::net::Ipv4Addr::UNSPECIFIED.into(),
        AddressFamily::Inet6 => std::net::Ipv6Addr::UNSPECIFIED.into(),
        _ => return None,
    };
    let mut r = Route {
        dst: IpNetwork::new(unspecified, h.destination_prefix_length).ok()?,
        gateway: None,
        oif: None,
        table: u32::from(h.table),
        metric: None,
        scope: Scope(u8::from(h.scope)),
        protocol: u8::from(h.protocol),
        kind: route_kind(u8::from(h.kind)),
        onlink: h.flags.contains(RouteFlags::Onlink),
        mtu: None,
        advmss: None,
        src: None,
    };
    for attr in &msg.attributes {
        match attr {
            RouteAttribute::Destination(d) => {
                r.dst = IpNetwork::new(ip_of(d)?, h.destination_prefix_length).ok()?;
            }
            RouteAttribute::Gateway(g) => r.gateway = ip_of(g),
            RouteAttribute::Via(RouteVia::Inet6(v6)) => r.gateway = Some((*v6).into()),
            RouteAttribute::Oif(i) => r.oif = Some(*i),
            RouteAttribute::Table(t) => r.table = *t,
            RouteAttribute::Priority(p) => r.metric = Some(*p),
            RouteAttribute::PrefSource(s) => r.src = ip_of(s),
            RouteAttribute::Metrics(ms) => {
                for m in ms {
                    match m {
                        RouteMetric::Mtu(v) => r.mtu = Some(*v),
                        RouteMetric::Advmss(v) => r.advmss = Some(*v),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Some(r)
}

fn route_kind(t: u8) -> RouteKind {
    match t {
        1 => RouteKind::Unicast,
        2 => RouteKind::Local,
        3 => RouteKind::Broadcast,
        6 => RouteKind::Blackhole,
        7 => RouteKind::Unreachable,
        8 => RouteKind::Prohibit,
        other => RouteKind::Other(other),
    }
}

impl Handle {
    /// `ip route add ...`. An identical route is an error whose `is_exists()` is true.
    pub fn route_add(&self, spec: &RouteSpec) -> Result<()> {
        self.check_families(spec, "add")?;
        self.ack(add_request(spec, false), || format!("add {spec}"))
    }

    /// `ip route replace ...`.
    pub fn route_replace(&self, spec: &RouteSpec) -> Result<()> {
        self.check_families(spec, "replace")?;
        self.ack(add_request(spec, true), || format!("replace {spec}"))
    }

    /// `ip route del ...`: deletes the first route matching every field that is set. A missing
    /// route is an error whose `is_not_found()` is true.
    pub fn route_del(&self, spec: &RouteSpec) -> Result<()> {
        self.check_families(spec, "delete")?;
        self.ack(del_request(spec), || format!("delete {spec}"))
    }

    /// `ip [-6] route show table T`: the routes of one family in one table ([`RT_TABLE_MAIN`]
    /// for the main table, 0 for every table).
    pub fn route_list(&self, family: IpFamily, table: u32) -> Result<Vec<Route>> {
        let replies = self.exchange(&list_request(family, table), || {
            format!("list {family:?} routes in table {table}")
        })?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewRoute(r) => route(r),
                _ => None,
            })
            .filter(|r| table == 0 || r.table == table)
            .collect())
    }

    fn check_families(&self, spec: &RouteSpec, verb: &str) -> Result<()> {
        let dst_v4 = spec.dst.is_ipv4();
        for (what, ip) in [("gateway", spec.gateway), ("source", spec.src)] {
            if ip.is_some_and(|ip| ip.is_ipv4() != dst_v4) {
                return Err(self.invalid(
                    format!("{verb} {spec}"),
                    format!("{what} family differs from the destination's"),
                ));
            }
        }
        Ok(())
    }
}
