//! The host shim: node <-> pod traffic for macvlan pods (issue 5).
//!
//! # Why
//! The kernel never passes frames between a macvlan's master and the master's own macvlan
//! children (vxlan-multus.md §5.3; Multus #691, docker docs): the node cannot reach its macvlan
//! pods and they cannot reach it, though both sit on the same wire. Siblings *can* talk: two
//! bridge-mode macvlans on one master exchange frames inside the kernel. The shim is such a
//! sibling on the node's side.
//!
//! # Design
//! - One node-side macvlan in bridge mode per (network, master), named `mvs` + 8 hex digits of a
//!   hash of both (`ip -d link` shows it as `macvlan mode bridge` on the master). Per network
//!   rather than one per master, because its addresses come from the network's config and
//!   because GC must only touch what belongs to the calling network (cni #1098).
//! - It carries the node's shim address(es) from `hostShim.addresses` as /32 and /128 host
//!   addresses, so no subnet route is created and the node's existing routes stay as they were.
//! - Per pod: a host route to each pod address via the shim, `src` the shim address of that
//!   family, and metric = a 32-bit hash of (container ID, ifname), the attachment's *tag*. The
//!   tag lets DEL find the pod's routes without knowing its addresses (the netns may be gone and
//!   0.3.x configs carry no prevResult), and lets GC tell live attachments from stale ones.
//! - The routes are the state: the shim is created on the first ADD and deleted when no route
//!   via it remains. Nothing is counted in a file a crash could leave wrong, and a reboot, which
//!   forgets routes, forgets the shim too.
//! - Every change happens under an exclusive lock per shim (a [`cni_attach::NodeLock`] on
//!   `/run/cni/macvlan/<shim>@<node netns>.lock`; [`LOCK_DIR_ENV`] moves the directory): two
//!   ADDs never both create it, and a DEL never deletes it under an ADD that is adding a route.
//!   The last DEL unlinks the lock file with the shim, so /run does not collect files.
//!
//! # The return path
//! Node -> pod: the node's route to the pod's /32 (more specific than the master's subnet
//! route) leaves through the shim with the shim address as source; the frame reaches the pod
//! inside the kernel, bridge mode to bridge mode. Pod -> node: the pod must send to the shim
//! address on its macvlan interface. When the shim address lies in one of the pod's subnets
//! that is already so; otherwise ADD adds a host route `<shim address> dev <ifname>` in the pod
//! (see [`pod_return_routes`]), which also keeps a strict `rp_filter` in the pod happy when its
//! default route uses another interface (the usual Multus `net1` case). Replies then resolve the
//! shim's MAC by ARP/ND and stay inside the node. The pod can also reach the node's own address
//! on the master when that address is in its subnet: the shim answers ARP for it (Linux's
//! default `arp_ignore=0`). Choose shim addresses that IPAM will not hand to a pod (e.g.
//! outside `rangeStart`-`rangeEnd`).
//!
//! Not here: the pod's own macvlan (`link.rs`) and the decision of when to call these
//! (`add.rs`, `del.rs`, `gc.rs`, `check.rs`).

mod names;
mod state;

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::PathBuf;

use cni_netlink::{Handle, Link, ListKind};
use ipnetwork::IpNetwork;

use crate::config::ShimConf;
use crate::error::{Context, Error, Result};

use names::looks_like_shim;
pub use names::{SHIM_PREFIX, name, tag};
use state::{is_shim_kind, is_shim_on};

/// Where shim lock files live. /run is a tmpfs: a reboot, which also removes every shim,
/// removes the locks with them.
pub const LOCK_DIR: &str = "/run/cni/macvlan";

/// Environment variable that moves [`LOCK_DIR`] (tests give each sandbox its own; a host
/// whose /run is not a tmpfs may point it at one).
pub const LOCK_DIR_ENV: &str = "CNI_MACVLAN_LOCK_DIR";

/// The lock directory in effect.
pub fn lock_dir() -> PathBuf {
    cni_attach::lock::lock_dir(LOCK_DIR, LOCK_DIR_ENV)
}

/// The host routes the pod needs back to the shim: one per shim address that none of the pod's
/// subnets (of that family) covers, and only for families the pod has an address in.
pub fn pod_return_routes(conf: &ShimConf, pod_addrs: &[IpNetwork]) -> Vec<IpNetwork> {
    conf.addresses()
        .filter(|shim| {
            let same_family: Vec<_> = pod_addrs
                .iter()
                .filter(|a| a.is_ipv4() == shim.is_ipv4())
                .collect();
            !same_family.is_empty() && !same_family.iter().any(|a| a.contains(*shim))
        })
        .map(IpNetwork::from)
        .collect()
}

/// One shim on the node, by name.
#[derive(Debug)]
pub struct Shim<'a> {
    node: &'a Handle,
    name: String,
}

impl<'a> Shim<'a> {
    /// The shim of `network` on `master`, in the node's namespace `node`.
    pub fn new(node: &'a Handle, network: &str, master: &str) -> Shim<'a> {
        Shim {
            node,
            name: name(network, master),
        }
    }

    /// The shim's interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Makes the shim exist on `master` with the configured addresses, and routes `pod_ips`
    /// through it with the attachment's `tag`. On failure nothing of this call is left behind.
    pub fn attach(
        &self,
        conf: &ShimConf,
        master: &Link,
        tag: u32,
        pod_ips: &[IpAddr],
    ) -> Result<()> {
        let sources = pod_ips
            .iter()
            .map(|ip| {
                conf.address_for(*ip).map(|src| (*ip, src)).ok_or_else(|| {
                    Error::Config(format!(
                        "\"hostShim.addresses\" has no {} address for the pod's address {ip}; \
                         add one, or the node could not reach the pod over that family",
                        if ip.is_ipv4() { "IPv4" } else { "IPv6" }
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let lock = self.lock()?;
        let link = self.ensure_link(master)?;
        let done = self.add_addresses_and_routes(conf, &link, tag, &sources);
        if done.is_err() {
            // Best effort: the error that made us undo is the one to report.
            let _ = self.remove_routes(&link, &lock, |metric| metric == tag);
        }
        done
    }

    /// Removes the attachment's routes from every shim that has them (found by name shape and
    /// tag, so DEL needs neither the master nor the pod's addresses), and each shim left
    /// without routes.
    pub fn detach_everywhere(node: &Handle, tag: u32) -> Result<()> {
        // Only macvlans can be shims; the kernel leaves out the node's other links (on a Multus
        // node, every primary-network pod's veth).
        let links = node
            .link_list_kind(ListKind::Macvlan)
            .context(|| "list macvlans to find host shims".into())?;
        let mut first_error = None;
        for link in links
            .into_iter()
            .filter(|l| looks_like_shim(&l.name) && is_shim_kind(l))
        {
            let shim = Shim {
                node,
                name: link.name.clone(),
            };
            // Look before locking: only a shim that carries this attachment is locked, and only
            // such a shim may be torn down by it (a link that merely looks like one never is).
            let outcome = shim.routes(&link).and_then(|routes| {
                if !routes.iter().any(|r| r.metric == Some(tag)) {
                    return Ok(());
                }
                let lock = shim.lock()?;
                // Under the lock, look again: another DEL may have removed the shim meanwhile,
                // and its index must not be trusted any more.
                match shim.link()? {
                    Some(now) if is_shim_kind(&now) => {
                        shim.remove_routes(&now, &lock, |metric| metric == tag)
                    }
                    _ => Ok(()),
                }
            });
            if let Err(e) = outcome {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// GC: removes routes whose tag is not in `keep`, then the shim if none remain.
    pub fn gc(&self, keep: &HashSet<u32>) -> Result<()> {
        let lock = self.lock()?;
        let Some(link) = self.link()? else {
            return Ok(lock.remove_file()?);
        };
        self.remove_routes(&link, &lock, |metric| !keep.contains(&metric))
    }

    /// CHECK: the shim is a bridge-mode macvlan on `master` and routes each of `pod_ips` with
    /// the attachment's tag.
    pub fn check(&self, master: &Link, tag: u32, pod_ips: &[IpAddr]) -> Result<()> {
        let link = self
            .link()?
            .ok_or_else(|| Error::Check(format!("host shim {:?} does not exist", self.name)))?;
        if !is_shim_on(&link, master) {
            return Err(Error::Check(format!(
                "host shim {:?} is not a bridge-mode macvlan on master {:?}",
                self.name, master.name
            )));
        }
        let routes = self.routes(&link)?;
        for ip in pod_ips {
            let dst = IpNetwork::from(*ip);
            if !routes.iter().any(|r| r.dst == dst && r.metric == Some(tag)) {
                return Err(Error::Check(format!(
                    "no route to the pod's address {ip} via host shim {:?}",
                    self.name
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn the_pod_gets_a_route_back_only_when_its_subnet_misses_the_shim() {
        let conf = ShimConf {
            v4: Some(Ipv4Addr::new(10, 9, 0, 254)),
            v6: Some("fd00:9::fe".parse::<Ipv6Addr>().unwrap()),
        };
        let inside: Vec<IpNetwork> = vec!["10.9.0.5/24".parse().unwrap()];
        assert!(
            pod_return_routes(&conf, &inside).is_empty(),
            "v6 skipped: no v6 address"
        );
        let outside: Vec<IpNetwork> = vec![
            "10.8.0.5/24".parse().unwrap(),
            "fd00:8::5/64".parse().unwrap(),
        ];
        assert_eq!(
            pod_return_routes(&conf, &outside),
            vec![
                "10.9.0.254/32".parse::<IpNetwork>().unwrap(),
                "fd00:9::fe/128".parse().unwrap()
            ]
        );
    }
}
