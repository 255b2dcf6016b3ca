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
use crate::link_spec::{BridgeSpec, MacvlanSpec, VethSpec, VxlanSpec};
use crate::link_view::{Link, MacvlanMode};
use crate::netns::Netns;
use crate::transport::Request;
use crate::types::MacAddr;

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
    data.extend(spec.underlay.map(InfoVxlan::Link));
    data.extend(spec.ttl.map(InfoVxlan::Ttl));
    data.extend(spec.proxy.then_some(InfoVxlan::Proxy(true)));
    data.extend(spec.l2miss.then_some(InfoVxlan::L2Miss(true)));
    data.extend(spec.l3miss.then_some(InfoVxlan::L3Miss(true)));
    data.extend(spec.udp_csum.map(InfoVxlan::UDPCsum));
    data.push(InfoVxlan::Id(spec.vni.get()));
    data.extend(spec.group.map(|g| match g {
        IpAddr::V4(a) => InfoVxlan::Group(a),
        IpAddr::V6(a) => InfoVxlan::Group6(a),
    }));
    data.extend(spec.local.map(|l| match l {
        IpAddr::V4(a) => InfoVxlan::Local(a),
        IpAddr::V6(a) => InfoVxlan::Local6(a),
    }));
    data.extend(spec.learning.map(InfoVxlan::Learning));
    data.extend(spec.port.map(InfoVxlan::Port));
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
    /// temporary link is deleted. `spec.name` and `spec.netns` are replaced by the temporary
    /// name and `target_ns`.
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
