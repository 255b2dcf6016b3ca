//! The bridge device on the node as this plugin wants it, and the `<bridge>.<vlan>` gateway.
//!
//! Creating, checking and addressing the bridge is shared with the vxlan plugin
//! (`cni_attach::bridge`); what is this plugin's own is turning a VLAN-filtering refusal into
//! a clear error and the VLAN gateway. The bridge, its addresses and the VLAN gateway are never
//! removed on DEL, as in the reference: without a lock a DEL cannot know no ADD is about to use
//! them (plugins PR #283).

use cni_attach::bridge::BridgeDevice;
use cni_attach::{Context, NsConn};
use cni_netlink::{Link, VethEnd, VethSpec};

use crate::config::BridgeConf;
use crate::error::{Error, Result};
use crate::port;

/// Creates the bridge if missing (`mtu` and VLAN filtering only then), sets promiscuous mode
/// if asked, checks the link really is a bridge, turns off router advertisements on it and
/// brings it up. Returns it.
pub fn ensure_bridge(node: &NsConn, conf: &BridgeConf) -> Result<Link> {
    let want = BridgeDevice {
        mtu: conf.bridged.mtu,
        vlan_filtering: conf.uses_vlans().then_some(true),
        promisc: conf.promisc,
        ..BridgeDevice::named(&conf.bridge)
    };
    cni_attach::bridge::ensure_bridge(node, &want).map_err(|e| match e {
        cni_attach::Error::Netlink { source, .. }
            if conf.uses_vlans() && is_vlan_unsupported(&source) =>
        {
            Error::VlanUnsupported {
                what: format!("create bridge {:?} with vlan_filtering", conf.bridge),
                source,
            }
        }
        other => other.into(),
    })
}

/// The kernel answers VLAN requests with `EOPNOTSUPP` when built without bridge VLAN
/// filtering (this project's CI kernel is one such).
pub(crate) fn is_vlan_unsupported(e: &cni_netlink::Error) -> bool {
    e.errno() == Some(libc::EOPNOTSUPP)
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
