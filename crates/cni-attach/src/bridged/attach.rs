//! ADD of a pod behind a bridge port, in the reference bridge's order but with IPAM running
//! beside the first steps (see [`crate::ipam`]): the veth pair (pod end born in the pod, host
//! end on the node), the plugin's node side (the bridge and the pod's port:
//! [`NodeSide::plug`]), then IPAM's answer, the pod side (addresses, link up, routes), the
//! gateway addresses with forwarding, the wait until the port forwards, masquerading last.
//!
//! Every step that leaves something behind is undone if a later one fails, before the error is
//! returned: the veth (deleting the pod end removes both, and so the port), what the plugin set
//! up for this pod alone ([`NodeSide::unplug`]), the masquerade rules. Shared state (the
//! bridge, its addresses, the forwarding sysctl) stays, as in the reference; whether a network's
//! shared devices go is the plugin's call. The IPAM reservation stays a guard until the plugin
//! commits it.

use cni_netlink::{Link, MacAddr};
use cni_spec::{CniError, CniResult, IpamReservation};

use super::BridgedConf;
use crate::bridge::{FORWARDING_TIMEOUT, bridge_by_name, ensure_gateway_addr, wait_forwarding};
use crate::error::{Context, Error};
use crate::gateway::{enable_forwarding, plan_gateways};
use crate::ipam::{self, PendingIpam};
use crate::masq;
use crate::ns::NsConn;
use crate::pod::{PodOptions, configure_pod_interface};
use crate::target::PodTarget;
use crate::veth::{LinkGuard, VethPair, VethRequest, create_veth};

/// What is the plugin's own on the node side.
pub trait NodeSide {
    /// The plugin's error; the shared steps' errors convert into it.
    type Error: From<Error>;
    /// What [`NodeSide::plug`] made: the bridge, and whatever else the plugin reports.
    type Plugged;

    /// Makes the bridge exist (with whatever the network shares on the node) and enslaves
    /// `veth.host` to it with the plugin's port settings. On failure it leaves nothing of its
    /// own for this pod behind.
    fn plug(&mut self, node: &NsConn, veth: &VethPair) -> Result<Self::Plugged, Self::Error>;

    /// The bridge in what `plug` made.
    fn bridge(plugged: &Self::Plugged) -> &Link;

    /// The link that gets the gateway addresses: the bridge, unless the plugin has another
    /// (the bridge plugin's `<bridge>.<vlan>` interface).
    fn gateway_link(&mut self, node: &NsConn, bridge: &Link) -> Result<Link, Self::Error> {
        let _ = node;
        Ok(bridge.clone())
    }

    /// Undoes what `plug` set up for this pod alone, after a later step failed; best effort.
    /// The port goes with the veth; shared devices are not this pod's to remove.
    fn unplug(&mut self) {}
}

/// What the plugin asks for this pod.
#[derive(Debug, Clone, Copy)]
pub struct PodPlan<'a> {
    /// The network (config `name`), owner of the masquerade rules.
    pub network: &'a str,
    /// The shared keys: gateway, masquerading.
    pub conf: &'a BridgedConf,
    /// MTU of both veth ends; `None` is the kernel's default.
    pub mtu: Option<u32>,
    /// The pod end's MAC; `None` lets the kernel choose.
    pub mac: Option<MacAddr>,
    /// Index of the pod's entry in the result's `interfaces`.
    pub pod_index: usize,
    /// DAD and neighbour announcements in the pod.
    pub pod_options: PodOptions,
    /// Leave the pod end down (`disableContainerInterface`, L2 only): its port cannot forward
    /// then, so there is no wait for it either.
    pub leave_down: bool,
}

/// The pod's links as the kernel shows them once attached, what the plugin's side made, and
/// IPAM's answer.
#[derive(Debug)]
pub struct Attached<P> {
    /// What [`NodeSide::plug`] returned.
    pub plugged: P,
    /// The bridge, read again at the end: its MAC can change as ports join.
    pub bridge: Link,
    /// The node end of the veth, a port of the bridge.
    pub host: Link,
    /// The pod end.
    pub pod: Link,
    /// IPAM's result with the gateways and default routes added and its addresses pointed at
    /// the pod's entry (empty without IPAM): the plugin's result to fill in.
    pub result: CniResult,
    /// The reservation, still a guard: the plugin commits it once its result is ready.
    pub reservation: Option<IpamReservation>,
}

/// Attaches the pod named by `target` as `plan` says, while `ipam` picks its addresses: the
/// veth and the node side first (they need no address), then IPAM's answer, then addresses,
/// gateways and routes from it. On error nothing of this pod is left on the node or in the
/// pod, and the reservation is released; when IPAM failed, its error is the one reported.
pub fn attach<S>(
    target: &PodTarget,
    plan: &PodPlan,
    side: &mut S,
    ipam: PendingIpam,
) -> Result<Attached<S::Plugged>, CniError>
where
    S: NodeSide,
    S::Error: Into<CniError>,
{
    let links = plug_veth(target, plan, side);
    let reservation = match ipam.wait() {
        Ok(reservation) => reservation,
        Err(e) => {
            if links.is_ok() {
                side.unplug();
            }
            return Err(e);
        }
    };
    // Dropped in reverse: the veth goes (guard), then the reservation (IPAM DEL).
    let (veth, veth_guard, plugged) = links.map_err(Into::into)?;
    let mut result = ipam::result_of(reservation.as_ref());
    match after_plug(target, plan, side, &veth, &plugged, &mut result) {
        Ok((bridge, host)) => {
            veth_guard.disarm();
            Ok(Attached {
                plugged,
                bridge,
                host,
                pod: veth.pod,
                result,
                reservation,
            })
        }
        Err(e) => {
            side.unplug();
            Err(e.into())
        }
    }
}

/// The veth pair and the plugin's node side: everything that needs no address. On error the
/// veth is gone again (the plugin's `plug` cleans up its own).
fn plug_veth<'t, S: NodeSide>(
    target: &'t PodTarget,
    plan: &PodPlan,
    side: &mut S,
) -> Result<(VethPair, LinkGuard<'t>, S::Plugged), S::Error> {
    let request = VethRequest {
        ifname: target.ifname,
        mtu: plan.mtu,
        mac: plan.mac,
    };
    let veth = create_veth(&target.node, &target.pod, &request)?;
    let veth_guard = LinkGuard::new(&target.pod.handle, veth.pod.index);
    let plugged = side.plug(&target.node, &veth)?;
    Ok((veth, veth_guard, plugged))
}

/// The pod side, the gateway, the wait for the port and masquerading; returns the bridge and
/// the host end as they are now.
fn after_plug<S: NodeSide>(
    target: &PodTarget,
    plan: &PodPlan,
    side: &mut S,
    veth: &VethPair,
    plugged: &S::Plugged,
    result: &mut CniResult,
) -> Result<(Link, Link), S::Error> {
    let (node, pod) = (&target.node, &target.pod);
    let conf = plan.conf;
    let gateways = plan_gateways(
        result,
        plan.pod_index,
        conf.is_gateway,
        conf.is_default_gateway,
    );
    if !result.ips.is_empty() {
        configure_pod_interface(pod, &veth.pod, result, plan.pod_index, plan.pod_options)?;
    } else if !plan.leave_down {
        pod.handle
            .link_set_up(veth.pod.index)
            .context(|| format!("failed to set {:?} up", target.ifname))?;
    }
    if conf.is_gateway && gateways.all().next().is_some() {
        let link = side.gateway_link(node, S::bridge(plugged))?;
        for gw in gateways.all() {
            ensure_gateway_addr(node, &link, *gw, conf.force_address)?;
        }
        enable_forwarding(
            &node.netns,
            !gateways.v4.is_empty(),
            !gateways.v6.is_empty(),
        )?;
    }
    let host = match plan.leave_down {
        true => veth.host.clone(),
        false => wait_forwarding(node, &veth.host, FORWARDING_TIMEOUT)?,
    };
    let bridge = bridge_by_name(node, &S::bridge(plugged).name)?;
    // Masquerading last: nothing after it can fail, so it is undone only here.
    if let Some(backend) = conf.ip_masq {
        let owner = target.masq_owner(plan.network);
        let addresses: Vec<_> = result.ips.iter().map(|ip| ip.address).collect();
        if let Err(e) = masq::setup(backend, &owner, &addresses) {
            let _ = masq::teardown(&owner);
            return Err(e.into());
        }
    }
    Ok((bridge, host))
}
