//! The node's uplink: the interface of its default route, which the reference macvlan plugin
//! takes as the master and the vxlan plugin as the underlay when the config names none.
//!
//! Not here: checking that the kernel will accept the link for a purpose (macvlan masters,
//! VXLAN underlays have their own rules).

use cni_netlink::{Handle, IpFamily, Link, RT_TABLE_MAIN};

use crate::error::{Context, Result};

/// The interface of the first default route in the main table, IPv4 before IPv6 (the order of
/// the reference's `AF_UNSPEC` dump); `None` without one. A multipath default route has no
/// single output interface and is skipped, as in the reference.
pub fn default_route_link(handle: &Handle) -> Result<Option<Link>> {
    for family in [IpFamily::V4, IpFamily::V6] {
        let routes = handle
            .route_list(family, RT_TABLE_MAIN)
            .context(|| format!("list {family:?} routes to find the default-route interface"))?;
        let oif = routes
            .iter()
            .filter(|r| r.dst.prefix() == 0)
            .find_map(|r| r.oif);
        if let Some(index) = oif {
            return handle
                .link_get(index)
                .context(|| format!("look up default-route link {index}"));
        }
    }
    Ok(None)
}
