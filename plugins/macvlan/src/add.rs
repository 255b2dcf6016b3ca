//! ADD, top to bottom: parse -> validate -> IPAM started -> link in the pod -> IPAM's answer
//! -> pod side -> node side (host shim) -> result. IPAM runs beside the link's creation
//! (`cni_attach::ipam`).
//!
//! Rollback is by guards: a failure (or panic) after IPAM releases the addresses
//! ([`cni_spec::IpamReservation`]), one after the link exists deletes it
//! ([`cni_attach::LinkGuard`]), and the shim undoes its own half-made changes.

use std::net::IpAddr;

use cni_attach::report::{interface, use_config_dns};
use cni_attach::{
    LinkGuard, NsConn, PodOptions, PodTarget, configure_pod_interface, ipam, requested_mac,
};
use cni_netlink::{Link, RouteSpec, Scope};
use cni_spec::{CniResult, IpamReservation, Request};
use ipnetwork::IpNetwork;

use crate::config::MacvlanConf;
use crate::error::{Context, Result};
use crate::link::{self, PodLinkSpec};
use crate::master;
use crate::shim::{self, Shim};

/// `CNI_ARGS` keys this plugin accepts without `IgnoreUnknown`: its own `MAC`, and the keys
/// IPAM plugins read (`IP`, `GATEWAY`), which the reference would refuse here although they are
/// meant for the IPAM it delegates to.
pub const KNOWN_ARGS: [&str; 3] = ["MAC", "IP", "GATEWAY"];

/// The pod's options for `configure_pod_interface`. Unlike bridge, macvlan leaves IPv6 DAD on:
/// the pod shares a real LAN with other hosts, where a duplicate is possible (the reference
/// does not turn it off either). `ndisc_notify` announces the pod's IPv6 addresses on link-up,
/// as `arp_notify` does for IPv4 (reference v1.4.0).
const POD_OPTIONS: PodOptions = PodOptions {
    enable_dad: true,
    ndisc_notify: true,
};

pub(crate) fn add(req: &Request) -> Result<CniResult> {
    // Parse.
    let conf = MacvlanConf::from_value(&req.conf.raw)?;
    req.args.ensure_known(&KNOWN_ARGS)?;
    let mac = requested_mac(conf.mac.as_deref(), &req.args, &req.conf)?;
    let target = PodTarget::open(req)?;
    let (ifname, node, pod) = (target.ifname, &target.node, &target.pod);

    // Validate: the master exists, can carry macvlans, and bounds the MTU.
    let side = if conf.link_in_container { pod } else { node };
    let master = master::resolve(&side.handle, conf.master.as_ref())?;
    master::validate(&side.handle, &master)?;
    let mtu = master::mtu(conf.mtu, &master)?;

    // IPAM (L2 mode without), running while the link is made: it needs no address. IPAM's
    // error wins when both fail, since the reference asks IPAM first.
    let pending = ipam::start(req)?;

    // The link, in the pod.
    let spec = PodLinkSpec {
        master: &master,
        mode: &conf.mode,
        mtu,
        mac,
        bc_queue_len: conf.bc_queue_len,
    };
    let made = link::create(&side.handle, pod, ifname, &spec).map(|link| {
        let guard = LinkGuard::new(&pod.handle, link.index);
        (link, guard)
    });
    // An IPAM error drops `made` (the guard removes the link); a link error drops the
    // reservation (IPAM DEL).
    let reservation = pending.wait()?;
    let (link, guard) = made?;
    let ipam = reservation.as_ref().map(IpamReservation::result);

    // Pod side.
    let mut result = pod_result(&link, target.sandbox(), ipam);
    if ipam.is_some() {
        configure_pod_interface(pod, &link, &result, 0, POD_OPTIONS)?;
    } else {
        pod.handle
            .link_set_up(link.index)
            .context(|| format!("failed to set {ifname:?} up"))?;
    }

    // Node side: the host shim, for pods that have addresses to route.
    let pod_ips: Vec<IpAddr> = result.ips.iter().map(|ip| ip.address.ip()).collect();
    if let (Some(shim_conf), false) = (&conf.host_shim, pod_ips.is_empty()) {
        let addresses: Vec<IpNetwork> = result.ips.iter().map(|ip| ip.address).collect();
        for dst in shim::pod_return_routes(shim_conf, &addresses) {
            add_return_route(pod, &link, dst)?;
        }
        let shim = Shim::new(&node.handle, &req.conf.name, &master.name);
        shim.attach(
            shim_conf,
            &master,
            shim::tag(target.container_id, ifname),
            &pod_ips,
        )?;
    }

    // Result: IPAM's DNS is kept when the config has none (the reference drops it).
    use_config_dns(&mut result, &req.conf);
    guard.disarm();
    if let Some(reservation) = reservation {
        reservation.commit();
    }
    Ok(result)
}

/// The result: the pod interface (with `sandbox`, which Multus builds network-status from),
/// IPAM's addresses pointed at it, IPAM's routes and DNS.
fn pod_result(link: &Link, sandbox: String, ipam: Option<&CniResult>) -> CniResult {
    let mut result = CniResult {
        interfaces: vec![interface(link, Some(sandbox))],
        ..CniResult::default()
    };
    if let Some(ipam) = ipam {
        result.ips = ipam.ips.clone();
        for ip in &mut result.ips {
            ip.interface = Some(0);
        }
        result.routes = ipam.routes.clone();
        result.dns = ipam.dns.clone();
    }
    result
}

/// `ip route add <shim address> dev <ifname>` in the pod: the way back to the node's shim when
/// no pod subnet covers it (see `shim` "The return path").
fn add_return_route(pod: &NsConn, link: &Link, dst: IpNetwork) -> Result<()> {
    let spec = RouteSpec {
        oif: Some(link.index),
        scope: dst.is_ipv4().then_some(Scope::LINK),
        ..RouteSpec::to(dst)
    };
    pod.handle
        .route_add(&spec)
        .context(|| format!("add route to the host shim {dst} in {}", pod.label()))?;
    Ok(())
}
