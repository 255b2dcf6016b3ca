//! The shim's kernel state, read and changed under its lock: the link, its addresses, and the
//! host routes via it (the only record of which pods use it).

use std::net::IpAddr;

use cni_attach::NodeLock;
use cni_netlink::{
    AddrOptions, IpFamily, Link, LinkKind, MacvlanMode, MacvlanSpec, Netns, RT_TABLE_MAIN, Route,
    RouteSpec, Scope,
};
use ipnetwork::IpNetwork;

use super::{Shim, lock_dir};
use crate::config::ShimConf;
use crate::error::{Context, Error, Result};
use crate::master;

/// `rtm_protocol` of routes we add (`boot`, what `ip route add` uses).
const PROTO_BOOT: u8 = 3;

impl Shim<'_> {
    /// The shim's lock; the file name carries the node namespace's identity, so tests that run
    /// many "nodes" on one machine do not wait for each other.
    pub(super) fn lock(&self) -> Result<NodeLock> {
        let node = Netns::current().context(|| "open the node network namespace".into())?;
        let path = NodeLock::path_for(&lock_dir(), &self.name, &node)?;
        Ok(NodeLock::acquire(path)?)
    }

    pub(super) fn link(&self) -> Result<Option<Link>> {
        Ok(self
            .node
            .link_get(self.name.as_str())
            .context(|| format!("look up host shim {:?}", self.name))?)
    }

    /// The shim link, created (bridge mode, up) if missing; an existing one must be ours.
    pub(super) fn ensure_link(&self, master: &Link) -> Result<Link> {
        if let Some(link) = self.link()? {
            if !is_shim_on(&link, master) {
                return Err(Error::Shim(format!(
                    "host shim {:?} exists but is not a bridge-mode macvlan on master {:?}; \
                     delete it (ip link del {}) and retry",
                    self.name, master.name, self.name
                )));
            }
            if !link.admin_up {
                self.node
                    .link_set_up(link.index)
                    .context(|| format!("set host shim {:?} up", self.name))?;
            }
            return Ok(link);
        }
        let spec = MacvlanSpec::new(&self.name, master.index, MacvlanMode::Bridge);
        self.node
            .link_add_macvlan(&spec)
            .map_err(|e| master::explain_create_error(master, false, e))?;
        let link = self.link()?.ok_or_else(|| {
            Error::Shim(format!(
                "host shim {:?} vanished right after creation",
                self.name
            ))
        })?;
        self.node
            .link_set_up(link.index)
            .context(|| format!("set host shim {:?} up", self.name))?;
        Ok(link)
    }

    pub(super) fn add_addresses_and_routes(
        &self,
        conf: &ShimConf,
        link: &Link,
        tag: u32,
        sources: &[(IpAddr, IpAddr)],
    ) -> Result<()> {
        for addr in conf.addresses() {
            // nodad: the address must be usable as a route source at once.
            let added = self.node.addr_add(
                link.index,
                IpNetwork::from(addr),
                AddrOptions { nodad: true },
            );
            match added {
                Err(source) if !source.is_exists() => {
                    let context = format!("add address {addr} to host shim {:?}", self.name);
                    return Err(cni_attach::Error::Netlink { context, source }.into());
                }
                _ => {}
            }
        }
        for (ip, src) in sources {
            let spec = RouteSpec {
                oif: Some(link.index),
                scope: ip.is_ipv4().then_some(Scope::LINK),
                src: Some(*src),
                metric: Some(tag),
                ..RouteSpec::to(IpNetwork::from(*ip))
            };
            self.node.route_replace(&spec).context(|| {
                format!(
                    "add route to pod address {ip} via host shim {:?}",
                    self.name
                )
            })?;
        }
        Ok(())
    }

    /// Our routes via the shim: host routes we added (protocol boot) in the main table.
    pub(super) fn routes(&self, link: &Link) -> Result<Vec<Route>> {
        let mut ours = Vec::new();
        for family in [IpFamily::V4, IpFamily::V6] {
            let routes = self
                .node
                .route_list(family, RT_TABLE_MAIN)
                .context(|| format!("list routes via host shim {:?}", self.name))?;
            ours.extend(routes.into_iter().filter(|r| {
                r.oif == Some(link.index)
                    && r.protocol == PROTO_BOOT
                    && r.dst.prefix() == full_prefix(r.dst)
            }));
        }
        Ok(ours)
    }

    /// Deletes the routes whose metric `doomed` picks; deletes the shim (and its lock file)
    /// when no route is left. Caller holds `lock`.
    pub(super) fn remove_routes(
        &self,
        link: &Link,
        lock: &NodeLock,
        doomed: impl Fn(u32) -> bool,
    ) -> Result<()> {
        let routes = self.routes(link)?;
        let mut left = 0usize;
        for route in &routes {
            let metric = route.metric.unwrap_or(0);
            if !doomed(metric) {
                left += 1;
                continue;
            }
            let spec = RouteSpec {
                oif: Some(link.index),
                metric: route.metric,
                ..RouteSpec::to(route.dst)
            };
            match self.node.route_del(&spec) {
                Err(source) if !source.is_not_found() => {
                    let context =
                        format!("delete route {} via host shim {:?}", route.dst, self.name);
                    return Err(cni_attach::Error::Netlink { context, source }.into());
                }
                _ => {}
            }
        }
        if left > 0 {
            return Ok(());
        }
        match self.node.link_del(link.index) {
            Err(source) if !source.is_not_found() => {
                let context = format!("delete host shim {:?}", self.name);
                Err(cni_attach::Error::Netlink { context, source }.into())
            }
            _ => Ok(lock.remove_file()?),
        }
    }
}

pub(super) fn is_shim_kind(link: &Link) -> bool {
    matches!(&link.kind, Some(LinkKind::Macvlan(info)) if info.mode == MacvlanMode::Bridge)
}

/// A bridge-mode macvlan whose lower device is `master` (same namespace).
pub(super) fn is_shim_on(link: &Link, master: &Link) -> bool {
    is_shim_kind(link) && link.link_index == Some(master.index) && link.link_netnsid.is_none()
}

fn full_prefix(net: IpNetwork) -> u8 {
    if net.is_ipv4() { 32 } else { 128 }
}
