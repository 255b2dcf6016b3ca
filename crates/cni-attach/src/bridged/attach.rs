//! ADD of a pod behind a bridge port, after IPAM, in the reference bridge's order: the veth
//! pair (pod end born in the pod, host end on the node), the plugin's node side (the bridge
//! and the pod's port: [`NodeSide::plug`]), the pod side (addresses, link up, routes), the
//! gateway addresses with forwarding, the wait until the port forwards, masquerading last.
//!
//! Every step that leaves something behind is undone if a later one fails, before the error is
//! returned: the veth (deleting the pod end removes both, and so the port), what the plugin set
//! up for this pod alone ([`NodeSide::unplug`]), the masquerade rules. Shared state (the
//! bridge, its addresses, the forwarding sysctl) stays, as in the reference; whether a network's
//! shared devices go is the plugin's call. The IPAM reservation is the caller's guard.

use cni_netlink::{Link, MacAddr};
use cni_spec::CniResult;

use super::BridgedConf;
use crate::bridge::{FORWARDING_TIMEOUT, bridge_by_name, ensure_gateway_addr, wait_forwarding};
use crate::error::{Context, Error};
use crate::gateway::{enable_forwarding, plan_gateways};
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

/// The pod's links as the kernel shows them once attached, and what the plugin's side made.
#[derive(Debug, Clone)]
pub struct Attached<P> {
    /// What [`NodeSide::plug`] returned.
    pub plugged: P,
    /// The bridge, read again at the end: its MAC can change as ports join.
    pub bridge: Link,
    /// The node end of the veth, a port of the bridge.
    pub host: Link,
    /// The pod end.
    pub pod: Link,
}

/// Attaches the pod named by `target` as `plan` says: addresses, gateways and routes come from
/// `result` (IPAM's, which gets the gateways and default routes added and its addresses pointed
/// at the pod's entry). On error nothing of this pod is left on the node or in the pod.
pub fn attach<S: NodeSide>(
    target: &PodTarget,
    plan: &PodPlan,
    side: &mut S,
    result: &mut CniResult,
) -> Result<Attached<S::Plugged>, S::Error> {
    let request = VethRequest {
        ifname: target.ifname,
        mtu: plan.mtu,
        mac: plan.mac,
    };
    let veth = create_veth(&target.node, &target.pod, &request)?;
    let veth_guard = LinkGuard::new(&target.pod.handle, veth.pod.index);
    let plugged = side.plug(&target.node, &veth)?;
    match after_plug(target, plan, side, &veth, &plugged, result) {
        Ok((bridge, host)) => {
            veth_guard.disarm();
            Ok(Attached {
                plugged,
                bridge,
                host,
                pod: veth.pod,
            })
        }
        Err(e) => {
            side.unplug();
            Err(e)
        }
    }
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
