//! Bridge-specific settings: port flags (`bridge link set`), per-port VLANs (`bridge vlan`), and
//! turning VLAN filtering on for an existing bridge.
//!
//! Port flags and bridge options live in `IFLA_INFO_SLAVE_DATA`/`IFLA_INFO_DATA`, which the
//! kernel only applies from `RTM_NEWLINK` (research rust-anchors §3.4; netavark hit the same with
//! `vlan_filtering`). VLANs use `AF_BRIDGE` `RTM_SETLINK`/`RTM_DELLINK` with `IFLA_AF_SPEC`,
//! byte for byte what `bridge vlan add|del` sends. Reading port flags back is part of
//! [`crate::Link::bridge_port`].

use netlink_packet_route::link::{
    AfSpecBridge, BridgeVlanInfoFlags, InfoKind, LinkAttribute, LinkExtentMask, LinkMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::{LinkBridge, LinkBridgePort, LinkBridgeVlan, LinkMessageBuilder};

use crate::error::Result;
use crate::handle::Handle;
use crate::transport::Request;
use crate::types::VlanId;

/// Port flags to change; `None` leaves a flag as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BridgePortSettings {
    /// Reflective relay (`hairpin on`): frames may leave by the port they came in on.
    pub hairpin: Option<bool>,
    /// Port isolation: isolated ports reach only non-isolated ports.
    pub isolated: Option<bool>,
    /// Source-MAC learning.
    pub learning: Option<bool>,
}

/// An inclusive run of VLAN ids, `first <= last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VlanRange {
    first: VlanId,
    last: VlanId,
}

impl VlanRange {
    /// The range `first..=last`, if it is not reversed.
    pub fn new(first: VlanId, last: VlanId) -> Option<VlanRange> {
        (first <= last).then_some(VlanRange { first, last })
    }

    /// A single VLAN.
    pub fn one(vid: VlanId) -> VlanRange {
        VlanRange {
            first: vid,
            last: vid,
        }
    }

    /// First id.
    pub fn first(&self) -> VlanId {
        self.first
    }

    /// Last id.
    pub fn last(&self) -> VlanId {
        self.last
    }
}

/// VLAN membership to add to a port. A PVID is a single VLAN by nature (the kernel refuses a
/// PVID range), so only `Single` can carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VlanSpec {
    /// One VLAN, optionally the port's PVID (untagged ingress lands in it).
    Single {
        /// The VLAN.
        vid: VlanId,
        /// Make it the PVID.
        pvid: bool,
        /// Send it untagged on egress.
        untagged: bool,
    },
    /// A run of VLANs, e.g. a trunk.
    Range {
        /// The VLANs.
        vids: VlanRange,
        /// Send them untagged on egress.
        untagged: bool,
    },
}

/// Whose VLAN table a request edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VlanTarget {
    /// A port, through its master bridge (the default of `bridge vlan`).
    Port,
    /// The bridge device itself (`bridge vlan ... self`), i.e. its own upper-side membership.
    BridgeSelf,
}

/// One VLAN entry as the kernel reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BridgeVlan {
    /// The VLAN id.
    pub vid: u16,
    /// It is the PVID.
    pub pvid: bool,
    /// It egresses untagged.
    pub untagged: bool,
}

/// The VLANs of one port (or of the bridge itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortVlans {
    /// The port's (or bridge's) index.
    pub index: u32,
    /// Its VLANs.
    pub vlans: Vec<BridgeVlan>,
}

pub(crate) fn port_set_request(index: u32, s: &BridgePortSettings) -> Request {
    let mut b = LinkBridgePort::new(index);
    if let Some(on) = s.hairpin {
        b = b.hairpin(on);
    }
    if let Some(on) = s.isolated {
        b = b.isolated(on);
    }
    if let Some(on) = s.learning {
        b = b.learning(on);
    }
    Request::ack(RouteNetlinkMessage::NewLink(b.build()), 0)
}

pub(crate) fn vlan_request(index: u32, spec: &VlanSpec, target: VlanTarget, add: bool) -> Request {
    let mut b = LinkBridgeVlan::new(index);
    if target == VlanTarget::BridgeSelf {
        // BRIDGE_FLAGS_SELF; iproute2 puts it before the VLAN entries.
        b = b.bridge_self();
    }
    let flag = |on: bool, f: BridgeVlanInfoFlags| if on { f } else { BridgeVlanInfoFlags::empty() };
    b = match *spec {
        VlanSpec::Single {
            vid,
            pvid,
            untagged,
        } => b.vlan(
            vid.get(),
            flag(pvid, BridgeVlanInfoFlags::Pvid) | flag(untagged, BridgeVlanInfoFlags::Untagged),
        ),
        VlanSpec::Range { vids, untagged } if vids.first == vids.last => b.vlan(
            vids.first.get(),
            flag(untagged, BridgeVlanInfoFlags::Untagged),
        ),
        VlanSpec::Range { vids, untagged } => {
            let f = flag(untagged, BridgeVlanInfoFlags::Untagged);
            b.vlan_range_start(vids.first.get(), f)
                .vlan_range_end(vids.last.get(), f)
        }
    };
    let msg = b.build();
    let msg = if add {
        RouteNetlinkMessage::SetLink(msg)
    } else {
        RouteNetlinkMessage::DelLink(msg)
    };
    Request::ack(msg, 0)
}

pub(crate) fn vlan_list_request() -> Request {
    let mut msg = LinkMessage::default();
    msg.header.interface_family = AddressFamily::Bridge;
    msg.attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::Brvlan]));
    Request::dump(RouteNetlinkMessage::GetLink(msg))
}

pub(crate) fn vlan_filtering_request(index: u32, on: bool) -> Request {
    let b = LinkMessageBuilder::<LinkBridge>::new_with_info_kind(InfoKind::Bridge)
        .index(index)
        .vlan_filtering(on);
    Request::ack(RouteNetlinkMessage::NewLink(b.build()), 0)
}

fn port_vlans(msg: &LinkMessage) -> PortVlans {
    let mut vlans = Vec::new();
    for attr in &msg.attributes {
        if let LinkAttribute::AfSpecBridge(specs) = attr {
            for spec in specs {
                if let AfSpecBridge::VlanInfo(info) = spec {
                    vlans.push(BridgeVlan {
                        vid: info.vid,
                        pvid: info.flags.contains(BridgeVlanInfoFlags::Pvid),
                        untagged: info.flags.contains(BridgeVlanInfoFlags::Untagged),
                    });
                }
            }
        }
    }
    PortVlans {
        index: msg.header.index,
        vlans,
    }
}

impl Handle {
    /// `bridge link set dev X hairpin on isolated off learning on`. The link must already be a
    /// bridge port (else EOPNOTSUPP).
    pub fn bridge_link_set(&self, index: u32, settings: &BridgePortSettings) -> Result<()> {
        self.ack(port_set_request(index, settings), || {
            format!("set bridge port {index} {settings:?}")
        })
    }

    /// `ip link set dev BR type bridge vlan_filtering 0|1` on an existing bridge.
    pub fn bridge_set_vlan_filtering(&self, index: u32, on: bool) -> Result<()> {
        self.ack(vlan_filtering_request(index, on), || {
            format!("set bridge {index} vlan_filtering {}", u8::from(on))
        })
    }

    /// `bridge vlan add dev X vid N [pvid] [untagged] [self]`.
    pub fn bridge_vlan_add(&self, index: u32, spec: &VlanSpec, target: VlanTarget) -> Result<()> {
        self.ack(vlan_request(index, spec, target, true), || {
            format!("add vlan {spec:?} to {target:?} {index}")
        })
    }

    /// `bridge vlan del dev X vid N[-M] [self]`.
    pub fn bridge_vlan_del(&self, index: u32, vids: VlanRange, target: VlanTarget) -> Result<()> {
        let spec = VlanSpec::Range {
            vids,
            untagged: false,
        };
        self.ack(vlan_request(index, &spec, target, false), || {
            format!(
                "delete vlans {}-{} from {target:?} {index}",
                vids.first, vids.last
            )
        })
    }

    /// `bridge vlan show`: the VLANs of every port and bridge that has any.
    pub fn bridge_vlan_list(&self) -> Result<Vec<PortVlans>> {
        let replies = self.exchange(&vlan_list_request(), || "list bridge vlans".to_string())?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(port_vlans(l)),
                _ => None,
            })
            .collect())
    }

    /// `bridge vlan show dev X`. Filtered here, not by the kernel: with a non-zero `ifi_index`
    /// the strict `AF_BRIDGE` dump of kernel 6.18 comes back empty rather than filtered (checked
    /// with a raw socket), and iproute2 filters in userspace too.
    pub fn bridge_vlan_show(&self, index: u32) -> Result<Vec<BridgeVlan>> {
        Ok(self
            .bridge_vlan_list()?
            .into_iter()
            .filter(|p| p.index == index)
            .flat_map(|p| p.vlans)
            .collect())
    }
}
