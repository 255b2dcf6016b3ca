//! A "top of rack" switch for multi-node tests: a namespace holding one bridge that joins the
//! underlay interfaces of node namespaces.
//!
//! The bridge runs without STP, so a port forwards as soon as it is up (no 15 s listening and
//! learning delay). It is not a router: nodes on it share one L2 segment.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::Result;
use crate::names;
use crate::netns::Ns;

/// Name of the bridge inside a switch namespace.
pub const SWITCH_BRIDGE: &str = "sw0";

/// A namespace with a bridge, to which node namespaces are plugged.
#[derive(Debug)]
pub struct Switch {
    ns: Ns,
    next_port: AtomicU32,
}

/// One node plugged into a switch: the node's interface and the switch's port facing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plug {
    /// The interface inside the node namespace (e.g. `eth0`).
    pub node_if: String,
    /// The bridge port inside the switch namespace (`p0`, `p1`, ...).
    pub switch_port: String,
}

impl Switch {
    pub(crate) fn create(ns: Ns) -> Result<Self> {
        ns.ip(&[
            "link",
            "add",
            SWITCH_BRIDGE,
            "type",
            "bridge",
            "stp_state",
            "0",
        ])?;
        ns.link_up(SWITCH_BRIDGE)?;
        Ok(Self {
            ns,
            next_port: AtomicU32::new(0),
        })
    }

    /// The switch's namespace, for probes (`switch.ns().bridge_port("p0")`).
    pub fn ns(&self) -> &Ns {
        &self.ns
    }

    /// Connects `node` to the switch: a veth with `node_if` in the node and a fresh port on the
    /// bridge, both up, and `addr` (CIDR) on the node side if given.
    pub fn plug(&self, node: &Ns, node_if: &str, addr: Option<&str>) -> Result<Plug> {
        names::check_ifname(node_if)?;
        let port = format!("p{}", self.next_port.fetch_add(1, Ordering::Relaxed));
        let node_path = node.path().to_string_lossy().into_owned();
        self.ns.ip(&[
            "link", "add", &port, "type", "veth", "peer", "name", node_if, "netns", &node_path,
        ])?;
        self.ns
            .ip(&["link", "set", "dev", &port, "master", SWITCH_BRIDGE])?;
        self.ns.link_up(&port)?;
        node.link_up(node_if)?;
        if let Some(cidr) = addr {
            node.add_addr(node_if, cidr)?;
        }
        Ok(Plug {
            node_if: node_if.to_owned(),
            switch_port: port,
        })
    }

    /// Sets hairpin on the switch port of `plug`: the switch then sends frames back out of the
    /// port they came in on, which VEPA macvlan needs for pod-to-pod traffic on one node.
    pub fn set_hairpin(&self, plug: &Plug, on: bool) -> Result<()> {
        self.ns.set_hairpin(&plug.switch_port, on)
    }
}
