//! Bridge ports, port VLANs and forwarding databases, as the `bridge` tool reports them.

use std::net::IpAddr;

use serde::Deserialize;
use serde_json::Value;

use super::typed;
use crate::error::Result;
use crate::netns::Ns;

/// A bridge port (`bridge -j -d link show`).
#[derive(Debug, Clone, PartialEq)]
pub struct PortView {
    /// The port's interface name.
    pub name: String,
    /// The bridge it belongs to.
    pub master: String,
    /// STP port state: `forwarding`, `disabled`, `blocking`, ...
    pub state: String,
    /// Hairpin (reflective relay): frames may leave by the port they arrived on.
    pub hairpin: bool,
    /// Port isolation: isolated ports cannot talk to each other.
    pub isolated: bool,
    /// MAC learning on this port.
    pub learning: bool,
    /// Unknown-unicast flooding to this port.
    pub flood: bool,
    /// The whole JSON object.
    pub raw: Value,
}

#[derive(Deserialize)]
struct RawPort {
    ifname: String,
    master: Option<String>,
    #[serde(default)]
    state: String,
    #[serde(default)]
    hairpin: bool,
    #[serde(default)]
    isolated: bool,
    #[serde(default)]
    learning: bool,
    #[serde(default)]
    flood: bool,
}

/// One VLAN on a bridge port (`bridge -j vlan show`), ranges expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VlanView {
    /// VLAN id.
    pub vid: u16,
    /// Untagged ingress frames get this VLAN.
    pub pvid: bool,
    /// Egress frames leave untagged.
    pub untagged: bool,
}

#[derive(Deserialize)]
struct RawPortVlans {
    ifname: String,
    #[serde(default)]
    vlans: Vec<RawVlan>,
}

#[derive(Deserialize)]
struct RawVlan {
    vlan: u16,
    #[serde(rename = "vlanEnd")]
    vlan_end: Option<u16>,
    #[serde(default)]
    flags: Vec<String>,
}

/// One forwarding-database entry (`bridge -j fdb show`).
#[derive(Debug, Clone, PartialEq)]
pub struct FdbEntry {
    /// MAC address (all zeros for a vxlan head-end replication entry).
    pub mac: String,
    /// The device the entry is on (set when listing a whole bridge).
    pub dev: Option<String>,
    /// Remote VTEP for vxlan entries.
    pub dst: Option<IpAddr>,
    /// VNI for vxlan entries that override the device's.
    pub vni: Option<u32>,
    /// VLAN of a bridge entry.
    pub vlan: Option<u16>,
    /// The bridge, for entries in a bridge's FDB (`NTF_MASTER`).
    pub master: Option<String>,
    /// Entry in the device's own FDB (`NTF_SELF`), e.g. vxlan's.
    pub is_self: bool,
    /// `NUD_PERMANENT`: never ages out.
    pub permanent: bool,
    /// The state word as printed (`permanent`, `static`, `stale`, or empty for learned).
    pub state: String,
    /// The whole JSON object.
    pub raw: Value,
}

#[derive(Deserialize)]
struct RawFdb {
    mac: String,
    ifname: Option<String>,
    dst: Option<IpAddr>,
    vni: Option<u32>,
    vlan: Option<u16>,
    master: Option<String>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    state: String,
}

impl FdbEntry {
    fn from_raw(r: RawFdb, raw: Value) -> Self {
        Self {
            is_self: r.flags.iter().any(|f| f == "self"),
            permanent: r.state == "permanent",
            mac: r.mac,
            dev: r.ifname,
            dst: r.dst,
            vni: r.vni,
            vlan: r.vlan,
            master: r.master,
            state: r.state,
            raw,
        }
    }
}

pub(crate) fn parse_ports(cmd: &str, items: Vec<Value>) -> Result<Vec<PortView>> {
    Ok(typed::<RawPort>(cmd, items)?
        .into_iter()
        // `bridge link` also lists a bridge's own "self" entry in some setups; only ports
        // have a master.
        .filter_map(|(r, raw)| {
            Some(PortView {
                master: r.master?,
                name: r.ifname,
                state: r.state,
                hairpin: r.hairpin,
                isolated: r.isolated,
                learning: r.learning,
                flood: r.flood,
                raw,
            })
        })
        .collect())
}

pub(crate) fn parse_vlans(cmd: &str, port: &str, items: Vec<Value>) -> Result<Vec<VlanView>> {
    let mut out = Vec::new();
    for (r, _) in typed::<RawPortVlans>(cmd, items)? {
        if r.ifname != port {
            continue;
        }
        for v in r.vlans {
            let pvid = v.flags.iter().any(|f| f == "PVID");
            let untagged = v.flags.iter().any(|f| f == "Egress Untagged");
            for vid in v.vlan..=v.vlan_end.unwrap_or(v.vlan) {
                out.push(VlanView {
                    vid,
                    pvid,
                    untagged,
                });
            }
        }
    }
    Ok(out)
}

impl Ns {
    /// Every bridge port in the namespace.
    pub fn bridge_ports(&self) -> Result<Vec<PortView>> {
        let items: Vec<Value> = self.json("bridge", &["-d", "link", "show"])?;
        parse_ports(&format!("bridge -j -d link show in {}", self.name()), items)
    }

    /// The bridge port called `name`, or `None` if there is no such port.
    pub fn bridge_port(&self, name: &str) -> Result<Option<PortView>> {
        Ok(self.bridge_ports()?.into_iter().find(|p| p.name == name))
    }

    /// The VLANs on bridge port (or bridge) `port`; empty when VLAN filtering is off.
    pub fn vlans(&self, port: &str) -> Result<Vec<VlanView>> {
        let items: Vec<Value> = self.json("bridge", &["vlan", "show", "dev", port])?;
        parse_vlans(
            &format!("bridge -j vlan show in {}", self.name()),
            port,
            items,
        )
    }

    /// The FDB entries of device `dev` (a vxlan's own FDB, or a port's bridge entries).
    pub fn fdb(&self, dev: &str) -> Result<Vec<FdbEntry>> {
        self.fdb_query(&["fdb", "show", "dev", dev])
    }

    /// Every FDB entry of bridge `bridge` and its ports.
    pub fn bridge_fdb(&self, bridge: &str) -> Result<Vec<FdbEntry>> {
        self.fdb_query(&["fdb", "show", "br", bridge])
    }

    fn fdb_query(&self, args: &[&str]) -> Result<Vec<FdbEntry>> {
        let items: Vec<Value> = self.json("bridge", args)?;
        let cmd = format!("bridge -j {} in {}", args.join(" "), self.name());
        Ok(typed::<RawFdb>(&cmd, items)?
            .into_iter()
            .map(|(r, raw)| FdbEntry::from_raw(r, raw))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(json: &str) -> Vec<Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn port_flags() {
        let json = r#"[{"ifindex":5,"link":"vd","ifname":"vc","mtu":1500,"master":"br0","state":"disabled","hairpin":true,"learning":true,"flood":true,"isolated":false}]"#;
        let p = &parse_ports("t", items(json)).unwrap()[0];
        assert_eq!((p.name.as_str(), p.master.as_str()), ("vc", "br0"));
        assert!(p.hairpin && p.learning && p.flood && !p.isolated);
        assert_eq!(p.state, "disabled");
    }

    #[test]
    fn vlan_ranges_expand_and_flags_map() {
        // Shape per iproute2 bridge/vlan.c print_range / print_vlan_flags.
        let json = r#"[{"ifname":"vc","vlans":[{"vlan":1,"flags":["PVID","Egress Untagged"]},{"vlan":10,"vlanEnd":12}]},{"ifname":"other","vlans":[{"vlan":5}]}]"#;
        let v = parse_vlans("t", "vc", items(json)).unwrap();
        assert_eq!(v.len(), 4);
        assert!(v[0].pvid && v[0].untagged && v[0].vid == 1);
        assert_eq!(v[3].vid, 12);
        assert!(!v[3].pvid);
    }

    #[test]
    fn fdb_vxlan_and_bridge_entries() {
        let json = r#"[{"mac":"00:00:00:00:00:00","dst":"10.0.0.5","flags":["self"],"state":"permanent"},{"mac":"42:bd:bf:e8:2e:f6","ifname":"vc","flags":[],"master":"br0","state":"permanent"},{"mac":"02:00:00:00:00:09","ifname":"vc","vlan":10,"flags":[],"master":"br0"}]"#;
        let cmd = "t";
        let e: Vec<FdbEntry> = typed::<RawFdb>(cmd, items(json))
            .unwrap()
            .into_iter()
            .map(|(r, raw)| FdbEntry::from_raw(r, raw))
            .collect();
        assert!(e[0].is_self && e[0].permanent);
        assert_eq!(e[0].dst, Some("10.0.0.5".parse().unwrap()));
        assert_eq!(e[1].master.as_deref(), Some("br0"));
        assert!(!e[1].is_self);
        assert_eq!(e[2].vlan, Some(10));
        assert!(!e[2].permanent);
    }
}
