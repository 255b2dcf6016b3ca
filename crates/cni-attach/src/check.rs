//! CHECK helpers: is what a `prevResult` promised still true inside the pod?
//!
//! The spec asks a plugin to fail CHECK when something it created and listed is missing, and
//! to tolerate later chained plugins having added things. So these look for each promised
//! address and route and ignore extra ones. Messages follow the reference's where it has one.
//! Not here: plugin-specific node-side checks (bridge ports, masquerade rules: `masq::check`).

use std::path::Path;

use cni_netlink::{IpFamily, Link, RT_TABLE_MAIN};
use cni_spec::{CniError, CniResult, Interface, Request, ipam_check};

use crate::error::{Context, Error, Result};
use crate::ns::NsConn;
use crate::pod::pod_addresses;

/// What CHECK checks against: IPAM is asked first when the config has IPAM (so L2 attachments
/// can be checked; the reference bridge fails them with "no plugin name provided"), then the
/// request must carry a `prevResult`.
pub fn prev_result(req: &Request) -> std::result::Result<&CniResult, CniError> {
    if req.conf.ipam_type().is_some() {
        ipam_check(req)?;
    }
    let prev = req.conf.prev_result.as_ref();
    Ok(prev.ok_or_else(|| Error::Check("Required prevResult missing".into()))?)
}

/// The entry for the pod interface: name `ifname` and `sandbox` equal to `CNI_NETNS`. Returns
/// its index in `prev.interfaces`.
pub fn pod_interface<'r>(
    prev: &'r CniResult,
    ifname: &str,
    netns: &Path,
) -> Result<(usize, &'r Interface)> {
    let netns = netns.to_string_lossy();
    let by_name = prev
        .interfaces
        .iter()
        .enumerate()
        .filter(|(_, i)| i.name == ifname);
    let mut elsewhere = None;
    for (index, iface) in by_name {
        match iface.sandbox.as_deref() {
            Some(s) if s == netns => return Ok((index, iface)),
            Some(s) => elsewhere = elsewhere.or(Some(s)),
            None => {}
        }
    }
    if let Some(other) = elsewhere {
        return Err(Error::Check(format!(
            "Sandbox in prevResult {other} doesn't match configured netns: {netns}"
        )));
    }
    Err(Error::Check(format!(
        "CNI created interface in container {ifname} not found in prevResult"
    )))
}

/// Every address `prev` assigns to interface `iface` is on `link`, with its prefix.
pub fn check_addresses(pod: &NsConn, link: &Link, prev: &CniResult, iface: usize) -> Result<()> {
    let present = pod
        .handle
        .addr_list(Some(link.index))
        .context(|| format!("list addresses of {:?}", link.name))?;
    for address in pod_addresses(prev, iface) {
        let found = present
            .iter()
            .any(|a| a.network.ip() == address.ip() && a.network.prefix() == address.prefix());
        if !found {
            return Err(Error::Check(format!(
                "Failed to match addr {address} on interface {}",
                link.name
            )));
        }
    }
    Ok(())
}

/// Every route in `prev` exists in the pod: same destination, in its table, via its gateway
/// when it names one (without one, any next hop matches, as in the reference).
pub fn check_routes(pod: &NsConn, prev: &CniResult) -> Result<()> {
    for route in &prev.routes {
        let family = IpFamily::of(&route.dst.ip());
        let table = route.table.unwrap_or(RT_TABLE_MAIN);
        let routes = pod
            .handle
            .route_list(family, table)
            .context(|| format!("list routes in {}", pod.label()))?;
        let dst = route.dst;
        let found = routes.iter().any(|r| {
            r.dst.prefix() == dst.prefix()
                && r.dst.network() == dst.network()
                && route.gw.is_none_or(|gw| r.gateway == Some(gw))
        });
        if !found {
            let via = route.gw.map(|g| format!(" via {g}")).unwrap_or_default();
            return Err(Error::Check(format!(
                "Failed to match route {dst}{via} in {}",
                pod.label()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_interface_needs_name_and_sandbox() {
        let prev = CniResult {
            interfaces: vec![
                Interface::named("cni0"),
                Interface::named("eth0"),
                Interface {
                    sandbox: Some("/run/netns/p".into()),
                    ..Interface::named("eth0")
                },
                Interface {
                    sandbox: Some("/run/netns/o".into()),
                    ..Interface::named("eth0")
                },
            ],
            ..CniResult::default()
        };
        let (i, _) = pod_interface(&prev, "eth0", Path::new("/run/netns/p")).unwrap();
        assert_eq!(i, 2);
        let err = pod_interface(&prev, "eth0", Path::new("/run/netns/q")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Sandbox in prevResult /run/netns/p doesn't match configured netns: /run/netns/q"
        );
        assert!(pod_interface(&prev, "net1", Path::new("/run/netns/p")).is_err());
    }
}
