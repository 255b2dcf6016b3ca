//! The VTEP: the network's VXLAN device on the node, `vxlan<vni>`, a port of the network's
//! bridge. Created with every attribute explicit (VNI, port, underlay, local, learning, UDP
//! checksum, TTL, MTU, and a MAC generated before creation, so udev's `MACAddressPolicy` cannot
//! race us: flannel#1155), compared with the config on every ADD and recreated when it differs
//! in something the kernel cannot change in place (vxlan-multus.md §2.2; flannel's
//! `vxlanLinksIncompat`).
//!
//! Creating and raising the device, with the kernel's refusals in words, is in `create.rs`.
//!
//! Not here: the bridge and the lock (`network`), FDB and neighbour entries (`peers`).

mod create;

use std::net::IpAddr;

use cni_attach::{Context, NsConn};
use cni_netlink::{Link, LinkKind, MacAddr, Vni, VxlanInfo, VxlanSpec};

use crate::config::{Flood, VxlanConf};
use crate::error::{Error, Result};
use crate::underlay::Underlay;

use create::{create, must_get};
pub use create::{probe, random_mac};

/// Every attribute the VTEP is created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VtepSpec {
    /// Device name.
    pub name: String,
    /// VNI.
    pub vni: Vni,
    /// UDP destination port.
    pub port: u16,
    /// Local tunnel address.
    pub local: IpAddr,
    /// Multicast group.
    pub group: Option<IpAddr>,
    /// Underlay index.
    pub underlay: u32,
    /// Underlay name, for messages.
    pub underlay_name: String,
    /// Outer TTL (0 = auto).
    pub ttl: u8,
    /// Learning.
    pub learning: bool,
    /// ARP/ND proxy.
    pub proxy: bool,
    /// Outer UDP checksums.
    pub udp_csum: bool,
    /// MTU.
    pub mtu: u32,
}

impl VtepSpec {
    /// The VTEP `conf` asks for over `underlay`.
    pub fn new(conf: &VxlanConf, underlay: &Underlay) -> VtepSpec {
        VtepSpec {
            name: conf.vtep.clone(),
            vni: conf.vni,
            port: conf.port,
            local: underlay.local,
            group: match conf.flood {
                Flood::Group(g) => Some(g),
                Flood::Remotes(_) => None,
            },
            underlay: underlay.link.index,
            underlay_name: underlay.link.name.clone(),
            ttl: conf.ttl,
            learning: conf.learning,
            proxy: conf.proxy,
            udp_csum: conf.udp_csum,
            mtu: underlay.mtu,
        }
    }

    fn netlink<'a>(&self, name: &'a str, mac: MacAddr) -> VxlanSpec<'a> {
        VxlanSpec {
            port: Some(self.port),
            local: Some(self.local),
            group: self.group,
            underlay: Some(self.underlay),
            ttl: Some(self.ttl),
            learning: Some(self.learning),
            proxy: self.proxy,
            udp_csum: Some(self.udp_csum),
            mtu: Some(self.mtu),
            mac: Some(mac),
            ..VxlanSpec::new(name, self.vni)
        }
    }
}

/// What an existing device has that `want` does not, in words; empty when compatible. MTU is
/// not compared: it can be changed in place.
pub fn differences(have: &VxlanInfo, want: &VtepSpec) -> Vec<String> {
    let show = |ip: Option<IpAddr>| ip.map_or_else(|| "none".to_owned(), |ip| ip.to_string());
    let text = |v: &dyn std::fmt::Display| v.to_string();
    let underlay = have
        .underlay
        .map_or_else(|| "none".to_owned(), |i| i.to_string());
    let pairs = [
        ("vni", text(&have.vni), text(&want.vni)),
        ("port", text(&have.port), text(&want.port)),
        ("local", show(have.local), show(Some(want.local))),
        ("group", show(have.group), show(want.group)),
        ("underlay index", underlay, text(&want.underlay)),
        ("learning", text(&have.learning), text(&want.learning)),
        ("proxy", text(&have.proxy), text(&want.proxy)),
        ("udpcsum", text(&have.udp_csum), text(&want.udp_csum)),
        ("ttl", text(&have.ttl), text(&want.ttl)),
        ("l2miss", text(&have.l2miss), text(&false)),
        ("l3miss", text(&have.l3miss), text(&false)),
    ];
    pairs
        .into_iter()
        .filter(|(_, have, want)| have != want)
        .map(|(what, have, want)| format!("{what} {have} (want {want})"))
        .collect()
}

/// Makes `want` exist and be up as a port of `bridge`, replacing an incompatible device of the
/// same name. Call with the network's lock held. Returns the device.
pub fn ensure(node: &NsConn, want: &VtepSpec, bridge: &Link) -> Result<Link> {
    let existing = node
        .handle
        .link_get(want.name.as_str())
        .context(|| format!("look up VTEP {:?}", want.name))?;
    let mut created = false;
    let link = match existing {
        None => {
            created = true;
            create(node, want)?
        }
        Some(link) => match &link.kind {
            Some(LinkKind::Vxlan(info)) => {
                let diff = differences(info, want);
                if diff.is_empty() {
                    if link.mtu != want.mtu {
                        node.handle
                            .link_set_mtu(link.index, want.mtu)
                            .context(|| format!("set VTEP {:?} mtu {}", want.name, want.mtu))?;
                    }
                    link
                } else {
                    // VNI, port, local, group, underlay, proxy, checksums cannot change in
                    // place: recreate (flannel does the same on an incompatible device).
                    eprintln!(
                        "vxlan: recreating VTEP {:?}, incompatible: {}",
                        want.name,
                        diff.join(", ")
                    );
                    delete(node, &link)?;
                    created = true;
                    create(node, want)?
                }
            }
            _ => return Err(Error::NotAVtep(want.name.clone())),
        },
    };
    let outcome = enslave_and_up(node, want, &link, bridge);
    if outcome.is_err() && created {
        // A VTEP that cannot come up must not hold the VNI for the next attempt.
        let _ = node.handle.link_del(link.index);
    }
    outcome?;
    must_get(node, &want.name)
}

fn enslave_and_up(node: &NsConn, want: &VtepSpec, link: &Link, bridge: &Link) -> Result<()> {
    match link.master {
        Some(m) if m == bridge.index => {}
        Some(other) => {
            let other = node
                .handle
                .link_get(other)
                .ok()
                .flatten()
                .map_or_else(|| format!("link {other}"), |l| l.name);
            return Err(Error::VtepElsewhere {
                vtep: want.name.clone(),
                other,
                bridge: bridge.name.clone(),
                vni: want.vni.get(),
            });
        }
        None => node
            .handle
            .link_set_master(link.index, bridge.index)
            .context(|| format!("connect VTEP {:?} to bridge {:?}", want.name, bridge.name))?,
    }
    if link.admin_up {
        return Ok(());
    }
    create::set_up(node, want, link)
}

/// Deletes a VTEP; already gone is fine.
pub fn delete(node: &NsConn, link: &Link) -> Result<()> {
    match node.handle.link_del(link.index) {
        Err(e) if !e.is_not_found() => Err(cni_attach::Error::Netlink {
            context: format!("delete VTEP {:?}", link.name),
            source: e,
        }
        .into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A VTEP spec for unit tests: VNI 100 on port 4789 over `eth0` (index 2).
    pub(crate) fn spec() -> VtepSpec {
        VtepSpec {
            name: "vxlan100".into(),
            vni: Vni::new(100).unwrap(),
            port: 4789,
            local: "10.200.0.1".parse().unwrap(),
            group: None,
            underlay: 2,
            underlay_name: "eth0".into(),
            ttl: 0,
            learning: false,
            proxy: false,
            udp_csum: true,
            mtu: 1450,
        }
    }

    fn info(s: &VtepSpec) -> VxlanInfo {
        VxlanInfo {
            vni: s.vni,
            port: s.port,
            local: Some(s.local),
            group: s.group,
            underlay: Some(s.underlay),
            learning: s.learning,
            proxy: s.proxy,
            l2miss: false,
            l3miss: false,
            ttl: s.ttl,
            udp_csum: s.udp_csum,
        }
    }

    #[test]
    fn same_attributes_are_compatible() {
        let want = spec();
        assert!(differences(&info(&want), &want).is_empty());
    }

    #[test]
    fn every_fixed_attribute_is_compared() {
        let want = spec();
        let mut have = info(&want);
        have.port = 8472;
        have.learning = true;
        have.local = None;
        assert_eq!(
            differences(&have, &want),
            [
                "port 8472 (want 4789)",
                "local none (want 10.200.0.1)",
                "learning true (want false)"
            ]
        );
        let mut have = info(&want);
        have.group = Some("239.1.1.1".parse().unwrap());
        have.underlay = Some(7);
        have.proxy = true;
        have.udp_csum = false;
        have.ttl = 1;
        have.l2miss = true;
        assert_eq!(differences(&have, &want).len(), 6);
    }
}
