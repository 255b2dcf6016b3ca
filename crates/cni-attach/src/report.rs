//! The result a plugin prints: entries for the links it made, and the DNS it reports.
//!
//! Not here: addresses, routes and gateways (IPAM's result, `gateway::plan_gateways`).

use cni_netlink::Link;
use cni_spec::{CniResult, Interface, NetConf};

/// A result interface for `link` as the kernel reports it: name, MAC, MTU, and `sandbox` for
/// an interface inside the pod (Multus builds its network-status from that entry).
pub fn interface(link: &Link, sandbox: Option<String>) -> Interface {
    Interface {
        mac: link.mac.map(|m| m.to_string()),
        mtu: Some(link.mtu),
        sandbox,
        ..Interface::named(link.name.clone())
    }
}

/// The config's `dns`, when it has a non-empty one, replaces IPAM's (the reference plugins
/// report the config's; IPAM's is kept when the config has none).
pub fn use_config_dns(result: &mut CniResult, conf: &NetConf) {
    if let Some(dns) = conf.dns.as_ref().filter(|d| !d.is_empty()) {
        result.dns = dns.clone();
    }
}
