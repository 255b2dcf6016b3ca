//! CHECK: is the attachment still what ADD promised in `prevResult`?
//!
//! The reference's checks (bridge exists with its MAC and promisc state; pod veth with its MAC;
//! a host veth peered with it and enslaved to the bridge; addresses and routes), plus what it
//! skips: hairpin and isolation flags, VLANs, MTU, masquerade and spoof-check rules. IPAM CHECK
//! runs only when there is an IPAM plugin, so L2 attachments can be checked (the reference
//! fails them with "no plugin name provided").

use cni_attach::bridge::bridge_by_name;
use cni_attach::bridged::check::{check_mtu, pod_config, pod_veth, port_flags, same_mac};
use cni_attach::check::prev_result;
use cni_attach::{Context, NsConn, PodTarget};
use cni_netlink::{Link, LinkKind};
use cni_spec::{CniError, CniResult, Request};

use crate::config::{self, BridgeConf};
use crate::error::{Error, Result};
use crate::port::PortSettings;
use crate::spoofchk::SpoofCheck;

/// The CHECK verb.
pub fn check(req: &Request) -> Result<(), CniError> {
    let conf = config::parse(&req.conf)?;
    let prev = prev_result(req)?;
    let target = PodTarget::open(req)?;
    let node = &target.node;

    let (pod_index, pod_link) = pod_veth(&target, prev, conf.bridged.mtu)?;
    let bridge = check_bridge(node, prev, &conf)?;
    let host = find_host_veth(node, prev, &bridge, &pod_link)?;
    port_flags(&host, PortSettings::pod(&conf).flags())?;
    check_mtu(&host, conf.bridged.mtu)?;
    check_vlans(node, &host, &conf)?;
    let owner = target.masq_owner(&req.conf.name);
    let masq = conf.bridged.ip_masq.map(|backend| (backend, &owner));
    pod_config(&target, &pod_link, prev, pod_index, masq)?;
    if conf.macspoofchk {
        let mac = pod_link.mac.unwrap_or_default();
        SpoofCheck::new(target.container_id, target.ifname).check(&host.name, mac)?;
    }
    Ok(())
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
