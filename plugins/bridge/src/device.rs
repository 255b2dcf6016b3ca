//! The bridge device on the node: create or reuse it, give it (or the `<bridge>.<vlan>`
//! interface) the gateway address, pin its MAC.
//!
//! Concurrent ADDs race to create the bridge; the loser's `EEXIST` is success, so the race is
//! harmless (the reference relies on the same, having no lock). `mtu` and VLAN filtering apply
//! only to a bridge this ADD creates: changing an existing bridge under running pods is not
//! this plugin's call (cni #356). The bridge, its addresses and the VLAN gateway are never
//! removed on DEL, as in the reference: without a lock a DEL cannot know no ADD is about to
//! use them (plugins PR #283).

use cni_attach::{Context, NsConn};
use cni_netlink::{AddrOptions, BridgeSpec, Link, LinkKind, MacAddr, SysctlKey, VethEnd, VethSpec};
use ipnetwork::IpNetwork;

use crate::config::BridgeConf;
use crate::error::{Error, Result};
use crate::port;

/// Creates the bridge if missing, sets promiscuous mode if asked, checks the link really is a
/// bridge, turns off router advertisements on it and brings it up. Returns it.
pub fn ensure_bridge(node: &NsConn, conf: &BridgeConf) -> Result<Link> {
    let spec = BridgeSpec {
        mtu: conf.mtu,
        vlan_filtering: conf.uses_vlans().then_some(true),
        ..BridgeSpec::new(&conf.bridge)
    };
    match node.handle.link_add_bridge(&spec) {
        Ok(()) => {}
        Err(e) if e.is_exists() => {}
        Err(source) if conf.uses_vlans() && is_vlan_unsupported(&source) => {
            return Err(Error::VlanUnsupported {
                what: format!("create bridge {:?} with vlan_filtering", conf.bridge),
                source,
            });
        }
        Err(source) => {
            return Err(cni_attach::Error::Netlink {
                context: format!("could not add {:?}", conf.bridge),
                source,
            }
            .into());
        }
    }
    let link = bridge_by_name(node, &conf.bridge)?;
    if conf.promisc && !link.promisc {
        node.handle
            .link_set_promisc(link.index, true)
            .context(|| format!("could not set promiscuous mode on {:?}", conf.bridge))?;
    }
    // We own this link's routes; best effort as in the reference (no IPv6, no key).
    if let Ok(key) = SysctlKey::ipv6_conf(&conf.bridge, "accept_ra") {
        let _ = node.netns.sysctl_write(&key, "0");
    }
    node.handle
        .link_set_up(link.index)
        .context(|| format!("set {:?} up", conf.bridge))?;
    bridge_by_name(node, &conf.bridge)
}

/// The link called `name`, which must be a bridge.
pub fn bridge_by_name(node: &NsConn, name: &str) -> Result<Link> {
    let link = node
        .handle
        .link_get(name)
        .context(|| format!("could not lookup {name:?}"))?
        .ok_or_else(|| Error::Check(format!("could not lookup {name:?}: Link not found")))?;
    match link.kind {
        Some(LinkKind::Bridge(_)) => Ok(link),
        _ => Err(Error::NotABridge(name.to_owned())),
    }
}

/// The kernel answers VLAN requests with `EOPNOTSUPP` when built without bridge VLAN
/// filtering (this project's CI kernel is one such).
pub(crate) fn is_vlan_unsupported(e: &cni_netlink::Error) -> bool {
    e.errno() == Some(libc::EOPNOTSUPP)
}

/// Puts gateway `gw` on `link` (the reference's `ensureAddr`): nothing to do if present; an
/// IPv4 address of another value, or an overlapping IPv6 one, is removed with `forceAddress`
/// and an error otherwise (non-overlapping IPv6 addresses coexist). After adding, the link's
/// MAC is set to itself, which pins it: a bridge otherwise takes the lowest port MAC and
/// changes it as pods come and go, breaking the pods' neighbour entries for the gateway.
///
/// The gateway is added `nodad`: it is the subnet's router, and DAD would leave IPv6 pods
/// unable to reach it for about a second after the first ADD.
pub fn ensure_gateway_addr(node: &NsConn, link: &Link, gw: IpNetwork, force: bool) -> Result<()> {
    let present = node
        .handle
        .addr_list(Some(link.index))
        .context(|| format!("could not get list of IP addresses of {:?}", link.name))?;
    let same_family = present
        .iter()
        .filter(|a| a.network.is_ipv4() == gw.is_ipv4());
    let mut conflicts = Vec::new();
    for a in same_family {
        if a.network.ip() == gw.ip() && a.network.prefix() == gw.prefix() {
            return Ok(());
        }
        let overlaps = a.network.contains(gw.ip()) || gw.contains(a.network.ip());
        if gw.is_ipv4() || overlaps {
            conflicts.push(a.network);
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(Error::AddressConflict {
            link: link.name.clone(),
            wanted: gw,
        });
    }
    for old in conflicts {
        node.handle
            .addr_del(link.index, old)
            .context(|| format!("could not remove IP address {old} from {:?}", link.name))?;
    }
    match node
        .handle
        .addr_add(link.index, gw, AddrOptions { nodad: true })
    {
        Ok(()) => {}
        Err(e) if e.is_exists() => {}
        Err(source) => {
            return Err(cni_attach::Error::Netlink {
                context: format!("could not add IP address to {:?}", link.name),
                source,
            }
            .into());
        }
    }
    // Read it now: the MAC may have changed since `link` was fetched (ports joined). A bridge
    // without ports may still have none (all zero); there is nothing to pin then.
    let current = node
        .handle
        .link_get(link.index)
        .context(|| format!("look up {:?}", link.name))?
        .and_then(|l| l.mac)
        .filter(|m| *m != MacAddr::ZERO);
    if let Some(mac) = current {
        node.handle
            .link_set_address(link.index, mac)
            .context(|| format!("could not set {:?}'s mac", link.name))?;
    }
    Ok(())
}

/// The `<bridge>.<vlan>` gateway interface: a node-side veth whose peer is a bridge port
/// untagged in the VLAN, so the gateway address lives in the pods' VLAN. Created once and
/// reused; returned up.
pub fn ensure_vlan_gateway(node: &NsConn, bridge: &Link, conf: &BridgeConf) -> Result<Link> {
    let Some(name) = conf.vlan_gateway_name() else {
        return Err(Error::Config("a VLAN gateway needs a vlan".into()));
    };
    if let Some(link) = node
        .handle
        .link_get(name.as_str())
        .context(|| format!("failed to find interface {name:?}"))?
    {
        return Ok(link);
    }
    let peer = cni_attach::veth::random_veth_name()?;
    let mtu = Some(bridge.mtu);
    let spec = VethSpec {
        local: VethEnd {
            name: &name,
            mtu,
            mac: None,
        },
        peer: VethEnd {
            name: &peer,
            mtu,
            mac: None,
        },
        peer_netns: None,
    };
    match node.handle.link_add_veth(&spec) {
        Ok(()) => {}
        // Another ADD made it a moment ago.
        Err(e) if e.is_exists() => {}
        Err(source) => {
            return Err(cni_attach::Error::Netlink {
                context: format!("failed to create vlan gateway {name:?}"),
                source,
            }
            .into());
        }
    }
    let gateway = must_get(node, &name)?;
    if let Some(peer_link) = node
        .handle
        .link_get(peer.as_str())
        .context(|| format!("look up {peer:?}"))?
    {
        port::attach_port(
            node,
            bridge,
            &peer_link,
            &port::PortSettings::vlan_gateway(conf),
        )?;
        node.handle
            .link_set_up(peer_link.index)
            .context(|| format!("set {peer:?} up"))?;
    }
    node.handle
        .link_set_up(gateway.index)
        .context(|| format!("failed to up {name:?}"))?;
    must_get(node, &name)
}

fn must_get(node: &NsConn, name: &str) -> Result<Link> {
    node.handle
        .link_get(name)
        .context(|| format!("failed to lookup {name:?}"))?
        .ok_or_else(|| Error::Check(format!("failed to lookup {name:?}: Link not found")))
}
