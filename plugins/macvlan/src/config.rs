//! The macvlan plugin's own config keys, decoded with Go's JSON rules and validated into types
//! that cannot hold a contradiction: a source-MAC list exists only in source mode, a host shim
//! only where the kernel can reach the pods through it.
//!
//! Keys (cni-reference.md §2.2 for the reference's): `master`, `mode`, `mtu`, `mac`,
//! `linkInContainer`, `bcqueuelen`, plus two the reference lacks: `sourceMacs` (the allow-list
//! of `mode: "source"`) and `hostShim` (see `shim.rs`). The shared keys (`ipam`, `dns`,
//! `runtimeConfig`, `args`) are cni-spec's [`NetConf`](cni_spec::NetConf).
//!
//! Pure: nothing here reads the kernel. Whether the master exists, is Ethernet, is free, and
//! bounds `mtu` is `master.rs`'s question, asked during ADD/CHECK/STATUS only: DEL must work
//! when the master is gone (plugins #953).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use cni_netlink::{MacAddr, MacvlanMode};
use cni_spec::{IfName, gojson};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// The plugin's keys, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacvlanConf {
    /// `master`; `None` means "the interface of the first default route".
    pub master: Option<IfName>,
    /// `mode` with what it needs.
    pub mode: Mode,
    /// `mtu` as given (Go `int`); 0 inherits the master's. Bounded by the master's MTU once
    /// the master is known.
    pub mtu: i64,
    /// The config's own `mac`; the runtime's `MAC`/`args`/`runtimeConfig` override it.
    pub mac: Option<String>,
    /// `linkInContainer`: the master lives in the pod's namespace, not the node's.
    pub link_in_container: bool,
    /// `bcqueuelen`: the broadcast queue length (`IFLA_MACVLAN_BC_QUEUE_LEN`).
    pub bc_queue_len: Option<u32>,
    /// `hostShim`, when node<->pod traffic is wanted.
    pub host_shim: Option<ShimConf>,
}

/// A macvlan mode and what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Siblings on the master talk directly (the plugin's default).
    Bridge,
    /// Sibling traffic goes out to the switch and must be reflected (hairpin) to come back.
    Vepa,
    /// No sibling traffic at all, even through a hairpin switch.
    Private,
    /// The one child of the master; it takes the master's MAC.
    Passthru,
    /// Receives only frames whose source MAC is listed (never empty).
    Source(Vec<MacAddr>),
}

impl Mode {
    /// The kernel's name for the mode.
    pub fn kernel(&self) -> MacvlanMode {
        match self {
            Mode::Bridge => MacvlanMode::Bridge,
            Mode::Vepa => MacvlanMode::Vepa,
            Mode::Private => MacvlanMode::Private,
            Mode::Passthru => MacvlanMode::Passthru,
            Mode::Source(_) => MacvlanMode::Source,
        }
    }

    /// The allowed source MACs (empty outside source mode).
    pub fn source_macs(&self) -> &[MacAddr] {
        match self {
            Mode::Source(macs) => macs,
            _ => &[],
        }
    }
}

/// `hostShim`: the node-side macvlan that lets the node and its pods reach each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShimConf {
    /// The node's IPv4 address on the shim (installed as a /32).
    pub v4: Option<Ipv4Addr>,
    /// The node's IPv6 address on the shim (installed as a /128).
    pub v6: Option<Ipv6Addr>,
}

impl ShimConf {
    /// The shim's address in the family of `ip`.
    pub fn address_for(&self, ip: IpAddr) -> Option<IpAddr> {
        match ip {
            IpAddr::V4(_) => self.v4.map(IpAddr::V4),
            IpAddr::V6(_) => self.v6.map(IpAddr::V6),
        }
    }

    /// Every configured shim address.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> {
        let v4 = self.v4.map(IpAddr::V4);
        let v6 = self.v6.map(IpAddr::V6);
        v4.into_iter().chain(v6)
    }
}

#[derive(Deserialize)]
struct Wire {
    master: Option<String>,
    mode: Option<String>,
    mtu: Option<i64>,
    mac: Option<String>,
    #[serde(rename = "linkInContainer")]
    link_in_container: Option<bool>,
    bcqueuelen: Option<u32>,
    #[serde(rename = "sourceMacs")]
    source_macs: Option<Vec<String>>,
    #[serde(rename = "hostShim")]
    host_shim: Option<ShimWire>,
}

#[derive(Deserialize)]
struct ShimWire {
    addresses: Option<Vec<String>>,
}

impl MacvlanConf {
    /// Decodes and validates the plugin's keys from the whole config object.
    pub fn from_value(raw: &Value) -> Result<MacvlanConf> {
        let wire: Wire = gojson::from_value(raw)?;
        let master = match wire.master.as_deref() {
            None | Some("") => None,
            Some(name) => Some(
                IfName::parse(name)
                    .map_err(|e| Error::Config(format!("invalid master {name:?}: {}", e.msg)))?,
            ),
        };
        let mode = mode(wire.mode.as_deref().unwrap_or(""), wire.source_macs)?;
        let link_in_container = wire.link_in_container.unwrap_or(false);
        let host_shim = match wire.host_shim {
            None => None,
            Some(shim) => Some(shim_conf(shim, &mode, link_in_container)?),
        };
        Ok(MacvlanConf {
            master,
            mode,
            mtu: wire.mtu.unwrap_or(0),
            mac: wire.mac.filter(|m| !m.is_empty()),
            link_in_container,
            bc_queue_len: wire.bcqueuelen.filter(|n| *n > 0),
            host_shim,
        })
    }
}

/// `mode` plus `sourceMacs`: the list is required by, and only allowed with, `source`.
fn mode(name: &str, source_macs: Option<Vec<String>>) -> Result<Mode> {
    let mode = match name {
        // The reference maps an empty mode to bridge; the kernel's own default is vepa.
        "" | "bridge" => Mode::Bridge,
        "vepa" => Mode::Vepa,
        "private" => Mode::Private,
        "passthru" => Mode::Passthru,
        "source" => {
            let list = source_macs.unwrap_or_default();
            if list.is_empty() {
                return Err(Error::Config(
                    "mode \"source\" needs \"sourceMacs\": the MAC addresses whose frames the \
                     pod may receive"
                        .into(),
                ));
            }
            return list
                .iter()
                .enumerate()
                .map(|(i, text)| {
                    text.parse::<MacAddr>()
                        .map_err(|e| Error::Config(format!("sourceMacs[{i}]: {e}")))
                })
                .collect::<Result<Vec<_>>>()
                .map(Mode::Source);
        }
        other => return Err(Error::Config(format!("unknown macvlan mode: {other:?}"))),
    };
    if source_macs.is_some_and(|l| !l.is_empty()) {
        return Err(Error::Config(format!(
            "\"sourceMacs\" only applies to mode \"source\", and the mode is {:?}",
            mode.kernel().as_str()
        )));
    }
    Ok(mode)
}

fn shim_conf(wire: ShimWire, mode: &Mode, link_in_container: bool) -> Result<ShimConf> {
    if link_in_container {
        return Err(Error::Config(
            "\"hostShim\" cannot be used with \"linkInContainer\": the master is inside the \
             pod, so the node has no master to put a shim on"
                .into(),
        ));
    }
    if *mode != Mode::Bridge {
        return Err(Error::Config(format!(
            "\"hostShim\" needs mode \"bridge\": the kernel forwards between the shim and a pod \
             on the same master only when both are bridge-mode macvlans (the mode is {:?})",
            mode.kernel().as_str()
        )));
    }
    let mut shim = ShimConf { v4: None, v6: None };
    let addresses = wire.addresses.unwrap_or_default();
    if addresses.is_empty() {
        return Err(Error::Config(
            "\"hostShim.addresses\" must hold the node's address on the shim (one IPv4 and/or \
             one IPv6 address)"
                .into(),
        ));
    }
    for (i, text) in addresses.iter().enumerate() {
        let ip = shim_address(i, text)?;
        let duplicate = match ip {
            IpAddr::V4(a) => shim.v4.replace(a).is_some(),
            IpAddr::V6(a) => shim.v6.replace(a).is_some(),
        };
        if duplicate {
            return Err(Error::Config(format!(
                "\"hostShim.addresses\": more than one {} address; give at most one per family",
                if ip.is_ipv4() { "IPv4" } else { "IPv6" }
            )));
        }
    }
    Ok(shim)
}

fn shim_address(i: usize, text: &str) -> Result<IpAddr> {
    let ip: IpAddr = text.parse().map_err(|_| {
        Error::Config(format!(
            "\"hostShim.addresses[{i}]\": {text:?} is not an IP address (give the bare \
             address: it is installed as a /32 or /128 host address)"
        ))
    })?;
    if ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() {
        return Err(Error::Config(format!(
            "\"hostShim.addresses[{i}]\": {ip} cannot be a node's unicast address"
        )));
    }
    Ok(ip)
}

#[cfg(test)]
mod tests;
