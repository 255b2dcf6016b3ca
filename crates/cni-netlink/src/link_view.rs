//! [`Link`]: what the kernel says about a link, decoded from `RTM_NEWLINK` into plain fields.
//!
//! Only what the plugins read (ADD bookkeeping, CHECK, DEL) is kept; everything else in the
//! message is dropped. Kind-specific facts sit inside [`LinkKind`], so a veth cannot carry vxlan
//! data. This module only decodes; building requests is `link_create`/`link_ops`.

use std::net::IpAddr;

use netlink_packet_route::link::{
    BridgePortState, InfoBridge, InfoBridgePort, InfoData, InfoKind, InfoMacVlan, InfoPortData,
    InfoVxlan, LinkAttribute, LinkFlags, LinkInfo, LinkLayerType, LinkMessage, MacVlanMode, State,
};

use crate::types::{MacAddr, Vni};

/// A link as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Interface index (unique within its namespace only).
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// `IFLA_INFO_KIND` and what it implies; `None` for links without one (physical NICs, `lo`).
    pub kind: Option<LinkKind>,
    /// Index of the master (bridge) this link is enslaved to.
    pub master: Option<u32>,
    /// Hardware address, when the link has an Ethernet one.
    pub mac: Option<MacAddr>,
    /// MTU.
    pub mtu: u32,
    /// Administratively up (`IFF_UP`).
    pub admin_up: bool,
    /// Promiscuous mode requested (`IFF_PROMISC`).
    pub promisc: bool,
    /// RFC 2863 operational state.
    pub oper_state: OperState,
    /// `IFLA_LINK`: the peer's index for a veth, the lower device for a macvlan. When
    /// `link_netnsid` is set, the index is in that other namespace.
    pub link_index: Option<u32>,
    /// `IFLA_LINK_NETNSID`: the namespace (as an id local to this one) `link_index` lives in.
    pub link_netnsid: Option<i32>,
    /// Bridge-port settings, when the link is a bridge port.
    pub bridge_port: Option<BridgePortInfo>,
    /// Ethernet framing (`ARPHRD_ETHER`). The kernel takes only such links as a macvlan
    /// parent or a bridge port (EINVAL otherwise); `lo`, tunnels and wireguard are not.
    pub ethernet: bool,
}

/// The link types the suite creates, and a catch-all for the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkKind {
    /// A veth end.
    Veth,
    /// A Linux bridge.
    Bridge(BridgeInfo),
    /// A macvlan.
    Macvlan(MacvlanInfo),
    /// A VXLAN device.
    Vxlan(VxlanInfo),
    /// Any other kind, by its `IFLA_INFO_KIND` name.
    Other(String),
}

/// Bridge-level settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BridgeInfo {
    /// 802.1Q filtering on (`IFLA_BR_VLAN_FILTERING`).
    pub vlan_filtering: bool,
}

/// macvlan settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacvlanInfo {
    /// The mode.
    pub mode: MacvlanMode,
    /// In `source` mode, the allowed source MACs (`IFLA_MACVLAN_MACADDR_DATA`).
    pub source_macs: Vec<MacAddr>,
    /// Broadcast queue length, when the kernel reports it.
    pub bc_queue_len: Option<u32>,
}

/// macvlan modes (`ip-link(8)`). The kernel's default when none is given is `vepa`; the CNI
/// plugin's default is `bridge`, so callers always name one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MacvlanMode {
    /// No traffic between siblings.
    Private,
    /// Sibling traffic goes out to the switch and must hairpin back.
    Vepa,
    /// Siblings talk directly.
    Bridge,
    /// One child that takes over the parent (`passthru`).
    Passthru,
    /// Accept only frames from the listed source MACs.
    Source,
}

impl MacvlanMode {
    /// The mode's name as `ip link` and CNI configs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            MacvlanMode::Private => "private",
            MacvlanMode::Vepa => "vepa",
            MacvlanMode::Bridge => "bridge",
            MacvlanMode::Passthru => "passthru",
            MacvlanMode::Source => "source",
        }
    }

    pub(crate) fn to_netlink(self) -> MacVlanMode {
        match self {
            MacvlanMode::Private => MacVlanMode::Private,
            MacvlanMode::Vepa => MacVlanMode::Vepa,
            MacvlanMode::Bridge => MacVlanMode::Bridge,
            MacvlanMode::Passthru => MacVlanMode::Passthrough,
            MacvlanMode::Source => MacVlanMode::Source,
        }
    }

    fn from_netlink(mode: MacVlanMode) -> Option<MacvlanMode> {
        Some(match mode {
            MacVlanMode::Private => MacvlanMode::Private,
            MacVlanMode::Vepa => MacvlanMode::Vepa,
            MacVlanMode::Bridge => MacvlanMode::Bridge,
            MacVlanMode::Passthrough => MacvlanMode::Passthru,
            MacVlanMode::Source => MacvlanMode::Source,
            _ => return None,
        })
    }
}

impl std::str::FromStr for MacvlanMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "private" => MacvlanMode::Private,
            "vepa" => MacvlanMode::Vepa,
            "bridge" => MacvlanMode::Bridge,
            "passthru" => MacvlanMode::Passthru,
            "source" => MacvlanMode::Source,
            other => return Err(format!("unknown macvlan mode: {other:?}")),
        })
    }
}

/// VXLAN settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VxlanInfo {
    /// The VNI.
    pub vni: Vni,
    /// UDP destination port.
    pub port: u16,
    /// Local (source) address, if fixed.
    pub local: Option<IpAddr>,
    /// Multicast group or unicast default remote, if set.
    pub group: Option<IpAddr>,
    /// Underlay device index (`IFLA_VXLAN_LINK`).
    pub underlay: Option<u32>,
    /// Source-MAC learning.
    pub learning: bool,
    /// ARP/ND proxy.
    pub proxy: bool,
    /// L2 miss notifications.
    pub l2miss: bool,
    /// L3 miss notifications.
    pub l3miss: bool,
    /// Outer TTL (0 = inherit from the route).
    pub ttl: u8,
    /// IPv4 outer UDP checksums on transmit.
    pub udp_csum: bool,
}

/// A bridge port's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BridgePortInfo {
    /// STP state.
    pub state: PortState,
    /// Reflective relay: frames may leave by the port they came in on.
    pub hairpin: bool,
    /// Isolated ports talk only to non-isolated ports.
    pub isolated: bool,
    /// Source-MAC learning.
    pub learning: bool,
}

/// STP port state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortState {
    /// Disabled.
    Disabled,
    /// Listening.
    Listening,
    /// Learning.
    Learning,
    /// Forwarding.
    Forwarding,
    /// Blocking.
    Blocking,
    /// A value this crate does not name.
    Other(u8),
}

/// RFC 2863 operational state (`IFLA_OPERSTATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperState {
    /// Unknown (common for links without carrier logic, e.g. `lo`, bridges without ports).
    Unknown,
    /// Not present.
    NotPresent,
    /// Down.
    Down,
    /// Down because a lower layer (e.g. the veth peer) is down.
    LowerLayerDown,
    /// Testing.
    Testing,
    /// Dormant.
    Dormant,
    /// Up.
    Up,
    /// A value this crate does not name.
    Other(u8),
}

impl Link {
    pub(crate) fn from_message(msg: &LinkMessage) -> Link {
        let flags = msg.header.flags;
        let mut link = Link {
            index: msg.header.index,
            name: String::new(),
            kind: None,
            master: None,
            mac: None,
            mtu: 0,
            admin_up: flags.contains(LinkFlags::Up),
            promisc: flags.contains(LinkFlags::Promisc),
            oper_state: OperState::Unknown,
            link_index: None,
            link_netnsid: None,
            bridge_port: None,
            ethernet: msg.header.link_layer_type == LinkLayerType::Ether,
        };
        for attr in &msg.attributes {
            match attr {
                LinkAttribute::IfName(n) => link.name = n.clone(),
                LinkAttribute::Controller(m) if *m != 0 => link.master = Some(*m),
                LinkAttribute::Address(a) => link.mac = MacAddr::from_slice(a),
                LinkAttribute::Mtu(m) => link.mtu = *m,
                LinkAttribute::OperState(s) => link.oper_state = oper_state(*s),
                LinkAttribute::Link(l) => link.link_index = Some(*l),
                LinkAttribute::LinkNetNsId(n) => link.link_netnsid = Some(*n),
                LinkAttribute::LinkInfo(infos) => read_link_info(infos, &mut link),
                _ => {}
            }
        }
        link
    }
}

fn read_link_info(infos: &[LinkInfo], link: &mut Link) {
    for info in infos {
        match info {
            LinkInfo::Kind(kind) => link.kind = Some(kind_without_data(kind)),
            LinkInfo::Data(data) => {
                if let Some(kind) = kind_with_data(data) {
                    link.kind = Some(kind);
                }
            }
            LinkInfo::PortData(InfoPortData::BridgePort(port)) => {
                link.bridge_port = Some(bridge_port(port));
            }
            _ => {}
        }
    }
}

fn kind_without_data(kind: &InfoKind) -> LinkKind {
    match kind {
        InfoKind::Veth => LinkKind::Veth,
        InfoKind::Bridge => LinkKind::Bridge(BridgeInfo::default()),
        InfoKind::MacVlan => LinkKind::Macvlan(MacvlanInfo {
            mode: MacvlanMode::Vepa,
            source_macs: Vec::new(),
            bc_queue_len: None,
        }),
        other => LinkKind::Other(other.to_string()),
    }
}

fn kind_with_data(data: &InfoData) -> Option<LinkKind> {
    Some(match data {
        InfoData::Bridge(attrs) => LinkKind::Bridge(BridgeInfo {
            vlan_filtering: attrs
                .iter()
                .any(|a| matches!(a, InfoBridge::VlanFiltering(true))),
        }),
        InfoData::MacVlan(attrs) => LinkKind::Macvlan(macvlan(attrs)),
        InfoData::Vxlan(attrs) => LinkKind::Vxlan(vxlan(attrs)?),
        _ => return None,
    })
}

fn macvlan(attrs: &[InfoMacVlan]) -> MacvlanInfo {
    // The kernel's default mode when none was given at creation is VEPA.
    let mut info = MacvlanInfo {
        mode: MacvlanMode::Vepa,
        source_macs: Vec::new(),
        bc_queue_len: None,
    };
    for attr in attrs {
        match attr {
            InfoMacVlan::Mode(m) => info.mode = MacvlanMode::from_netlink(*m).unwrap_or(info.mode),
            InfoMacVlan::MacAddrData(list) => {
                info.source_macs = list
                    .iter()
                    .filter_map(|a| match a {
                        InfoMacVlan::MacAddr(mac) => Some(MacAddr(*mac)),
                        _ => None,
                    })
                    .collect();
            }
            InfoMacVlan::BcQueueLen(n) => info.bc_queue_len = Some(*n),
            _ => {}
        }
    }
    info
}

fn vxlan(attrs: &[InfoVxlan]) -> Option<VxlanInfo> {
    // Defaults are the kernel's for a device created without the attribute (vxlan-multus §2.2).
    let mut info = VxlanInfo {
        vni: Vni::new(0)?,
        port: 8472,
        local: None,
        group: None,
        underlay: None,
        learning: true,
        proxy: false,
        l2miss: false,
        l3miss: false,
        ttl: 0,
        udp_csum: true,
    };
    for attr in attrs {
        match attr {
            InfoVxlan::Id(id) => info.vni = Vni::new(*id)?,
            InfoVxlan::Port(p) => info.port = *p,
            InfoVxlan::Local(a) if !a.is_unspecified() => info.local = Some((*a).into()),
            InfoVxlan::Local6(a) if !a.is_unspecified() => info.local = Some((*a).into()),
            InfoVxlan::Group(a) if !a.is_unspecified() => info.group = Some((*a).into()),
            InfoVxlan::Group6(a) if !a.is_unspecified() => info.group = Some((*a).into()),
            InfoVxlan::Link(l) if *l != 0 => info.underlay = Some(*l),
            InfoVxlan::Learning(b) => info.learning = *b,
            InfoVxlan::Proxy(b) => info.proxy = *b,
            InfoVxlan::L2Miss(b) => info.l2miss = *b,
            InfoVxlan::L3Miss(b) => info.l3miss = *b,
            InfoVxlan::Ttl(t) => info.ttl = *t,
            InfoVxlan::UDPCsum(b) => info.udp_csum = *b,
            _ => {}
        }
    }
    Some(info)
}

fn bridge_port(attrs: &[InfoBridgePort]) -> BridgePortInfo {
    let mut info = BridgePortInfo {
        state: PortState::Disabled,
        hairpin: false,
        isolated: false,
        learning: true,
    };
    for attr in attrs {
        match attr {
            InfoBridgePort::State(s) => info.state = port_state(*s),
            InfoBridgePort::HairpinMode(b) => info.hairpin = *b,
            InfoBridgePort::Isolated(b) => info.isolated = *b,
            InfoBridgePort::Learning(b) => info.learning = *b,
            _ => {}
        }
    }
    info
}

fn port_state(s: BridgePortState) -> PortState {
    match s {
        BridgePortState::Disabled => PortState::Disabled,
        BridgePortState::Listening => PortState::Listening,
        BridgePortState::Learning => PortState::Learning,
        BridgePortState::Forwarding => PortState::Forwarding,
        BridgePortState::Blocking => PortState::Blocking,
        BridgePortState::Other(v) => PortState::Other(v),
        _ => PortState::Other(u8::MAX),
    }
}

fn oper_state(s: State) -> OperState {
    match s {
        State::Unknown => OperState::Unknown,
        State::NotPresent => OperState::NotPresent,
        State::Down => OperState::Down,
        State::LowerLayerDown => OperState::LowerLayerDown,
        State::Testing => OperState::Testing,
        State::Dormant => OperState::Dormant,
        State::Up => OperState::Up,
        State::Other(v) => OperState::Other(v),
        _ => OperState::Other(u8::MAX),
    }
}
