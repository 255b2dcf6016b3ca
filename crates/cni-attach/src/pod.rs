//! Configuring the pod interface from a result, inside the pod namespace, in the reference's
//! order (`ipam.ConfigureIface` and the sysctls bridge/macvlan set before it):
//!
//! 1. sysctls: `accept_dad=0` unless DAD is enabled (`enhanced_dad=1`, `accept_dad=1`), because
//!    DAD delays pod start by 1-2 s (plugins #680, #695); `arp_notify=1` so the kernel sends a
//!    gratuitous ARP on link-up; `ndisc_notify=1` on request (macvlan); with IPv6 addresses,
//!    `disable_ipv6=0` on `lo` and the interface and `keep_addr_on_down=1`;
//! 2. the addresses;
//! 3. link up, after the addresses, so the gratuitous ARP announces them;
//! 4. with an IPv6 gateway, a bounded wait until no address is tentative (a poll with a
//!    deadline): a route via a gateway fails while the source address is tentative;
//! 5. the routes, each via its own gateway or the first gateway of its family.
//!
//! Not here: creating the interface (`veth`), node-side gateways (`gateway`).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use cni_netlink::{AddrOptions, IpFamily, Link, OperState, RouteSpec, Scope, SysctlKey, sysctl};
use cni_spec::CniResult;
use ipnetwork::IpNetwork;

use crate::error::{Context, Error, Result};
use crate::ns::NsConn;

/// How long IPv6 DAD may take before ADD fails (the reference's `SettleAddresses` bound).
pub const DAD_SETTLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Options for [`configure_pod_interface`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PodOptions {
    /// Run IPv6 duplicate address detection (`enabledad`); off by default for start latency.
    pub enable_dad: bool,
    /// Send unsolicited neighbour advertisements on link-up (macvlan sets this).
    pub ndisc_notify: bool,
}

/// Applies `result`'s addresses (those whose `interface` is `iface`) and all its routes to
/// `link` inside `pod`, and brings the link up. See the module doc for the order.
pub fn configure_pod_interface(
    pod: &NsConn,
    link: &Link,
    result: &CniResult,
    iface: usize,
    options: PodOptions,
) -> Result<()> {
    let addresses = pod_addresses(result, iface);
    let has_v6 = addresses.iter().any(IpNetwork::is_ipv6);
    apply_sysctls(pod, &link.name, options, has_v6)?;
    for address in &addresses {
        pod.handle
            .addr_add(link.index, *address, AddrOptions::default())
            .context(|| format!("failed to add IP addr to {:?}", link.name))?;
    }
    pod.handle
        .link_set_up(link.index)
        .context(|| format!("failed to set {:?} UP", link.name))?;
    let v6_gateway = result
        .ips
        .iter()
        .any(|ip| ip.gateway.is_some_and(|g| g.is_ipv6()));
    if v6_gateway {
        settle_dad(pod, link, DAD_SETTLE_TIMEOUT)?;
    }
    for route in &result.routes {
        let gateway = route.gw.or_else(|| family_gateway(result, route.dst));
        let spec = RouteSpec {
            gateway,
            oif: Some(link.index),
            scope: route.scope.map(Scope),
            table: route.table,
            metric: route.priority,
            mtu: route.mtu,
            advmss: route.advmss,
            ..RouteSpec::to(route.dst)
        };
        pod.handle
            .route_add(&spec)
            .context(|| "failed to add route".to_owned())?;
    }
    Ok(())
}

/// The addresses `result` gives interface `iface` (entries that name no interface count too),
/// with their subnet prefix.
pub fn pod_addresses(result: &CniResult, iface: usize) -> Vec<IpNetwork> {
    result
        .ips
        .iter()
        .filter(|ip| ip.interface.is_none_or(|i| i == iface))
        .map(|ip| ip.address)
        .collect()
}

/// The first gateway among the result's addresses of `dst`'s family.
fn family_gateway(result: &CniResult, dst: IpNetwork) -> Option<IpAddr> {
    result
        .ips
        .iter()
        .filter_map(|ip| ip.gateway)
        .find(|g| g.is_ipv6() == dst.is_ipv6())
}

fn apply_sysctls(pod: &NsConn, ifname: &str, options: PodOptions, has_v6: bool) -> Result<()> {
    let key = |family: &str, name: &str, leaf: &str| match family {
        "ipv4" => SysctlKey::ipv4_conf(name, leaf),
        _ => SysctlKey::ipv6_conf(name, leaf),
    };
    // Best effort, as in Go (errors ignored): a kernel without IPv6 lacks these keys.
    let mut optional = vec![(key("ipv4", ifname, "arp_notify"), "1")];
    if options.enable_dad {
        optional.push((key("ipv6", ifname, "enhanced_dad"), "1"));
        optional.push((key("ipv6", ifname, "accept_dad"), "1"));
    } else {
        optional.push((key("ipv6", ifname, "accept_dad"), "0"));
    }
    if options.ndisc_notify {
        optional.push((key("ipv6", ifname, "ndisc_notify"), "1"));
    }
    // Required when the result has IPv6 addresses: without them the address add fails anyway.
    let mut required = Vec::new();
    if has_v6 {
        required.push((key("ipv6", "lo", "disable_ipv6"), "0"));
        required.push((key("ipv6", ifname, "disable_ipv6"), "0"));
        required.push((key("ipv6", ifname, "keep_addr_on_down"), "1"));
    }
    let outcome = pod.netns.run(|| -> std::result::Result<(), String> {
        // The interface is new, its keys hold the defaults: written without a read first.
        for (k, value) in &optional {
            if let Ok(k) = k {
                let _ = sysctl::set(k, value);
            }
        }
        for (k, value) in &required {
            let k = k.as_ref().map_err(|e| e.to_string())?;
            sysctl::write(k, value).map_err(|e| format!("write {k}={value}: {e}"))?;
        }
        Ok(())
    });
    let outcome = outcome.context(|| format!("enter {}", pod.label()))?;
    outcome.map_err(|detail| {
        Error::Sysctl(format!(
            "failed to enable IPv6 for interface {ifname:?}: {detail}"
        ))
    })
}

/// Waits until no IPv6 address the plugin configured on `link` is tentative. A failed DAD is an
/// error at once; a timeout is an error only while the link is operationally up (the reference's
/// v1.9 rule: on a link without carrier DAD cannot finish, and that is not the plugin's failure).
///
/// The kernel's own link-local address is not waited for: routes via the gateway need a usable
/// global source address, and the link-local one appears (and starts its own DAD) at link-up, a
/// moment that races with this poll, so waiting for it only adds latency and flakiness.
pub fn settle_dad(pod: &NsConn, link: &Link, timeout: Duration) -> Result<()> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        // IPv6 only: also the dump the kernel serves without the RTNL, which the pod's own
        // `addrconf` work holds right after link-up.
        let addrs = pod
            .handle
            .addr_list_family(Some(link.index), IpFamily::V6)
            .context(|| format!("list addresses of {:?}", link.name))?;
        let v6: Vec<_> = addrs
            .iter()
            .filter(|a| matches!(a.network.ip(), IpAddr::V6(ip) if !ip.is_unicast_link_local()))
            .collect();
        if let Some(bad) = v6.iter().find(|a| a.flags.dadfailed) {
            return Err(Error::DadFailed {
                ifname: link.name.clone(),
                address: bad.network,
            });
        }
        let tentative: Vec<IpNetwork> = v6
            .iter()
            .filter(|a| a.flags.tentative)
            .map(|a| a.network)
            .collect();
        if tentative.is_empty() {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            let up = pod
                .handle
                .link_get(link.index)
                .context(|| format!("look up {:?}", link.name))?
                .is_some_and(|l| l.oper_state == OperState::Up);
            if !up {
                return Ok(());
            }
            return Err(Error::DadTimeout {
                ifname: link.name.clone(),
                waited_ms: start.elapsed().as_millis(),
                addresses: tentative,
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}
