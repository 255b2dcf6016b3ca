//! Gateways and default routes, per IP family, from an IPAM result (the reference bridge's
//! `calcGateways`), and turning on forwarding for the families that route.
//!
//! With `isGateway` every address gets a gateway: IPAM's, or the subnet's first address when
//! IPAM gave none (`calcGatewayIP`). With `isDefaultGateway` a family gets a default route via
//! that gateway, unless IPAM already returned a default route *with a gateway* for the family;
//! without it a pod cannot leave its subnet (seed macvlan-bridge-default-route.txt). The node
//! side (addresses on a bridge) is the plugin's business; this module only decides and records.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use cni_netlink::{Netns, SysctlKey};
use cni_spec::{CniResult, Route};
use ipnetwork::IpNetwork;

use crate::error::{Context, Result};

/// The gateway addresses (with the pod subnet's prefix) each family needs on the node side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gateways {
    /// IPv4 gateways, e.g. `10.1.0.1/24`.
    pub v4: Vec<IpNetwork>,
    /// IPv6 gateways, e.g. `fd00::1/64`.
    pub v6: Vec<IpNetwork>,
}

impl Gateways {
    /// All of them, IPv4 first.
    pub fn all(&self) -> impl Iterator<Item = &IpNetwork> {
        self.v4.iter().chain(&self.v6)
    }
}

/// Points every address at result interface `iface`, fills gateways and default routes as
/// described in the module doc, and returns the gateways the node side must own (empty unless
/// `is_gateway`). `is_default_gateway` implies `is_gateway`.
pub fn plan_gateways(
    result: &mut CniResult,
    iface: usize,
    is_gateway: bool,
    is_default_gateway: bool,
) -> Gateways {
    let is_gateway = is_gateway || is_default_gateway;
    let mut plan = Gateways::default();
    let mut default_done = [false, false];
    for i in 0..result.ips.len() {
        let ip = &mut result.ips[i];
        ip.interface = Some(iface);
        if ip.gateway.is_none() && is_gateway {
            ip.gateway = first_host(&ip.address);
        }
        let (address, gateway) = (ip.address, ip.gateway);
        let family = usize::from(address.is_ipv6());
        if is_default_gateway && !default_done[family] {
            let dst = default_route(&address);
            let present = result.routes.iter().any(|r| r.dst == dst && r.gw.is_some());
            if !present {
                result.routes.push(Route::new(dst, gateway));
            }
            default_done[family] = true;
        }
        if is_gateway {
            if let Some(gw) = gateway.and_then(|g| IpNetwork::new(g, address.prefix()).ok()) {
                match gw {
                    IpNetwork::V4(_) => plan.v4.push(gw),
                    IpNetwork::V6(_) => plan.v6.push(gw),
                }
            }
        }
    }
    plan
}

/// The subnet's first address (network + 1), the reference's default gateway.
pub fn first_host(address: &IpNetwork) -> Option<IpAddr> {
    match address.network() {
        IpAddr::V4(n) => u32::from(n)
            .checked_add(1)
            .map(|v| IpAddr::V4(Ipv4Addr::from(v))),
        IpAddr::V6(n) => u128::from(n)
            .checked_add(1)
            .map(|v| IpAddr::V6(Ipv6Addr::from(v))),
    }
}

/// `0.0.0.0/0` or `::/0`, the family of `address`.
pub fn default_route(address: &IpNetwork) -> IpNetwork {
    let any: IpAddr = match address {
        IpNetwork::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        IpNetwork::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    // A zero prefix is valid for either family.
    IpNetwork::new(any, 0).unwrap_or(*address)
}

/// Turns on IPv4 and/or IPv6 forwarding in `node` (`net.ipv4.ip_forward`,
/// `net.ipv6.conf.all.forwarding`), writing only when the value is not already 1. These are
/// per namespace, so a plugin running in a node namespace changes only that node.
pub fn enable_forwarding(node: &Netns, v4: bool, v6: bool) -> Result<()> {
    let mut keys = Vec::new();
    if v4 {
        keys.push("net/ipv4/ip_forward");
    }
    if v6 {
        keys.push("net/ipv6/conf/all/forwarding");
    }
    for key in keys {
        let parsed = SysctlKey::new(key).context(|| format!("name sysctl {key}"))?;
        node.sysctl_write(&parsed, "1")
            .context(|| "failed to enable forwarding".to_owned())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cni_spec::IpConfig;

    fn ip(a: &str, gw: Option<&str>) -> IpConfig {
        IpConfig {
            address: a.parse().unwrap(),
            gateway: gw.map(|g| g.parse().unwrap()),
            interface: None,
        }
    }

    fn result(ips: Vec<IpConfig>, routes: Vec<Route>) -> CniResult {
        CniResult {
            ips,
            routes,
            ..CniResult::default()
        }
    }

    #[test]
    fn gateway_defaults_to_network_plus_one() {
        let mut r = result(
            vec![ip("10.1.2.5/24", None), ip("fd00:1::9/64", None)],
            vec![],
        );
        let plan = plan_gateways(&mut r, 2, true, false);
        assert_eq!(plan.v4, vec!["10.1.2.1/24".parse::<IpNetwork>().unwrap()]);
        assert_eq!(plan.v6, vec!["fd00:1::1/64".parse::<IpNetwork>().unwrap()]);
        assert!(r.ips.iter().all(|i| i.interface == Some(2)));
        assert_eq!(r.ips[0].gateway, Some("10.1.2.1".parse().unwrap()));
        assert!(
            r.routes.is_empty(),
            "no default route without isDefaultGateway"
        );
    }

    #[test]
    fn not_a_gateway_leaves_addresses_alone() {
        let mut r = result(vec![ip("10.1.2.5/24", None)], vec![]);
        let plan = plan_gateways(&mut r, 0, false, false);
        assert_eq!(plan, Gateways::default());
        assert_eq!(r.ips[0].gateway, None);
        assert_eq!(r.ips[0].interface, Some(0));
    }

    #[test]
    fn default_route_once_per_family_unless_ipam_has_one_with_gw() {
        let mut r = result(
            vec![
                ip("10.1.2.5/24", Some("10.1.2.254")),
                ip("10.9.0.5/16", None),
                ip("fd00::5/64", None),
            ],
            vec![],
        );
        plan_gateways(&mut r, 2, false, true);
        let dsts: Vec<String> = r.routes.iter().map(|x| x.dst.to_string()).collect();
        assert_eq!(dsts, ["0.0.0.0/0", "::/0"]);
        assert_eq!(r.routes[0].gw, Some("10.1.2.254".parse().unwrap()));
        assert_eq!(r.routes[1].gw, Some("fd00::1".parse().unwrap()));

        let ipam_default = Route::new(
            "0.0.0.0/0".parse().unwrap(),
            Some("10.1.2.9".parse().unwrap()),
        );
        let mut r = result(vec![ip("10.1.2.5/24", None)], vec![ipam_default.clone()]);
        plan_gateways(&mut r, 2, false, true);
        assert_eq!(r.routes, vec![ipam_default]);

        // A default route without a gateway does not count (reference: `route.GW != nil`).
        let bare = Route::new("0.0.0.0/0".parse().unwrap(), None);
        let mut r = result(vec![ip("10.1.2.5/24", None)], vec![bare]);
        plan_gateways(&mut r, 2, false, true);
        assert_eq!(r.routes.len(), 2);
    }
}
