//! Links as `ip -j -d link show` reports them.

use std::net::IpAddr;

use serde::Deserialize;
use serde_json::Value;

use super::typed;
use crate::error::Result;
use crate::netns::Ns;

/// One network interface.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkView {
    /// Interface index inside its namespace.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// `info_kind`: `veth`, `bridge`, `macvlan`, `vxlan`; `None` for loopback and the like.
    pub kind: Option<String>,
    /// Name of the master device (the bridge a port belongs to).
    pub master: Option<String>,
    /// MAC address, lowercase `aa:bb:..`; `None` for devices without one.
    pub mac: Option<String>,
    /// MTU.
    pub mtu: u32,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// Carrier present (`IFF_LOWER_UP`).
    pub lower_up: bool,
    /// Operational state: `UP`, `DOWN`, `LOWERLAYERDOWN`, `UNKNOWN`.
    pub operstate: String,
    /// Promiscuity counter (bridge ports and passthru macvlans raise it).
    pub promiscuity: u32,
    /// The link this one sits on: a veth's peer, a macvlan's or vxlan's parent.
    pub lower: Option<Lower>,
    /// Kind-specific attributes.
    pub data: KindData,
    /// The whole JSON object, for anything not modelled here.
    pub raw: Value,
}

/// Where a link's lower device (`IFLA_LINK`) is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lower {
    /// In the same namespace, by name.
    Local(String),
    /// In another namespace: its index there, and that namespace's id as seen from here
    /// (`IFLA_LINK_NETNSID`), if the kernel reported one.
    Remote {
        /// Index of the lower device in its namespace.
        ifindex: u32,
        /// The peer namespace's nsid, relative to this namespace.
        netnsid: Option<i32>,
    },
}

/// Attributes of the kinds our plugins create.
#[derive(Debug, Clone, PartialEq)]
pub enum KindData {
    /// A bridge device.
    Bridge(BridgeInfo),
    /// A macvlan device.
    Macvlan(MacvlanInfo),
    /// A vxlan device.
    Vxlan(VxlanInfo),
    /// Any other kind, or none; see `raw`.
    Other,
}

/// Bridge device attributes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BridgeInfo {
    /// STP state (0 = off).
    #[serde(default)]
    pub stp_state: u32,
    /// Whether VLAN filtering is on. Note: kernels built without
    /// CONFIG_BRIDGE_VLAN_FILTERING refuse to turn it on (EOPNOTSUPP).
    #[serde(default, deserialize_with = "flag")]
    pub vlan_filtering: bool,
}

/// Macvlan attributes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MacvlanInfo {
    /// `bridge`, `private`, `vepa`, `passthru` or `source`.
    pub mode: String,
    /// The allowed source MACs of `source` mode (empty otherwise).
    #[serde(default, rename = "macaddr_data")]
    pub source_macs: Vec<String>,
}

/// Vxlan attributes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VxlanInfo {
    /// VNI.
    #[serde(rename = "id")]
    pub vni: u32,
    /// UDP destination port.
    #[serde(default)]
    pub port: u16,
    /// Local tunnel address (`local` or `local6`).
    #[serde(default, alias = "local6")]
    pub local: Option<IpAddr>,
    /// Multicast group (`group` or `group6`).
    #[serde(default, alias = "group6")]
    pub group: Option<IpAddr>,
    /// Unicast default remote (`remote` or `remote6`).
    #[serde(default, alias = "remote6")]
    pub remote: Option<IpAddr>,
    /// Underlay device name (`link`).
    #[serde(default, rename = "link")]
    pub dev: Option<String>,
    /// MAC learning on the VTEP.
    #[serde(default)]
    pub learning: bool,
    /// ARP/ND proxy (answers from the neighbour table).
    #[serde(default)]
    pub proxy: bool,
    /// Netlink notification on L2 misses.
    #[serde(default)]
    pub l2miss: bool,
    /// Netlink notification on L3 misses.
    #[serde(default)]
    pub l3miss: bool,
    /// FDB ageing time in seconds.
    #[serde(default)]
    pub ageing: u32,
}

/// iproute2 prints some booleans as 0/1 and some as false/true.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Bool(b) => Ok(b),
        Value::Number(n) => Ok(n.as_u64().unwrap_or(0) != 0),
        _ => Ok(false),
    }
}

#[derive(Deserialize)]
struct RawLink {
    ifindex: u32,
    ifname: String,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    mtu: u32,
    master: Option<String>,
    #[serde(default)]
    operstate: String,
    address: Option<String>,
    #[serde(default)]
    promiscuity: u32,
    link: Option<String>,
    link_index: Option<u32>,
    link_netnsid: Option<i32>,
    linkinfo: Option<RawLinkInfo>,
}

#[derive(Deserialize)]
struct RawLinkInfo {
    info_kind: Option<String>,
    info_data: Option<Value>,
}

impl LinkView {
    /// Builds a view from one object of `ip -j -d link show`.
    fn from_raw(r: RawLink, raw: Value) -> Result<Self, serde_json::Error> {
        let kind = r.linkinfo.as_ref().and_then(|i| i.info_kind.clone());
        let info = r.linkinfo.and_then(|i| i.info_data).unwrap_or(Value::Null);
        let data = match kind.as_deref() {
            Some("bridge") => KindData::Bridge(serde_json::from_value(info)?),
            Some("macvlan") => KindData::Macvlan(serde_json::from_value(info)?),
            Some("vxlan") => KindData::Vxlan(serde_json::from_value(info)?),
            _ => KindData::Other,
        };
        let lower = match (r.link, r.link_index) {
            (Some(name), _) => Some(Lower::Local(name)),
            (None, Some(ifindex)) => Some(Lower::Remote {
                ifindex,
                netnsid: r.link_netnsid,
            }),
            (None, None) => None,
        };
        let has = |f: &str| r.flags.iter().any(|x| x == f);
        Ok(Self {
            index: r.ifindex,
            up: has("UP"),
            lower_up: has("LOWER_UP"),
            name: r.ifname,
            kind,
            master: r.master,
            mac: r.address,
            mtu: r.mtu,
            operstate: r.operstate,
            promiscuity: r.promiscuity,
            lower,
            data,
            raw,
        })
    }

    /// Bridge attributes, if this is a bridge.
    pub fn bridge(&self) -> Option<&BridgeInfo> {
        match &self.data {
            KindData::Bridge(b) => Some(b),
            _ => None,
        }
    }

    /// Macvlan attributes, if this is a macvlan.
    pub fn macvlan(&self) -> Option<&MacvlanInfo> {
        match &self.data {
            KindData::Macvlan(m) => Some(m),
            _ => None,
        }
    }

    /// Vxlan attributes, if this is a vxlan.
    pub fn vxlan(&self) -> Option<&VxlanInfo> {
        match &self.data {
            KindData::Vxlan(v) => Some(v),
            _ => None,
        }
    }
}

pub(crate) fn parse_links(cmd: &str, items: Vec<Value>) -> Result<Vec<LinkView>> {
    typed::<RawLink>(cmd, items)?
        .into_iter()
        .map(|(r, raw)| {
            LinkView::from_raw(r, raw.clone()).map_err(|e| crate::SandboxError::Parse {
                cmd: cmd.to_owned(),
                detail: format!("{e}; object was: {raw}"),
            })
        })
        .collect()
}

impl Ns {
    /// Every link in the namespace (`ip -j -d link show`).
    pub fn links(&self) -> Result<Vec<LinkView>> {
        let items: Vec<Value> = self.json("ip", &["-d", "link", "show"])?;
        parse_links(&format!("ip -j -d link show in {}", self.name()), items)
    }

    /// The id this namespace knows `other` by (what [`Lower::Remote`] carries as `netnsid`),
    /// or `None` if the kernel has not assigned one (no link between them yet).
    pub fn nsid_of(&self, other: &Ns) -> Result<Option<i32>> {
        #[derive(Deserialize)]
        struct RawNsid {
            nsid: i32,
            name: Option<String>,
        }
        let items: Vec<Value> = self.json("ip", &["netns", "list-id"])?;
        let cmd = format!("ip -j netns list-id in {}", self.name());
        Ok(typed::<RawNsid>(&cmd, items)?
            .into_iter()
            .find(|(r, _)| r.name.as_deref() == Some(other.name()))
            .map(|(r, _)| r.nsid))
    }

    /// The link called `name`, or `None` if the namespace has none. Lists all links rather
    /// than asking for one, so "no such device" cannot be confused with a failing tool.
    pub fn link(&self, name: &str) -> Result<Option<LinkView>> {
        Ok(self.links()?.into_iter().find(|l| l.name == name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Vec<LinkView> {
        parse_links("fixture", serde_json::from_str(json).unwrap()).unwrap()
    }

    // Captured from iproute2 6.1 on kernel 6.18 (trimmed).
    const VETH_REMOTE: &str = r#"[{"ifindex":2,"link_index":2,"ifname":"va","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","address":"72:92:7e:3d:c3:07","link_netnsid":0,"promiscuity":0,"linkinfo":{"info_kind":"veth"}}]"#;
    const PORT: &str = r#"[{"ifindex":5,"link":"vd","ifname":"vc","flags":["NO-CARRIER","BROADCAST","MULTICAST","UP","M-DOWN"],"mtu":1500,"master":"br0","operstate":"LOWERLAYERDOWN","address":"42:bd:bf:e8:2e:f6","promiscuity":1,"linkinfo":{"info_kind":"veth","info_slave_kind":"bridge","info_slave_data":{"state":"disabled","hairpin":false}}}]"#;
    const MACVLAN: &str = r#"[{"ifindex":6,"link":"va","ifname":"mv0","flags":["BROADCAST","MULTICAST","M-DOWN"],"mtu":1500,"operstate":"DOWN","address":"d2:f9:0d:c4:5b:9f","linkinfo":{"info_kind":"macvlan","info_data":{"mode":"source","bcqueuelen":1000,"usedbcqueuelen":1000,"macaddr_count":2,"macaddr_data":["02:00:00:00:00:02","02:00:00:00:00:01"]}}}]"#;
    const VXLAN: &str = r#"[{"ifindex":7,"ifname":"vx0","flags":["BROADCAST","MULTICAST"],"mtu":1450,"operstate":"DOWN","address":"0e:3e:22:c2:2a:e6","linkinfo":{"info_kind":"vxlan","info_data":{"id":42,"local":"10.0.0.1","link":"va","port_range":{"low":0,"high":0},"port":4789,"learning":false,"proxy":true,"ttl":0,"df":"unset","ageing":300}}},{"ifindex":9,"ifname":"vx6","flags":[],"mtu":1430,"operstate":"DOWN","linkinfo":{"info_kind":"vxlan","info_data":{"id":44,"remote6":"fd00::9","local6":"fd00::2","port":4789,"learning":true}}}]"#;
    const BRIDGE: &str = r#"[{"ifindex":3,"ifname":"br0","flags":["NO-CARRIER","BROADCAST","MULTICAST","UP"],"mtu":1500,"operstate":"DOWN","address":"42:bd:bf:e8:2e:f6","linkinfo":{"info_kind":"bridge","info_data":{"forward_delay":1500,"stp_state":0,"vlan_filtering":0}}}]"#;

    #[test]
    fn veth_in_other_namespace_has_remote_lower() {
        let l = &parse(VETH_REMOTE)[0];
        assert_eq!(l.kind.as_deref(), Some("veth"));
        assert!(l.up && l.lower_up);
        assert_eq!(
            l.lower,
            Some(Lower::Remote {
                ifindex: 2,
                netnsid: Some(0)
            })
        );
    }

    #[test]
    fn bridge_port_has_master_and_local_peer() {
        let l = &parse(PORT)[0];
        assert_eq!(l.master.as_deref(), Some("br0"));
        assert_eq!(l.lower, Some(Lower::Local("vd".into())));
        assert!(l.up && !l.lower_up);
        assert_eq!(l.promiscuity, 1);
    }

    #[test]
    fn macvlan_source_macs() {
        let m = parse(MACVLAN)[0].macvlan().cloned().unwrap();
        assert_eq!(m.mode, "source");
        assert_eq!(m.source_macs.len(), 2);
    }

    #[test]
    fn vxlan_v4_and_v6() {
        let links = parse(VXLAN);
        let v4 = links[0].vxlan().unwrap();
        assert_eq!(v4.vni, 42);
        assert_eq!(v4.port, 4789);
        assert_eq!(v4.dev.as_deref(), Some("va"));
        assert!(v4.proxy && !v4.learning && !v4.l2miss);
        assert_eq!(v4.local, Some("10.0.0.1".parse().unwrap()));
        let v6 = links[1].vxlan().unwrap();
        assert_eq!(v6.remote, Some("fd00::9".parse().unwrap()));
        assert_eq!(v6.local, Some("fd00::2".parse().unwrap()));
        assert_eq!(v6.group, None);
    }

    #[test]
    fn bridge_info_numeric_flags() {
        let b = parse(BRIDGE)[0].bridge().cloned().unwrap();
        assert_eq!(b.stp_state, 0);
        assert!(!b.vlan_filtering);
    }
}
