//! What a new link should look like: the specs `Handle::link_add_*` take.
//!
//! `None`/`false` fields are not sent, so the kernel's defaults apply. Namespaces are given as
//! [`Netns`] references, so a spec cannot name something that is not a network namespace.

use std::net::IpAddr;

use crate::link_view::MacvlanMode;
use crate::netns::Netns;
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
