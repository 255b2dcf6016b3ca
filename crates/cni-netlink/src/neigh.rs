//! Static neighbours (`ip neigh`) and bridge/VXLAN forwarding entries (`bridge fdb`).
//!
//! FDB requests are exactly what `bridge fdb` sends (vxlan-multus §2.4, and the byte fixtures):
//! `AF_BRIDGE`, `NTF_SELF` (without it the kernel only consults the master bridge and answers
//! EOPNOTSUPP on a VXLAN that is not a port), state `NUD_NOARP|NUD_PERMANENT`, `NDA_LLADDR` then
//! `NDA_DST`. Head-end replication needs several all-zero-MAC entries that differ only in `dst`:
//! that is `NLM_F_APPEND`, which rtnetlink's neighbour request cannot send (research §3.8), and
//! deleting one of them needs `NDA_DST` in the delete, or the whole entry goes.

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::error::Result;
use crate::handle::Handle;
use crate::transport::Request;
use crate::types::MacAddr;

const NUD_NOARP: u16 = 0x40;
const NUD_PERMANENT: u16 = 0x80;

/// A neighbour (ARP/NDP) entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbour {
    /// The link.
    pub index: u32,
    /// The neighbour's IP.
    pub ip: IpAddr,
    /// Its MAC, once resolved.
    pub mac: Option<MacAddr>,
    /// Raw `NUD_*` state bits.
    pub state: u16,
}

impl Neighbour {
    /// A static entry that never expires.
    pub fn is_permanent(&self) -> bool {
        self.state & NUD_PERMANENT != 0
    }
}

/// A forwarding database entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdbEntry {
    /// The device the entry belongs to.
    pub index: u32,
    /// The MAC it matches (all zero: the VXLAN default/flood entry).
    pub mac: MacAddr,
    /// The remote VTEP, on a VXLAN device.
    pub dst: Option<IpAddr>,
    /// The VNI, when it differs from the device's.
    pub vni: Option<u32>,
    /// The UDP port, when it differs from the device's.
    pub port: Option<u16>,
    /// The VLAN, on a bridge.
    pub vlan: Option<u16>,
    /// The master bridge, for entries reported through the bridge.
    pub master: Option<u32>,
    /// The device's own entry (`self`) rather than the master bridge's.
    pub is_self: bool,
    /// Static (`permanent`).
    pub permanent: bool,
}

fn neighbour_address(ip: IpAddr) -> NeighbourAddress {
    match ip {
        IpAddr::V4(a) => NeighbourAddress::Inet(a),
        IpAddr::V6(a) => NeighbourAddress::Inet6(a),
    }
}

fn neigh_message(index: u32, ip: IpAddr) -> NeighbourMessage {
    let mut msg = NeighbourMessage::default();
    msg.header.family = match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    };
    msg.header.ifindex = index;
    // `ip neigh` starts every request from NUD_PERMANENT; the kernel ignores it on delete.
    msg.header.state = NeighbourState::Permanent;
    msg.attributes
        .push(NeighbourAttribute::Destination(neighbour_address(ip)));
    msg
}

/// A permanent entry; `flags` picks add (`CREATE|EXCL`) or replace (`CREATE|REPLACE`).
pub(crate) fn neigh_set_request(index: u32, ip: IpAddr, mac: MacAddr, flags: u16) -> Request {
    let mut msg = neigh_message(index, ip);
    msg.attributes
        .push(NeighbourAttribute::LinkLayerAddress(mac.octets().to_vec()));
    Request::ack(RouteNetlinkMessage::NewNeighbour(msg), flags)
}

pub(crate) fn neigh_del_request(index: u32, ip: IpAddr) -> Request {
    Request::ack(
        RouteNetlinkMessage::DelNeighbour(neigh_message(index, ip)),
        0,
    )
}

pub(crate) fn neigh_list_request() -> Request {
    Request::dump(RouteNetlinkMessage::GetNeighbour(
        NeighbourMessage::default(),
    ))
}

/// An FDB request; `flags` is `None` for a delete.
pub(crate) fn fdb_request(dev: u32, mac: MacAddr, dst: IpAddr, flags: Option<u16>) -> Request {
    let mut msg = NeighbourMessage::default();
    msg.header.family = AddressFamily::Bridge;
    msg.header.ifindex = dev;
    // `bridge fdb` assumes "self" and "permanent" and starts from NUD_NOARP (bridge/fdb.c).
    msg.header.state = NeighbourState::Other(NUD_NOARP | NUD_PERMANENT);
    msg.header.flags = NeighbourFlags::Own;
    msg.attributes
        .push(NeighbourAttribute::LinkLayerAddress(mac.octets().to_vec()));
    msg.attributes
        .push(NeighbourAttribute::Destination(neighbour_address(dst)));
    match flags {
        Some(flags) => Request::ack(RouteNetlinkMessage::NewNeighbour(msg), flags),
        None => Request::ack(RouteNetlinkMessage::DelNeighbour(msg), 0),
    }
}

pub(crate) fn fdb_list_request(dev: u32) -> Request {
    let mut msg = NeighbourMessage::default();
    msg.header.family = AddressFamily::Bridge;
    // A strict FDB dump takes the device from ndm_ifindex and filters on it in the kernel.
    msg.header.ifindex = dev;
    Request::dump(RouteNetlinkMessage::GetNeighbour(msg))
}

fn ip_from(a: &NeighbourAddress) -> Option<IpAddr> {
    match a {
        NeighbourAddress::Inet(v4) => Some((*v4).into()),
        NeighbourAddress::Inet6(v6) => Some((*v6).into()),
        // AF_BRIDGE entries come with a family-less NDA_DST; its length tells.
        NeighbourAddress::Other(bytes) => match bytes.len() {
            4 => <[u8; 4]>::try_from(bytes.as_slice()).ok().map(IpAddr::from),
            16 => <[u8; 16]>::try_from(bytes.as_slice())
                .ok()
                .map(IpAddr::from),
            _ => None,
        },
        _ => None,
    }
}

fn neighbour(msg: &NeighbourMessage) -> Option<Neighbour> {
    let mut ip = None;
    let mut mac = None;
    for attr in &msg.attributes {
        match attr {
            NeighbourAttribute::Destination(d) => ip = ip_from(d),
            NeighbourAttribute::LinkLayerAddress(l) => mac = MacAddr::from_slice(l),
            _ => {}
        }
    }
    Some(Neighbour {
        index: msg.header.ifindex,
        ip: ip?,
        mac,
        state: u16::from(msg.header.state),
    })
}

fn fdb_entry(msg: &NeighbourMessage) -> Option<FdbEntry> {
    let state = u16::from(msg.header.state);
    let mut e = FdbEntry {
        index: msg.header.ifindex,
        mac: MacAddr::ZERO,
        dst: None,
        vni: None,
        port: None,
        vlan: None,
        master: None,
        is_self: msg.header.flags.contains(NeighbourFlags::Own),
        permanent: state & NUD_PERMANENT != 0,
    };
    let mut has_mac = false;
    for attr in &msg.attributes {
        match attr {
            NeighbourAttribute::LinkLayerAddress(l) => {
                e.mac = MacAddr::from_slice(l)?;
                has_mac = true;
            }
            NeighbourAttribute::Destination(d) => e.dst = ip_from(d),
            NeighbourAttribute::Vni(v) => e.vni = Some(*v),
            NeighbourAttribute::Port(p) => e.port = Some(*p),
            NeighbourAttribute::Vlan(v) => e.vlan = Some(*v),
            NeighbourAttribute::Controller(m) => e.master = Some(*m),
            _ => {}
        }
    }
    has_mac.then_some(e)
}

impl Handle {
    /// `ip neigh add IP lladdr MAC dev X nud permanent`.
    pub fn neigh_add(&self, index: u32, ip: IpAddr, mac: MacAddr) -> Result<()> {
        let req = neigh_set_request(index, ip, mac, NLM_F_CREATE | NLM_F_EXCL);
        self.ack(req, || {
            format!("add neighbour {ip} lladdr {mac} on link {index}")
        })
    }

    /// `ip neigh replace IP lladdr MAC dev X nud permanent`.
    pub fn neigh_replace(&self, index: u32, ip: IpAddr, mac: MacAddr) -> Result<()> {
        let req = neigh_set_request(index, ip, mac, NLM_F_CREATE | NLM_F_REPLACE);
        self.ack(req, || {
            format!("replace neighbour {ip} lladdr {mac} on link {index}")
        })
    }

    /// `ip neigh del IP dev X`. A missing entry is an error whose `is_not_found()` is true.
    pub fn neigh_del(&self, index: u32, ip: IpAddr) -> Result<()> {
        self.ack(neigh_del_request(index, ip), || {
            format!("delete neighbour {ip} on link {index}")
        })
    }

    /// `ip neigh show [dev X]`, both families.
    pub fn neigh_list(&self, index: Option<u32>) -> Result<Vec<Neighbour>> {
        let replies = self.exchange(&neigh_list_request(), || "list neighbours".to_string())?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewNeighbour(n) => neighbour(n),
                _ => None,
            })
            .filter(|n| index.is_none_or(|i| n.index == i))
            .collect())
    }

    /// `bridge fdb append MAC dev X dst IP self permanent`: adds one more remote to the entry
    /// for `mac`. The kernel accepts this only for the all-zero and multicast MACs; for a unicast
    /// MAC it silently changes nothing (vxlan_fdb_update), so use [`Handle::fdb_replace`] there.
    pub fn fdb_append(&self, dev: u32, mac: MacAddr, dst: IpAddr) -> Result<()> {
        let req = fdb_request(dev, mac, dst, Some(NLM_F_CREATE | NLM_F_APPEND));
        self.ack(req, || format!("append fdb {mac} dst {dst} on link {dev}"))
    }

    /// `bridge fdb replace MAC dev X dst IP self permanent`: creates or re-points a unicast
    /// entry. The kernel refuses (EOPNOTSUPP) for all-zero or multicast MACs.
    pub fn fdb_replace(&self, dev: u32, mac: MacAddr, dst: IpAddr) -> Result<()> {
        let req = fdb_request(dev, mac, dst, Some(NLM_F_CREATE | NLM_F_REPLACE));
        self.ack(req, || format!("replace fdb {mac} dst {dst} on link {dev}"))
    }

    /// `bridge fdb del MAC dev X dst IP self`: removes only the remote `dst` of the entry.
    pub fn fdb_del(&self, dev: u32, mac: MacAddr, dst: IpAddr) -> Result<()> {
        self.ack(fdb_request(dev, mac, dst, None), || {
            format!("delete fdb {mac} dst {dst} on link {dev}")
        })
    }

    /// `bridge fdb show dev X`: one entry per (MAC, remote).
    pub fn fdb_list(&self, dev: u32) -> Result<Vec<FdbEntry>> {
        let replies =
            self.exchange(&fdb_list_request(dev), || format!("list fdb of link {dev}"))?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewNeighbour(n) => fdb_entry(n),
                _ => None,
            })
            .filter(|e| e.index == dev)
            .collect())
    }
}
