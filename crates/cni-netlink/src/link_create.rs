//! Creating links: veth pairs, macvlans, VXLAN devices and bridges (`ip link add`).
//!
//! Links meant for a pod are created *directly in* the pod's namespace (`IFLA_NET_NS_FD`), never
//! created on the host and moved: for a veth the fd rides inside the peer's message (rtnetlink's
//! veth builder takes only a peer name, research §3.2), for macvlan and vxlan it is top-level
//! next to the parent/underlay index, which the kernel resolves in the socket's namespace.
//! Attribute order follows iproute2 so the byte fixtures in the tests compare exactly.
//!
//! Each request is built by a pure function (tested against iproute2's bytes) and sent by a
//! `Handle::link_add_*` method. Creation never brings a link up; callers do that when ready.

use std::net::IpAddr;
use std::os::fd::AsRawFd;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoMacVlan, InfoVeth, InfoVxlan, MacVlanMacAddressMode,
};
use rtnetlink::{LinkBridge, LinkMacVlan, LinkMessageBuilder, LinkUnspec, LinkVeth, LinkVxlan};

use crate::error::Result;
use crate::handle::Handle;
use crate::link_view::{Link, MacvlanMode};
use crate::netns::Netns;
use crate::transport::Request;
use crate::types::{MacAddr, Vni};

/// One end of a veth pair.
#[derive(Debug, Clone, Copy)]
pub struct VethEnd<'a> {
    /// Interface name.
    pub name: &'a str,
    /// MTU; `None` leaves the kernel default (1500). Give both ends the same value: a mismatch
    /// drops the larger frames silently.
    pub mtu: Option<u32>,
    /// MAC; `None` lets the kernel pick a random one.
    pub mac: Option<MacAddr>,
}

impl<'a> VethEnd<'a> {
    /// An end with only a name.
    pub fn named(name: &'a str) -> Self {
        VethEnd {
            name,
            mtu: None,
            mac: None,
        }
    }
}

/// `ip link add NAME type veth peer name PEER [netns NS]`.
#[derive(Debug, Clone, Copy)]
pub struct VethSpec<'a> {
    /// The end created in the socket's namespace.
    pub local: VethEnd<'a>,
    /// The other end.
    pub peer: VethEnd<'a>,
    /// Where the peer is created; `None` keeps it next to the local end.
    pub peer_netns: Option<&'a Netns>,
}

/// `ip link add link PARENT name NAME [netns NS] type macvlan mode MODE`.
#[derive(Debug, Clone)]
pub struct MacvlanSpec<'a> {
    /// Interface name (a temporary one when the caller renames afterwards).
    pub name: &'a str,
    /// Index of the parent, in the socket's namespace.
    pub parent: u32,
    /// The mode.
    pub mode: MacvlanMode,
    /// Allowed source MACs; only meaningful (and only accepted) in `Source` mode.
    pub source_macs: Vec<MacAddr>,
    /// MTU; must not exceed the parent's (the kernel answers EINVAL).
    pub mtu: Option<u32>,
    /// MAC; must be unicast (the kernel answers EADDRNOTAVAIL).
    pub mac: Option<MacAddr>,
    /// Broadcast queue length (`IFLA_MACVLAN_BC_QUEUE_LEN`).
    pub bc_queue_len: Option<u32>,
    /// Where the macvlan is created; `None` keeps it in the socket's namespace.
    pub netns: Option<&'a Netns>,
}

impl<'a> MacvlanSpec<'a> {
    /// A spec with no optional settings.
    pub fn new(name: &'a str, parent: u32, mode: MacvlanMode) -> Self {
        MacvlanSpec {
            name,
            parent,
            mode,
            source_macs: Vec::new(),
            mtu: None,
            mac: None,
            bc_queue_len: None,
            netns: None,
        }
    }
}

/// `ip link add NAME [netns NS] type vxlan id VNI ...`. `None`/`false` fields are not sent, so
/// the kernel defaults apply (vxlan-multus §2.2: port 8472, learning on, UDP checksum on).
#[derive(Debug, Clone, Copy)]
pub struct VxlanSpec<'a> {
    /// Interface name.
    pub name: &'a str,
    /// The VNI. One device per (VNI, port) per namespace: a second gets EEXIST.
    pub vni: Vni,
    /// UDP destination port (4789 is the IANA port; the kernel default is 8472).
    pub port: Option<u16>,
    /// Local (source) address; its family decides the device's family.
    pub local: Option<IpAddr>,
    /// Multicast group (needs `underlay`) or unicast default remote.
    pub group: Option<IpAddr>,
    /// Underlay device index, in the socket's namespace (`IFLA_VXLAN_LINK`).
    pub underlay: Option<u32>,
    /// Outer TTL.
    pub ttl: Option<u8>,
    /// Source-MAC learning.
    pub learning: Option<bool>,
    /// ARP/ND proxy from the device's neighbour table.
    pub proxy: bool,
    /// L2 miss notifications.
    pub l2miss: bool,
    /// L3 miss notifications.
    pub l3miss: bool,
    /// IPv4 outer UDP checksums.
    pub udp_csum: Option<bool>,
    /// MTU; the kernel defaults to the underlay's minus the encapsulation overhead.
    pub mtu: Option<u32>,
    /// MAC.
    pub mac: Option<MacAddr>,
    /// Where the device is created; `None` keeps it in the socket's namespace. The UDP socket
    /// (and the VNI-uniqueness check) stays in the socket's namespace either way.
    pub netns: Option<&'a Netns>,
}

impl<'a> VxlanSpec<'a> {
    /// A spec with no optional settings.
    pub fn new(name: &'a str, vni: Vni) -> Self {
        VxlanSpec {
            name,
            vni,
            port: None,
            local: None,
            group: None,
            underlay: None,
            ttl: None,
            learning: None,
            proxy: false,
            l2miss: false,
            l3miss: false,
            udp_csum: None,
            mtu: None,
            mac: None,
            netns: None,
        }
    }
}

/// `ip link add NAME type bridge [vlan_filtering 0|1]`.
#[derive(Debug, Clone, Copy)]
pub struct BridgeSpec<'a> {
    /// Interface name.
    pub name: &'a str,
    /// MTU.
    pub mtu: Option<u32>,
    /// MAC (otherwise the bridge follows its lowest port MAC, which changes as ports come and
    /// go; pin it after the first port is attached, research rust-anchors §1.7).
    pub mac: Option<MacAddr>,
    /// 802.1Q filtering. Needs `CONFIG_BRIDGE_VLAN_FILTERING`; without it the kernel answers
    /// EOPNOTSUPP.
    pub vlan_filtering: Option<bool>,
}

impl<'a> BridgeSpec<'a> {
    /// A spec with no optional settings.
    pub fn new(name: &'a str) -> Self {
        BridgeSpec {
            name,
            mtu: None,
            mac: None,
            vlan_filtering: None,
        }
    }
}

const CREATE: u16 = NLM_F_CREATE | NLM_F_EXCL;

/// Adds the attributes every kind shares, in iproute2's order: mtu, address, netns (then the
/// caller adds link and name).
fn common<T>(
    mut b: LinkMessageBuilder<T>,
    mtu: Option<u32>,
    mac: Option<MacAddr>,
    netns: Option<&Netns>,
) -> LinkMessageBuilder<T> {
    if let Some(mtu) = mtu {
        b = b.mtu(mtu);
    }
    if let Some(mac) = mac {
        b = b.address(mac.octets().to_vec());
    }
    if let Some(ns) = netns {
        b = b.setns_by_fd(ns.as_raw_fd());
    }
    b
}

pub(crate) fn veth_request(spec: &VethSpec) -> Request {
    let peer = common(
        LinkMessageBuilder::<LinkUnspec>::new(),
        spec.peer.mtu,
        spec.peer.mac,
        spec.peer_netns,
    )
    .name(spec.peer.name)
    .build();
    let msg = common(
        LinkMessageBuilder::<LinkVeth>::new_with_info_kind(InfoKind::Veth),
        spec.local.mtu,
        spec.local.mac,
        None,
    )
    .name(spec.local.name)
    .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
    .build();
    Request::ack(RouteNetlinkMessage::NewLink(msg), CREATE)
}

pub(crate) fn macvlan_request(spec: &MacvlanSpec) -> Request {
    let kind = LinkMessageBuilder::<LinkMacVlan>::new_with_info_kind(InfoKind::MacVlan);
    let mut b = common(kind, spec.mtu, spec.mac, spec.netns)
        .link(spec.parent)
        .name(spec.name);
    if !spec.source_macs.is_empty() {
        let list = spec
            .source_macs
            .iter()
            .map(|m| InfoMacVlan::MacAddr(m.octets()))
            .collect();
        b = b
            .append_info_data(InfoMacVlan::MacAddrMode(MacVlanMacAddressMode::Set))
            .append_info_data(InfoMacVlan::MacAddrData(list));
    }
    if let Some(n) = spec.bc_queue_len {
        b = b.append_info_data(InfoMacVlan::BcQueueLen(n));
    }
    let msg = b
        .append_info_data(InfoMacVlan::Mode(spec.mode.to_netlink()))
        .build();
    Request::ack(RouteNetlinkMessage::NewLink(msg), CREATE)
}

pub(crate) fn vxlan_request(spec: &VxlanSpec) -> Request {
    let kind = LinkMessageBuilder::<LinkVxlan>::new_with_info_kind(InfoKind::Vxlan);
    let b = common(kind, spec.mtu, spec.mac, spec.netns).name(spec.name);
    let mut data = Vec::new();
    // iproute2 emits these while parsing the command line, then the rest below.
    push_some(&mut data, spec.underlay.map(InfoVxlan::Link));
    push_some(&mut data, spec.ttl.map(InfoVxlan::Ttl));
    push_if(&mut data, spec.proxy, InfoVxlan::Proxy(true));
    push_if(&mut data, spec.l2miss, InfoVxlan::L2Miss(true));
    push_if(&mut data, spec.l3miss, InfoVxlan::L3Miss(true));
    push_some(&mut data, spec.udp_csum.map(InfoVxlan::UDPCsum));
    data.push(InfoVxlan::Id(spec.vni.get()));
    push_some(
        &mut data,
        spec.group.map(|g| match g {
            IpAddr::V4(a) => InfoVxlan::Group(a),
            IpAddr::V6(a) => InfoVxlan::Group6(a),
        }),
    );
    push_some(
        &mut data,
        spec.local.map(|l| match l {
            IpAddr::V4(a) => InfoVxlan::Local(a),
            IpAddr::V6(a) => InfoVxlan::Local6(a),
        }),
    );
    push_some(&mut data, spec.learning.map(InfoVxlan::Learning));
    push_some(&mut data, spec.port.map(InfoVxlan::Port));
    let msg = b.set_info_data(InfoData::Vxlan(data)).build();
    Request::ack(RouteNetlinkMessage::NewLink(msg), CREATE)
}

pub(crate) fn bridge_request(spec: &BridgeSpec) -> Request {
    let kind = LinkMessageBuilder::<LinkBridge>::new_with_info_kind(InfoKind::Bridge);
    let mut b = common(kind, spec.mtu, spec.mac, None).name(spec.name);
    if let Some(on) = spec.vlan_filtering {
        b = b.vlan_filtering(on);
    }
    Request::ack(RouteNetlinkMessage::NewLink(b.build()), CREATE)
}

fn push_some(data: &mut Vec<InfoVxlan>, attr: Option<InfoVxlan>) {
    data.extend(attr);
}

fn push_if(data: &mut Vec<InfoVxlan>, cond: bool, attr: InfoVxlan) {
    if cond {
        data.push(attr);
    }
}

impl Handle {
    /// Creates a veth pair; with `peer_netns` the peer is born in that namespace.
    pub fn link_add_veth(&self, spec: &VethSpec) -> Result<()> {
        self.ack(veth_request(spec), || {
            format!(
                "create veth {:?} with peer {:?}",
                spec.local.name, spec.peer.name
            )
        })
    }

    /// Creates a macvlan on `spec.parent`, in `spec.netns` if given. Prefer
    /// [`Handle::macvlan_add_renamed`] for a pod: it creates under a temporary name first.
    pub fn link_add_macvlan(&self, spec: &MacvlanSpec) -> Result<()> {
        let op = || format!("create macvlan {:?} on link {}", spec.name, spec.parent);
        if !spec.source_macs.is_empty() && spec.mode != MacvlanMode::Source {
            return Err(self.invalid(op(), "source MACs are only allowed in source mode"));
        }
        self.ack(macvlan_request(spec), op)
    }

    /// Creates a VXLAN device, in `spec.netns` if given.
    pub fn link_add_vxlan(&self, spec: &VxlanSpec) -> Result<()> {
        let op = || format!("create vxlan {:?} (vni {})", spec.name, spec.vni);
        if let (Some(l), Some(g)) = (spec.local, spec.group) {
            if l.is_ipv4() != g.is_ipv4() {
                return Err(self.invalid(op(), "local and group addresses differ in family"));
            }
        }
        self.ack(vxlan_request(spec), op)
    }

    /// Creates a bridge. Concurrent ADDs race to create a shared bridge: a loser gets an error
    /// whose [`crate::Error::is_exists`] is true and should look the bridge up instead.
    pub fn link_add_bridge(&self, spec: &BridgeSpec) -> Result<()> {
        self.ack(bridge_request(spec), || {
            format!("create bridge {:?}", spec.name)
        })
    }

    /// Creates a macvlan in `target`'s namespace under a temporary name, renames it to `name`
    /// there, and returns it. The temporary name is what the Go plugin does ("due to kernel bug
    /// ... it might collide with the name on the host", macvlan.go); if the rename fails the
    /// temporary link is deleted. `spec.name` is ignored and `spec.netns` must be `target_ns`.
    pub fn macvlan_add_renamed(
        &self,
        spec: &MacvlanSpec,
        target_ns: &Netns,
        target: &Handle,
        name: &str,
    ) -> Result<Link> {
        let temp = temporary_name("mv");
        let spec = MacvlanSpec {
            name: &temp,
            netns: Some(target_ns),
            ..spec.clone()
        };
        self.link_add_macvlan(&spec)?;
        let created = target.link_get(temp.as_str())?.ok_or_else(|| {
            target.invalid(
                format!("find new macvlan {temp:?}"),
                "it vanished right after creation",
            )
        })?;
        if let Err(e) = target.link_set_name(created.index, name) {
            // Best effort: the rename error is what the caller needs to see.
            let _ = target.link_del(created.index);
            return Err(e);
        }
        target.link_get(created.index)?.ok_or_else(|| {
            target.invalid(
                format!("find renamed macvlan {name:?}"),
                "it vanished after the rename",
            )
        })
    }
}

/// `PREFIX` plus 8 random hex digits (fits IFNAMSIZ with room to spare).
pub(crate) fn temporary_name(prefix: &str) -> String {
    let mut bytes = [0u8; 4];
    // SAFETY: getrandom writes at most `bytes.len()` bytes into the buffer we own.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n != bytes.len() as isize {
        // Entropy is unavailable only in very early boot; fall back to something unique-ish.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        bytes = (nanos ^ std::process::id()).to_ne_bytes();
    }
    format!("{prefix}{:08x}", u32::from_ne_bytes(bytes))
}
