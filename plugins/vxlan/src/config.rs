//! The vxlan plugin's config keys, decoded with Go's JSON rules and validated into a
//! [`VxlanConf`] whose fields can no longer contradict each other. Pure: nothing here reads the
//! node; what needs the node (the underlay, its address and MTU) is `underlay`.
//!
//! | Key | Default | Meaning |
//! |---|---|---|
//! | `vni` | required | VXLAN network identifier, 0..=16777215 |
//! | `port` | **4789** (IANA) | UDP destination port; the kernel's own default, 8472, is *not* used |
//! | `dev` | default-route interface | underlay device |
//! | `local` | first global address of `dev` | source address of the tunnel |
//! | `remotes` | `[]` | peer VTEP addresses: unicast head-end replication |
//! | `group` | none | multicast group (instead of `remotes`) |
//! | `neighbors` | `[]` | `{ip, mac, remote}` of remote pods: static FDB and ARP/ND entries |
//! | `proxy` | `neighbors` given | answer ARP/ND from the VTEP's neighbour table |
//! | `learning` | on with `group`, else off | learn remote MACs from received frames |
//! | `ttl` | 0 (auto: route hop limit; 1 for multicast) | outer TTL |
//! | `udpCsum` | true | outer UDP checksums (IPv4 underlay) |
//! | `bridge` | `vxbr<vni>` | the node-side bridge of the network |
//! | `mtu` | underlay MTU − 50 (IPv4) / − 70 (IPv6) | VTEP and pod MTU |
//! | `hairpinMode`, `isGateway`, `isDefaultGateway`, `forceAddress`, `ipMasq`, `ipMasqBackend`, `mac` | as the bridge plugin | (one definition: `cni_attach::bridged::BridgedConf`) |
//!
//! The VTEP is always called `vxlan<vni>`: the kernel allows one device per (VNI, port) in a
//! namespace, so the name follows the VNI and a node cannot hold two networks with one VNI.

use std::collections::BTreeMap;
use std::net::IpAddr;

use cni_attach::bridged::BridgedConf;
use cni_attach::mac::parse_mac;
use cni_netlink::{IpFamily, MacAddr, Vni};
use cni_spec::{CniError, IfName, NetConf, gojson};
use serde::Deserialize;

use crate::error::Error;

/// The IANA-assigned VXLAN port, this plugin's default. The kernel's default (8472) predates
/// the assignment; flannel and Cilium use 8472, so a node running them keeps its port.
pub const DEFAULT_PORT: u16 = 4789;

/// A validated vxlan config.
#[derive(Debug, Clone, PartialEq)]
pub struct VxlanConf {
    /// The network's `name` (masquerade rules, the gateway MAC).
    pub network: String,
    /// The VNI.
    pub vni: Vni,
    /// UDP destination port.
    pub port: u16,
    /// The underlay device, when named.
    pub dev: Option<String>,
    /// The local tunnel address, when given.
    pub local: Option<IpAddr>,
    /// Where broadcast, unknown unicast and multicast frames go.
    pub flood: Flood,
    /// Remote pods programmed statically (`neighbors`), one per MAC.
    pub neighbors: Vec<StaticNeighbor>,
    /// ARP/ND proxy on the VTEP.
    pub proxy: bool,
    /// Source-MAC learning on the VTEP.
    pub learning: bool,
    /// Outer TTL; 0 is the kernel's "auto".
    pub ttl: u8,
    /// Outer UDP checksums.
    pub udp_csum: bool,
    /// The bridge's name.
    pub bridge: String,
    /// The VTEP's name, `vxlan<vni>`.
    pub vtep: String,
    /// The keys shared with the bridge plugin. Here `mtu` is an explicit MTU for the VTEP and
    /// the pods (by default it follows the underlay).
    pub bridged: BridgedConf,
}

/// Where flooded frames go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flood {
    /// One all-zero FDB entry per remote VTEP (head-end replication); empty floods nowhere.
    Remotes(Vec<IpAddr>),
    /// A multicast group, joined on the underlay device.
    Group(IpAddr),
}

/// A remote pod known in advance: its address, its MAC and the VTEP it sits behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticNeighbor {
    /// The pod's IP.
    pub ip: IpAddr,
    /// The pod's MAC.
    pub mac: MacAddr,
    /// The VTEP (node underlay address) it is behind.
    pub remote: IpAddr,
}

impl VxlanConf {
    /// The underlay family the config's addresses imply, if it names any.
    pub fn family(&self) -> Option<IpFamily> {
        let group = match &self.flood {
            Flood::Group(g) => Some(*g),
            Flood::Remotes(r) => r.first().copied(),
        };
        self.local
            .or(group)
            .or(self.neighbors.first().map(|n| n.remote))
            .map(|ip| IpFamily::of(&ip))
    }

    /// Every address the config names as a tunnel endpoint (local, group, remotes, neighbours'
    /// remotes), for the family check against the underlay.
    pub fn endpoints(&self) -> Vec<IpAddr> {
        let mut all: Vec<IpAddr> = self.local.into_iter().collect();
        match &self.flood {
            Flood::Group(g) => all.push(*g),
            Flood::Remotes(r) => all.extend(r),
        }
        all.extend(self.neighbors.iter().map(|n| n.remote));
        all
    }

    /// The bridge's MAC. With `isGateway` every node's bridge holds the same gateway address
    /// on one L2 segment, so they also share one MAC derived from the network (an anycast
    /// gateway: a pod's frames to it never leave its node, whichever node answered its ARP).
    /// Otherwise `None`: a random MAC, pinned at creation.
    pub fn gateway_mac(&self) -> Option<MacAddr> {
        if !self.bridged.is_gateway {
            return None;
        }
        let hex = cni_attach::hash::hash_with_prefix(
            10,
            "",
            &format!("vxlan-gateway/{}/{}", self.network, self.vni),
        );
        let mut octets = [0x02u8, 0, 0, 0, 0, 0];
        for (i, octet) in octets.iter_mut().skip(1).enumerate() {
            *octet = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(MacAddr(octets))
    }
}

#[derive(Deserialize, Default)]
struct Wire {
    vni: Option<i64>,
    #[serde(default)]
    port: i64,
    dev: Option<String>,
    local: Option<IpAddr>,
    group: Option<IpAddr>,
    remotes: Option<Vec<IpAddr>>,
    neighbors: Option<Vec<NeighborWire>>,
    proxy: Option<bool>,
    learning: Option<bool>,
    #[serde(default)]
    ttl: i64,
    #[serde(rename = "udpCsum")]
    udp_csum: Option<bool>,
    bridge: Option<String>,
}

#[derive(Deserialize)]
struct NeighborWire {
    ip: IpAddr,
    mac: String,
    remote: IpAddr,
}

/// Decodes and validates the plugin keys of `conf` (the shared keys are already parsed).
pub fn parse(conf: &NetConf) -> Result<VxlanConf, CniError> {
    let wire: Wire = gojson::from_value(&conf.raw)?;
    let bridged = BridgedConf::parse(conf)?;
    validate(wire, bridged, &conf.name).map_err(CniError::from)
}

fn bad(msg: impl Into<String>) -> Error {
    Error::Config(msg.into())
}

fn validate(w: Wire, bridged: BridgedConf, network: &str) -> Result<VxlanConf, Error> {
    let vni = w.vni.ok_or_else(|| bad("vni is required")).and_then(|v| {
        u32::try_from(v)
            .ok()
            .and_then(Vni::new)
            .ok_or_else(|| bad(format!("invalid vni {v} (must be 0..={})", Vni::MAX)))
    })?;
    let port = match w.port {
        0 => DEFAULT_PORT,
        p => u16::try_from(p).map_err(|_| bad(format!("invalid port {p} (must be 1..=65535)")))?,
    };
    let dev = w.dev.filter(|d| !d.is_empty());
    if let Some(d) = &dev {
        IfName::parse(d).map_err(|e| bad(format!("invalid dev {d:?}: {}", e.msg)))?;
    }
    let bridge = w
        .bridge
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| format!("vxbr{vni}"));
    IfName::parse(&bridge).map_err(|e| bad(format!("invalid bridge {bridge:?}: {}", e.msg)))?;
    let flood = flood(w.group, w.remotes.unwrap_or_default())?;
    let neighbors = neighbors(w.neighbors.unwrap_or_default())?;
    if let Some(local) = w.local {
        if !is_unicast(local) {
            return Err(bad(format!("local {local} must be a unicast address")));
        }
    }
    let conf = VxlanConf {
        network: network.to_owned(),
        vni,
        port,
        dev,
        local: w.local,
        proxy: w.proxy.unwrap_or(!neighbors.is_empty()),
        learning: w.learning.unwrap_or(matches!(flood, Flood::Group(_))),
        flood,
        neighbors,
        ttl: u8::try_from(w.ttl)
            .map_err(|_| bad(format!("invalid ttl {} (must be 0..=255)", w.ttl)))?,
        udp_csum: w.udp_csum.unwrap_or(true),
        bridge,
        vtep: format!("vxlan{vni}"),
        bridged,
    };
    check_families(&conf)?;
    Ok(conf)
}

fn is_unicast(ip: IpAddr) -> bool {
    !ip.is_unspecified() && !ip.is_multicast() && ip != IpAddr::from([255, 255, 255, 255])
}

fn flood(group: Option<IpAddr>, remotes: Vec<IpAddr>) -> Result<Flood, Error> {
    match group {
        Some(_) if !remotes.is_empty() => Err(bad(
            "group and remotes cannot both be set: each names where flooded frames go",
        )),
        Some(g) if !g.is_multicast() => Err(bad(format!("group {g} is not a multicast address"))),
        Some(g) => Ok(Flood::Group(g)),
        None => {
            if let Some(r) = remotes.iter().find(|r| !is_unicast(**r)) {
                return Err(bad(format!("remote {r} must be a unicast address")));
            }
            let mut unique = remotes;
            unique.sort();
            unique.dedup();
            Ok(Flood::Remotes(unique))
        }
    }
}

fn neighbors(items: Vec<NeighborWire>) -> Result<Vec<StaticNeighbor>, Error> {
    let mut by_mac: BTreeMap<MacAddr, StaticNeighbor> = BTreeMap::new();
    let mut by_ip: BTreeMap<IpAddr, MacAddr> = BTreeMap::new();
    for (i, n) in items.into_iter().enumerate() {
        let mac =
            parse_mac(&n.mac, "neighbors").map_err(|e| bad(format!("neighbors[{i}]: {e}")))?;
        if !is_unicast(n.remote) {
            return Err(bad(format!(
                "neighbors[{i}]: remote {} must be a unicast address",
                n.remote
            )));
        }
        let entry = StaticNeighbor {
            ip: n.ip,
            mac,
            remote: n.remote,
        };
        if by_ip.insert(n.ip, mac).is_some_and(|m| m != mac) {
            return Err(bad(format!(
                "neighbors[{i}]: {} is listed with two different MACs",
                n.ip
            )));
        }
        if let Some(prev) = by_mac.insert(mac, entry) {
            if prev.remote != entry.remote {
                return Err(bad(format!(
                    "neighbors[{i}]: {mac} is listed behind two remotes ({} and {})",
                    prev.remote, entry.remote
                )));
            }
        }
    }
    // One MAC may carry several IPs (dual stack): keep every (ip, mac) pair.
    let mut out: Vec<StaticNeighbor> = Vec::new();
    for (ip, mac) in by_ip {
        if let Some(n) = by_mac.get(&mac) {
            out.push(StaticNeighbor { ip, ..*n });
        }
    }
    Ok(out)
}

/// The kernel gives a VXLAN device one family: local, group and every remote must share it
/// (an FDB entry of the other family gets EAFNOSUPPORT), and IPv6 has no `udpCsum` switch.
fn check_families(conf: &VxlanConf) -> Result<(), Error> {
    let endpoints = conf.endpoints();
    let Some(first) = endpoints.first() else {
        return Ok(());
    };
    if let Some(other) = endpoints.iter().find(|e| e.is_ipv4() != first.is_ipv4()) {
        return Err(bad(format!(
            "{first} and {other} differ in IP family: a VXLAN device tunnels over one family"
        )));
    }
    udp_csum_allowed(conf, IpFamily::of(first))
}

/// `udpCsum: false` exists only for IPv4 outer headers (IPv6 UDP requires checksums).
pub fn udp_csum_allowed(conf: &VxlanConf, family: IpFamily) -> Result<(), Error> {
    if !conf.udp_csum && family == IpFamily::V6 {
        return Err(bad(
            "udpCsum false is only supported over an IPv4 underlay (IPv6 requires UDP checksums)",
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
