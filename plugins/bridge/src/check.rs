//! CHECK: is the attachment still what ADD promised in `prevResult`?
//!
//! The reference's checks (bridge exists with its MAC and promisc state; pod veth with its MAC;
//! a host veth peered with it and enslaved to the bridge; addresses and routes), plus what it
//! skips: hairpin and isolation flags, VLANs, MTU, masquerade and spoof-check rules. IPAM CHECK
//! runs only when there is an IPAM plugin, so L2 attachments can be checked (the reference
//! fails them with "no plugin name provided").

use cni_attach::bridge::bridge_by_name;
use cni_attach::check::{check_addresses, check_routes, pod_interface};
use cni_attach::masq::{self, MasqOwner};
use cni_attach::{Context, NsConn};
use cni_netlink::{Link, LinkKind, MacAddr};
use cni_spec::{CniError, CniResult, Interface, Request, ipam_check};

use crate::config::{self, BridgeConf};
use crate::error::{Error, Result};
use crate::spoofchk::SpoofCheck;

/// The CHECK verb.
pub fn check(req: &Request) -> Result<(), CniError> {
    let conf = config::parse(&req.conf)?;
    let netns = req.require_netns()?;
    let ifname = req.require_ifname()?.as_str();
    let container_id = req.require_container_id()?.as_str();
    if req.conf.ipam_type().is_some() {
        ipam_check(req)?;
    }
    let prev = req
        .conf
        .prev_result
        .as_ref()
        .ok_or_else(|| Error::Check("Required prevResult missing".into()))?;
    let node = NsConn::current().map_err(Error::from)?;
    let pod = NsConn::open(netns).map_err(Error::from)?;

    let (pod_index, pod_entry) = pod_interface(prev, ifname, netns).map_err(Error::from)?;
    let bridge = check_bridge(&node, prev, &conf)?;
    let pod_link = check_pod_link(&pod, pod_entry, &conf)?;
    let host = find_host_veth(&node, prev, &bridge, &pod_link)?;
    check_port(&host, &conf)?;
    check_vlans(&node, &host, &conf)?;
    check_addresses(&pod, &pod_link, prev, pod_index).map_err(Error::from)?;
    check_routes(&pod, prev).map_err(Error::from)?;
    if let Some(backend) = conf.ip_masq {
        let owner = MasqOwner {
            network: &req.conf.name,
            ifname,
            container_id,
        };
        let addresses: Vec<_> = prev
            .ips
            .iter()
            .filter(|ip| ip.interface.is_none_or(|i| i == pod_index))
            .map(|ip| ip.address)
            .collect();
        masq::check(backend, &owner, &addresses).map_err(Error::from)?;
    }
    if conf.macspoofchk {
        let mac = pod_link.mac.unwrap_or_default();
        SpoofCheck::new(container_id, ifname).check(&host.name, mac)?;
    }
    Ok(())
}

fn same_mac(entry: &Interface, link: &Link) -> bool {
    let want = entry.mac.as_deref().and_then(|m| m.parse::<MacAddr>().ok());
    entry.mac.is_none() || want == link.mac
}

fn check_bridge(node: &NsConn, prev: &CniResult, conf: &BridgeConf) -> Result<Link> {
    let entry = prev
        .interfaces
        .iter()
        .find(|i| i.name == conf.bridge && i.sandbox.is_none())
        .ok_or_else(|| {
            Error::Check(format!(
                "CNI created bridge {} in host namespace was not found",
                conf.bridge
            ))
        })?;
    let bridge = bridge_by_name(node, &conf.bridge)?;
    if !same_mac(entry, &bridge) {
        return Err(Error::Check(format!(
            "Bridge interface {} Mac doesn't match: {}",
            conf.bridge,
            entry.mac.as_deref().unwrap_or_default()
        )));
    }
    if bridge.promisc != conf.promisc {
        return Err(Error::Check(format!(
            "Bridge interface {} configured Promisc Mode {} doesn't match current state: {}",
            conf.bridge, conf.promisc, bridge.promisc
        )));
    }
    Ok(bridge)
}

fn check_pod_link(pod: &NsConn, entry: &Interface, conf: &BridgeConf) -> Result<Link> {
    let link = pod
        .handle
        .link_get(entry.name.as_str())
        .context(|| format!("look up {:?} in {}", entry.name, pod.label()))?
        .ok_or_else(|| {
            Error::Check(format!(
                "CNI created interface in container {} not found",
                entry.name
            ))
        })?;
    if link.kind != Some(LinkKind::Veth) {
        return Err(Error::Check(format!(
            "Error: Container interface {} not of type veth",
            link.name
        )));
    }
    if !same_mac(entry, &link) {
        return Err(Error::Check(format!(
            "Interface {} Mac {} doesn't match container Mac: {}",
            link.name,
            entry.mac.as_deref().unwrap_or_default(),
            link.mac.map(|m| m.to_string()).unwrap_or_default()
        )));
    }
    check_mtu(&link, conf)?;
    Ok(link)
}

/// The host-side entry of `prev` that is the pod veth's peer and a port of `bridge`.
fn find_host_veth(node: &NsConn, prev: &CniResult, bridge: &Link, pod_link: &Link) -> Result<Link> {
    let candidates = prev
        .interfaces
        .iter()
        .filter(|i| i.sandbox.is_none() && i.name != bridge.name);
    for entry in candidates {
        let Some(link) = node
            .handle
            .link_get(entry.name.as_str())
            .context(|| format!("look up {:?}", entry.name))?
        else {
            continue;
        };
        let peers = link.kind == Some(LinkKind::Veth)
            && pod_link.link_index == Some(link.index)
            && link.link_index == Some(pod_link.index);
        if !peers {
            continue;
        }
        if link.master != Some(bridge.index) {
            return Err(Error::Check(format!(
                "host veth {} is not attached to bridge {}",
                link.name, bridge.name
            )));
        }
        if !same_mac(entry, &link) {
            return Err(Error::Check(format!(
                "Interface {} Mac doesn't match: {} not found",
                link.name,
                entry.mac.as_deref().unwrap_or_default()
            )));
        }
        return Ok(link);
    }
    Err(Error::Check(format!(
        "CNI veth created for bridge {} was not found",
        bridge.name
    )))
}

fn check_port(host: &Link, conf: &BridgeConf) -> Result<()> {
    let port = host
        .bridge_port
        .ok_or_else(|| Error::Check(format!("host veth {} is not a bridge port", host.name)))?;
    if port.hairpin != conf.hairpin {
        return Err(Error::Check(format!(
            "host veth {} hairpin mode is {}, configured {}",
            host.name, port.hairpin, conf.hairpin
        )));
    }
    if port.isolated != conf.port_isolation {
        return Err(Error::Check(format!(
            "host veth {} port isolation is {}, configured {}",
            host.name, port.isolated, conf.port_isolation
        )));
    }
    check_mtu(host, conf)
}

fn check_vlans(node: &NsConn, host: &Link, conf: &BridgeConf) -> Result<()> {
    if !conf.uses_vlans() {
        return Ok(());
    }
    let vlans = node
        .handle
        .bridge_vlan_show(host.index)
        .context(|| format!("list vlans of {}", host.name))?;
    if let Some(vid) = conf.vlan {
        if !vlans
            .iter()
            .any(|v| v.vid == vid.get() && v.pvid && v.untagged)
        {
            return Err(Error::Check(format!(
                "host veth {} lacks vlan {vid} as untagged PVID",
                host.name
            )));
        }
    }
    for vid in &conf.trunk {
        if !vlans.iter().any(|v| v.vid == vid.get()) {
            return Err(Error::Check(format!(
                "host veth {} lacks trunk vlan {vid}",
                host.name
            )));
        }
    }
    Ok(())
}

fn check_mtu(link: &Link, conf: &BridgeConf) -> Result<()> {
    match conf.mtu {
        Some(mtu) if link.mtu != mtu => Err(Error::Check(format!(
            "interface {} MTU is {}, configured {mtu}",
            link.name, link.mtu
        ))),
        _ => Ok(()),
    }
}
