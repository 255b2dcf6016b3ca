//! The veth pair between a pod and the node: created from the pod side, its peer born in the
//! node namespace under a random `veth<8 hex>` name (the reference's `ip.SetupVeth`).
//!
//! Creating inside the pod with the peer's `IFLA_NET_NS_FD` pointing at the node means the pod
//! end never exists on the node, so its name (`eth0`) cannot collide with a node interface. The
//! host name is random; on `EEXIST` for it we draw another, up to [`NAME_ATTEMPTS`] times. An
//! existing `CNI_IFNAME` in the pod is an error (spec: ADD must fail then).
//!
//! The host end has IPv6 turned off before it goes up (issue 8). It is a bridge port, an L2
//! device: IPv6 between pods and to the gateway on the bridge never uses a port's own IPv6
//! stack. Left on (the reference leaves it on, with `accept_ra=0`), every port gets a link-local
//! address, DAD and MLD reports the bridge floods to every other port, and `fe80::/64` and
//! `ff00::/8` routes of its own, which every later link change on the node walks in full
//! (`rt6_sync_down_dev`, `rt6_sync_up`). Measured on a node with 1000 such ports, one ADD was
//! 8-22% faster without them, the more so the busier the node (see [`create_veth`]). The kernel
//! refuses `IFLA_AF_SPEC` in a create request (`EAFNOSUPPORT`, 6.18), so it is the
//! `disable_ipv6` sysctl, written while the link is down.
//!
//! Also here: [`LinkGuard`], which deletes a half-made link when a later ADD step fails.
//! Not here: what the host end is attached to (a bridge port: [`crate::bridge`]).

use std::io::Read;

use cni_netlink::{Handle, Link, MacAddr, SysctlKey, VethEnd, VethSpec};

use crate::error::{Context, Error, Result};
use crate::ns::NsConn;

/// How many random host names to try (the reference tries 10).
pub const NAME_ATTEMPTS: u32 = 10;

/// What to create.
#[derive(Debug, Clone, Copy)]
pub struct VethRequest<'a> {
    /// The pod-side name (`CNI_IFNAME`).
    pub ifname: &'a str,
    /// MTU for both ends; `None` is the kernel default. Both ends get it: a mismatch silently
    /// drops the larger frames.
    pub mtu: Option<u32>,
    /// The pod end's MAC; `None` lets the kernel choose.
    pub mac: Option<MacAddr>,
}

/// The two ends as the kernel reports them right after creation.
#[derive(Debug, Clone)]
pub struct VethPair {
    /// The node end (`veth…`), up, without IPv6, not yet enslaved.
    pub host: Link,
    /// The pod end, still down.
    pub pod: Link,
}

/// Creates the pair. The node end gets IPv6 turned off (see the module doc) and is brought up;
/// the pod end is left down for the caller to configure. An existing `req.ifname` in the pod
/// is [`Error::InterfaceExists`]. On failure nothing is left behind.
///
/// A bridge ADD measured with and without the node end's IPv6, interleaved, medians of 28, on
/// a node whose 1000 other ports had theirs: 25.1 and 19.6 ms wall, 11.4 and 10.1 ms CPU with
/// compiles running on the other core; 16.4 and 15.1 ms wall, 11.8 and 11.0 ms CPU with less.
pub fn create_veth(node: &NsConn, pod: &NsConn, req: &VethRequest) -> Result<VethPair> {
    let host_name = create_with_free_name(node, pod, req)?;
    let mut guard_index = None;
    let result = (|| {
        let pod_link = must_get(&pod.handle, req.ifname, pod.label())?;
        guard_index = Some(pod_link.index);
        // Best effort: a node without IPv6 has no such key, and nothing to turn off.
        if let Ok(key) = SysctlKey::ipv6_conf(&host_name, "disable_ipv6") {
            let _ = node.netns.sysctl_set(&key, "1");
        }
        node.handle
            .link_set_up(host_name.as_str())
            .context(|| format!("set {host_name:?} up"))?;
        let host = must_get(&node.handle, &host_name, node.label())?;
        Ok(VethPair {
            host,
            pod: pod_link,
        })
    })();
    if result.is_err() {
        // Deleting either end removes both; the pod end is the one we know for sure.
        let _ = match guard_index {
            Some(index) => pod.handle.link_del(index),
            None => match pod.handle.link_get(req.ifname) {
                Ok(Some(l)) => pod.handle.link_del(l.index),
                _ => Ok(()),
            },
        };
    }
    result
}

fn create_with_free_name(node: &NsConn, pod: &NsConn, req: &VethRequest) -> Result<String> {
    for _ in 0..NAME_ATTEMPTS {
        let host_name = random_veth_name()?;
        let spec = VethSpec {
            local: VethEnd {
                name: req.ifname,
                mtu: req.mtu,
                mac: req.mac,
            },
            peer: VethEnd {
                name: &host_name,
                mtu: req.mtu,
                mac: None,
            },
            peer_netns: Some(&node.netns),
        };
        match pod.handle.link_add_veth(&spec) {
            Ok(()) => return Ok(host_name),
            Err(e) if e.is_exists() => {
                // Which name collided? Only a taken host name is worth another draw.
                let pod_taken = pod.handle.link_get(req.ifname).ok().flatten().is_some();
                if pod_taken {
                    return Err(Error::InterfaceExists(req.ifname.to_owned()));
                }
            }
            Err(source) => {
                return Err(Error::Netlink {
                    context: format!(
                        "create veth {:?} in {} with peer {host_name:?} in {}",
                        req.ifname,
                        pod.label(),
                        node.label()
                    ),
                    source,
                });
            }
        }
    }
    Err(Error::NoFreeVethName(NAME_ATTEMPTS))
}

fn must_get(handle: &Handle, name: &str, ns: &str) -> Result<Link> {
    handle
        .link_get(name)
        .context(|| format!("look up {name:?} in {ns}"))?
        .ok_or_else(|| Error::Check(format!("{name:?} vanished from {ns} right after creation")))
}

/// `veth` + 8 random hex digits, the reference's host-side name shape (bandwidth and portmap
/// find the host end by the name in the result, not by this shape).
pub fn random_veth_name() -> Result<String> {
    let mut bytes = [0u8; 4];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(Error::Random)?;
    Ok(format!("veth{:08x}", u32::from_be_bytes(bytes)))
}

/// Deletes a link when dropped, unless [`LinkGuard::disarm`]ed: the ADD rollback for a veth or
/// macvlan made before a later step failed. Deleting a veth end removes its peer too.
#[derive(Debug)]
#[must_use = "dropping the guard deletes the link at once"]
pub struct LinkGuard<'a> {
    handle: &'a Handle,
    index: u32,
    armed: bool,
}

impl<'a> LinkGuard<'a> {
    /// Guards link `index` in `handle`'s namespace.
    pub fn new(handle: &'a Handle, index: u32) -> Self {
        LinkGuard {
            handle,
            index,
            armed: true,
        }
    }

    /// Keeps the link: the ADD succeeded.
    pub fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for LinkGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            if let Err(e) = self.handle.link_del(self.index) {
                if !e.is_not_found() {
                    eprintln!("rollback: delete link {}: {e}", self.index);
                }
            }
        }
    }
}
