//! The node-wide pieces of one network, shared by all its pods on the node: the bridge, the VTEP
//! as its port, and the VTEP's peers. Every change to them happens under the network's
//! [`NodeLock`], held across "ensure bridge + VTEP + peers → attach the pod's port" in ADD and
//! across "count pods → delete VTEP + bridge" in DEL, so concurrent ADDs create one VTEP and a
//! DEL never removes what an ADD is about to plug into.
//!
//! Pods are counted from the kernel (ports of the bridge other than the VTEP), never from a
//! counter file a crash could leave wrong: a pod whose namespace died took its veth, and so its
//! port, with it.
//!
//! The lock is `/run/cni/vxlan/vxlan<vni>@<node netns>.lock`, keyed by the VTEP rather than
//! the config's `name`: the kernel allows one VTEP per VNI per namespace, so two configs with
//! one VNI meet on the same device and must take the same lock. `CNI_VXLAN_LOCK_DIR` moves the
//! directory (tests give each sandbox its own).

use cni_attach::bridge::{self, BridgeDevice, PortFlags};
use cni_attach::lock::lock_dir;
use cni_attach::{Context, NodeLock, NsConn};
use cni_netlink::{Link, LinkKind};

use crate::config::VxlanConf;
use crate::error::{Error, Result};
use crate::peers::{self, Desired};
use crate::vtep::{self, VtepSpec};

/// The default lock directory.
pub const LOCK_DIR: &str = "/run/cni/vxlan";
/// Environment variable that moves [`LOCK_DIR`].
pub const LOCK_DIR_ENV: &str = "CNI_VXLAN_LOCK_DIR";

/// The network's shared devices, as ensured.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The bridge.
    pub bridge: Link,
    /// The VTEP, a port of `bridge`, up.
    pub vtep: Link,
}

/// The flags of a pod's bridge port (written by ADD, read back by CHECK).
pub fn port_flags(conf: &VxlanConf) -> PortFlags {
    PortFlags {
        hairpin: conf.bridged.hairpin,
        isolated: false,
    }
}

/// One network on one node, locked.
#[derive(Debug)]
pub struct NodeNetwork<'a> {
    node: &'a NsConn,
    conf: &'a VxlanConf,
    lock: NodeLock,
}

impl<'a> NodeNetwork<'a> {
    /// Waits for and takes the network's lock on this node.
    pub fn lock(node: &'a NsConn, conf: &'a VxlanConf) -> Result<NodeNetwork<'a>> {
        let dir = lock_dir(LOCK_DIR, LOCK_DIR_ENV);
        let path = NodeLock::path_for(&dir, &conf.vtep, &node.netns)?;
        let lock = NodeLock::acquire(path)?;
        Ok(NodeNetwork { node, conf, lock })
    }

    /// Makes the bridge, the VTEP (compatible with `spec`, a port of the bridge, up) and its
    /// peers what the config says.
    pub fn ensure(&self, spec: &VtepSpec, peers: &Desired) -> Result<Shared> {
        let bridge = self.ensure_bridge()?;
        self.refuse_other_vtep(&bridge)?;
        let vtep = vtep::ensure(self.node, spec, &bridge)?;
        peers::reconcile(self.node, &vtep, peers)?;
        Ok(Shared { bridge, vtep })
    }

    /// Plugs a pod's host veth into the bridge.
    pub fn attach(&self, shared: &Shared, host: &Link) -> Result<()> {
        let flags = port_flags(self.conf);
        Ok(bridge::attach_port(self.node, &shared.bridge, host, flags)?)
    }

    fn ensure_bridge(&self) -> Result<Link> {
        let exists = self.link(&self.conf.bridge)?.is_some();
        // A fixed MAC from birth: the bridge never takes a port's MAC, and with `isGateway`
        // every node's bridge has the same one (see `VxlanConf::gateway_mac`).
        let mac = match self.conf.gateway_mac() {
            Some(mac) => Some(mac),
            None if !exists => Some(vtep::random_mac()?),
            None => None,
        };
        let want = BridgeDevice {
            mac,
            ipv6_dad: !self.conf.bridged.is_gateway,
            ..BridgeDevice::named(&self.conf.bridge)
        };
        Ok(bridge::ensure_bridge(self.node, &want)?)
    }

    /// Two VNIs on one bridge would merge two networks: refuse.
    fn refuse_other_vtep(&self, bridge: &Link) -> Result<()> {
        let other = self
            .ports(bridge)?
            .into_iter()
            .find(|l| l.name != self.conf.vtep && matches!(l.kind, Some(LinkKind::Vxlan(_))));
        match other {
            Some(other) => Err(Error::BridgeHasOtherVtep {
                bridge: bridge.name.clone(),
                other: other.name,
            }),
            None => Ok(()),
        }
    }

    /// The pods on the node: ports of the bridge other than the VTEP. `None` without a bridge.
    pub fn pods(&self) -> Result<Option<Vec<Link>>> {
        let Some(bridge) = self.bridge()? else {
            return Ok(None);
        };
        let ports = self.ports(&bridge)?;
        Ok(Some(
            ports
                .into_iter()
                .filter(|l| l.name != self.conf.vtep)
                .collect(),
        ))
    }

    /// Deletes the VTEP and the bridge when no pod of the network is left on the node, and the
    /// lock file with them. Returns whether it did.
    pub fn release_if_unused(&self) -> Result<bool> {
        if self.pods()?.is_some_and(|pods| !pods.is_empty()) {
            return Ok(false);
        }
        let bridge = self.bridge()?;
        if let Some(vtep) = self.link(&self.conf.vtep)? {
            let ours = matches!(vtep.kind, Some(LinkKind::Vxlan(_)))
                && (vtep.master.is_none() || vtep.master == bridge.as_ref().map(|b| b.index));
            if ours {
                vtep::delete(self.node, &vtep)?;
            }
        }
        if let Some(bridge) = bridge {
            match self.node.handle.link_del(bridge.index) {
                Err(e) if !e.is_not_found() => {
                    return Err(cni_attach::Error::Netlink {
                        context: format!("delete bridge {:?}", bridge.name),
                        source: e,
                    }
                    .into());
                }
                _ => {}
            }
        }
        self.lock.remove_file()?;
        Ok(true)
    }

    /// STATUS: could ADD bring the VTEP up now (see [`vtep::probe`])? Leaves no lock file
    /// behind on a node without the network.
    pub fn probe(&self, spec: &VtepSpec) -> Result<()> {
        let outcome = vtep::probe(self.node, spec);
        if self.bridge()?.is_none() && self.link(&self.conf.vtep)?.is_none() {
            self.lock.remove_file()?;
        }
        outcome
    }

    /// The bridge, if it exists and is one.
    fn bridge(&self) -> Result<Option<Link>> {
        Ok(self
            .link(&self.conf.bridge)?
            .filter(|l| matches!(l.kind, Some(LinkKind::Bridge(_)))))
    }

    fn link(&self, name: &str) -> Result<Option<Link>> {
        Ok(self
            .node
            .handle
            .link_get(name)
            .context(|| format!("look up {name:?}"))?)
    }

    fn ports(&self, bridge: &Link) -> Result<Vec<Link>> {
        // Filtered by the kernel: the reply does not grow with the node's other links.
        Ok(self
            .node
            .handle
            .link_list_ports(bridge.index)
            .context(|| format!("list ports of {:?}", bridge.name))?)
    }
}
