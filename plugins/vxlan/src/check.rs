//! CHECK: is the attachment still what ADD promised in `prevResult`, and is the network's node
//! side still what the config says?
//!
//! Node side: the VTEP has every configured attribute (VNI, port, local, underlay, group,
//! learning, proxy, checksums, TTL, MTU), is up and a port of the bridge; its FDB and neighbour
//! entries are exactly the configured peers. Pod side: the pod veth (MAC as promised, the
//! network's MTU), its host peer a port of the bridge with the configured hairpin flag, the
//! promised addresses and routes, the masquerade rules. IPAM CHECK runs when there is IPAM.

use cni_attach::bridge::bridge_by_name;
use cni_attach::check::{check_addresses, check_routes, pod_interface};
use cni_attach::masq::{self, MasqOwner};
use cni_attach::{Context, NsConn};
use cni_netlink::{Link, LinkKind, MacAddr};
use cni_spec::{CniError, Interface, Request, ipam_check};

use crate::config::{self, VxlanConf};
use crate::error::{Error, Result};
use crate::peers::{self, Desired};
use crate::underlay;
use crate::vtep::{self, VtepSpec};

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
    let underlay = underlay::resolve(&node, &conf)?;
    let spec = VtepSpec::new(&conf, &underlay);

    let bridge = bridge_by_name(&node, &conf.bridge).map_err(Error::from)?;
    let vtep = check_vtep(&node, &spec, &bridge)?;
    peers::check(&node, &vtep, &Desired::from_conf(&conf, underlay.local))?;

    let (pod_index, pod_entry) = pod_interface(prev, ifname, netns).map_err(Error::from)?;
    let pod_link = check_pod_link(&pod, pod_entry, spec.mtu)?;
    check_host_port(&node, &pod_link, &bridge, &conf)?;
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

fn same_mac(entry: &Interface, link: &Link) -> bool {
    let want = entry.mac.as_deref().and_then(|m| m.parse::<MacAddr>().ok());
    entry.mac.is_none() || want == link.mac
}

fn check_pod_link(pod: &NsConn, entry: &Interface, mtu: u32) -> Result<Link> {
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
    if link.mtu != mtu {
        return Err(Error::Check(format!(
            "interface {} MTU is {}, the network's is {mtu}",
            link.name, link.mtu
        )));
    }
    Ok(link)
}

/// The pod veth's node end: found through the veth's own peer index, a port of the bridge.
fn check_host_port(node: &NsConn, pod_link: &Link, bridge: &Link, conf: &VxlanConf) -> Result<()> {
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
    let port = host
        .bridge_port
        .ok_or_else(|| Error::Check(format!("host veth {} is not a bridge port", host.name)))?;
    if port.hairpin != conf.hairpin {
        return Err(Error::Check(format!(
            "host veth {} hairpin mode is {}, configured {}",
            host.name, port.hairpin, conf.hairpin
        )));
    }
    Ok(())
}
