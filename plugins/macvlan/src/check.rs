//! CHECK: is the attachment in `prevResult` still what ADD made? IPAM is asked first, then the
//! pod's link (a macvlan, in the configured mode, with the promised MAC, on the master), its
//! addresses and routes, and with a host shim the node's routes to the pod.
//!
//! Messages follow the reference's where it has one (`container macvlan mode %s does not match
//! expected value: %s`).

use std::net::IpAddr;

use cni_attach::check::{check_addresses, check_routes, pod_interface, prev_result};
use cni_attach::{NsConn, PodTarget, pod_addresses};
use cni_netlink::{Link, LinkKind, MacvlanInfo};
use cni_spec::Request;
use ipnetwork::IpNetwork;

use crate::add::KNOWN_ARGS;
use crate::config::MacvlanConf;
use crate::error::{Context, Error, Result};
use crate::master;
use crate::shim::{self, Shim};

pub(crate) fn check(req: &Request) -> Result<()> {
    let conf = MacvlanConf::from_value(&req.conf.raw)?;
    req.args.ensure_known(&KNOWN_ARGS)?;
    let target = PodTarget::open(req)?;
    let (ifname, node, pod) = (target.ifname, &target.node, &target.pod);
    let side = if conf.link_in_container { pod } else { node };
    let master = master::resolve(&side.handle, conf.master.as_ref())?;

    let prev = prev_result(req)?;
    let (index, iface) = pod_interface(prev, ifname, target.netns)?;

    let link = pod
        .handle
        .link_get(ifname)
        .context(|| format!("look up {ifname:?} in {}", pod.label()))?
        .ok_or_else(|| Error::Check(format!("failed to find container link {ifname:?}")))?;
    let Some(LinkKind::Macvlan(info)) = &link.kind else {
        return Err(Error::Check(format!(
            "container link {ifname:?} is not of type macvlan"
        )));
    };
    check_mode(&conf, info)?;
    check_mac(&link, iface.mac.as_deref())?;
    check_master(&link, &master, conf.link_in_container)?;
    check_addresses(pod, &link, prev, index)?;
    check_routes(pod, prev)?;

    if let Some(shim_conf) = &conf.host_shim {
        let addresses = pod_addresses(prev, index);
        if !addresses.is_empty() {
            check_return_routes(pod, &link, &shim::pod_return_routes(shim_conf, &addresses))?;
            let ips: Vec<IpAddr> = addresses.iter().map(IpNetwork::ip).collect();
            Shim::new(&node.handle, &req.conf.name, &master.name).check(
                &master,
                shim::tag(target.container_id, ifname),
                &ips,
            )?;
        }
    }
    Ok(())
}

fn check_mode(conf: &MacvlanConf, info: &MacvlanInfo) -> Result<()> {
    let expected = conf.mode.kernel();
    if info.mode != expected {
        return Err(Error::Check(format!(
            "container macvlan mode {} does not match expected value: {}",
            info.mode.as_str(),
            expected.as_str()
        )));
    }
    let mut have = info.source_macs.clone();
    let mut want = conf.mode.source_macs().to_vec();
    have.sort();
    want.sort();
    if have != want {
        return Err(Error::Check(format!(
            "container macvlan source MACs {have:?} do not match expected value: {want:?}"
        )));
    }
    Ok(())
}

fn check_mac(link: &Link, promised: Option<&str>) -> Result<()> {
    let Some(promised) = promised else {
        return Ok(());
    };
    let have = link.mac.map(|m| m.to_string()).unwrap_or_default();
    if !have.eq_ignore_ascii_case(promised) {
        return Err(Error::Check(format!(
            "interface {} mac {have} does not match the prevResult's {promised}",
            link.name
        )));
    }
    Ok(())
}

/// The macvlan's lower device is the master. Seen from the pod, a node-side master is an index
/// in another namespace (`IFLA_LINK` plus `IFLA_LINK_NETNSID`); with `linkInContainer` it is a
/// local index.
fn check_master(link: &Link, master: &Link, in_container: bool) -> Result<()> {
    let same_ns = link.link_netnsid.is_none();
    if link.link_index != Some(master.index) || same_ns != in_container {
        return Err(Error::Check(format!(
            "container macvlan {:?} is not on master {:?}",
            link.name, master.name
        )));
    }
    Ok(())
}

fn check_return_routes(pod: &NsConn, link: &Link, wanted: &[IpNetwork]) -> Result<()> {
    for dst in wanted {
        let family = cni_netlink::IpFamily::of(&dst.ip());
        let routes = pod
            .handle
            .route_list(family, cni_netlink::RT_TABLE_MAIN)
            .context(|| format!("list routes in {}", pod.label()))?;
        if !routes
            .iter()
            .any(|r| r.dst == *dst && r.oif == Some(link.index))
        {
            return Err(Error::Check(format!(
                "no route back to the host shim {dst} via {:?} in {}",
                link.name,
                pod.label()
            )));
        }
    }
    Ok(())
}
