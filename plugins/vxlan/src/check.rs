//! CHECK: is the attachment still what ADD promised in `prevResult`, and is the network's node
//! side still what the config says?
//!
//! Node side: the VTEP has every configured attribute (VNI, port, local, underlay, group,
//! learning, proxy, checksums, TTL, MTU), is up and a port of the bridge; its FDB and neighbour
//! entries are exactly the configured peers. Pod side: the pod veth (MAC as promised, the
//! network's MTU), its host peer a port of the bridge with the configured hairpin flag, the
//! promised addresses and routes, the masquerade rules. IPAM CHECK runs when there is IPAM.

use cni_attach::bridge::bridge_by_name;
use cni_attach::bridged::check::{pod_config, pod_veth, port_flags};
use cni_attach::check::prev_result;
use cni_attach::{Context, NsConn, PodTarget};
use cni_netlink::{Link, LinkKind};
use cni_spec::{CniError, Request};

use crate::config;
use crate::error::{Error, Result};
use crate::network;
use crate::peers::{self, Desired};
use crate::underlay;
use crate::vtep::{self, VtepSpec};

/// The CHECK verb.
pub fn check(req: &Request) -> Result<(), CniError> {
    let conf = config::parse(&req.conf)?;
    let prev = prev_result(req)?;
    let target = PodTarget::open(req)?;
    let node = &target.node;
    let underlay = underlay::resolve(node, &conf)?;
    let spec = VtepSpec::new(&conf, &underlay);

    let bridge = bridge_by_name(node, &conf.bridge)?;
    let vtep = check_vtep(node, &spec, &bridge)?;
    peers::check(node, &vtep, &Desired::from_conf(&conf, underlay.local))?;

    let (pod_index, pod_link) = pod_veth(&target, prev, Some(spec.mtu))?;
    let host = host_end(node, &pod_link, &bridge)?;
    port_flags(&host, network::port_flags(&conf))?;
    let owner = target.masq_owner(&req.conf.name);
    let masq = conf.bridged.ip_masq.map(|backend| (backend, &owner));
    pod_config(&target, &pod_link, prev, pod_index, masq)?;
    Ok(())
}

fn check_vtep(node: &NsConn, spec: &VtepSpec, bridge: &Link) -> Result<Link> {
    let link = node
        .handle
        .link_get(spec.name.as_str())
        .context(|| format!("look up VTEP {:?}", spec.name))?
        .ok_or_else(|| Error::Check(format!("VTEP {} not found", spec.name)))?;
    let Some(LinkKind::Vxlan(info)) = &link.kind else {
        return Err(Error::NotAVtep(spec.name.clone()));
    };
    let diff = vtep::differences(info, spec);
    if !diff.is_empty() {
        return Err(Error::Check(format!(
            "VTEP {} differs from the config: {}",
            spec.name,
            diff.join(", ")
        )));
    }
    if link.mtu != spec.mtu {
        return Err(Error::Check(format!(
            "VTEP {} MTU is {}, configured {}",
            spec.name, link.mtu, spec.mtu
        )));
    }
    if link.master != Some(bridge.index) {
        return Err(Error::Check(format!(
            "VTEP {} is not a port of bridge {}",
            spec.name, bridge.name
        )));
    }
    if !link.admin_up {
        return Err(Error::Check(format!("VTEP {} is down", spec.name)));
    }
    Ok(link)
}

/// The pod veth's node end, found through the veth's own peer index: a port of the bridge.
fn host_end(node: &NsConn, pod_link: &Link, bridge: &Link) -> Result<Link> {
    let host = match pod_link.link_index {
        Some(index) => node
            .handle
            .link_get(index)
            .context(|| format!("look up the peer of {:?}", pod_link.name))?,
        None => None,
    };
    let host = host
        .filter(|h| h.kind == Some(LinkKind::Veth) && h.link_index == Some(pod_link.index))
        .ok_or_else(|| {
            Error::Check(format!(
                "the node end of {:?} was not found on the node",
                pod_link.name
            ))
        })?;
    if host.master != Some(bridge.index) {
        return Err(Error::Check(format!(
            "host veth {} is not attached to bridge {}",
            host.name, bridge.name
        )));
    }
    Ok(host)
}
