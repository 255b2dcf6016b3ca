//! The ADD result: one internal model, the 1.1.0 superset, read from and printed as any version.
//!
//! Plugins build a [`CniResult`] once and the dispatcher prints it in the config's version by
//! the conversion rules of cni-reference.md §1.5/§1.9 (`print.rs`). Results from IPAM plugins
//! and `prevResult`s of any version are read into the same model (`parse.rs`), which is how
//! Go's `NewResultFromResult` up-conversion looks here.
//! Not here: deciding what goes into a result (the plugins do that).

mod parse;
mod print;

pub(crate) use parse::parse_any;

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use serde::{Deserialize, Serialize};

/// A plugin's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CniResult {
    /// Interfaces created or used; `ips[].interface` indexes into this list.
    pub interfaces: Vec<Interface>,
    /// Addresses assigned.
    pub ips: Vec<IpConfig>,
    /// Routes installed in the container.
    pub routes: Vec<Route>,
    /// DNS settings for the container.
    pub dns: Dns,
}

/// An interface in a result. Meta plugins (bandwidth) find the host veth as the entry without
/// a `sandbox`, so host-side interfaces must leave it `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interface {
    /// Interface name.
    pub name: String,
    /// Hardware address, e.g. `"0a:58:0a:01:00:05"`.
    pub mac: Option<String>,
    /// MTU (1.1.0 output only).
    pub mtu: Option<u32>,
    /// The netns path for a container-side interface; `None` on the host side.
    pub sandbox: Option<String>,
    /// vhost-user or similar socket (1.1.0 output only).
    pub socket_path: Option<String>,
    /// PCI address of a device interface (1.1.0 output only).
    pub pci_id: Option<String>,
}

impl Interface {
    /// An interface with only its name set.
    pub fn named(name: impl Into<String>) -> Interface {
        Interface {
            name: name.into(),
            ..Interface::default()
        }
    }
}

/// An address assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpConfig {
    /// Address with prefix, host bits kept (`10.1.0.5/16`).
    pub address: IpNetwork,
    /// Default gateway for this address's subnet, if any.
    pub gateway: Option<IpAddr>,
    /// Index into [`CniResult::interfaces`]; IPAM results leave it `None`.
    pub interface: Option<usize>,
}

impl IpConfig {
    /// Whether the address is IPv4: this is the `version` "4"/"6" of 0.3.x/0.4.0 results.
    pub fn is_ipv4(&self) -> bool {
        self.address.is_ipv4()
    }
}

/// A route. The 1.1.0 fields are printed wherever Go's shared route type prints them (every
/// version from 0.3.0 on), and dropped in 0.1.0/0.2.0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Destination.
    pub dst: IpNetwork,
    /// Next hop; `None` means the gateway of the matching address (spec).
    pub gw: Option<IpAddr>,
    /// Route MTU.
    pub mtu: Option<u32>,
    /// Advertised MSS.
    pub advmss: Option<u32>,
    /// Metric.
    pub priority: Option<u32>,
    /// Routing table.
    pub table: Option<u32>,
    /// Scope: 0 universe, 253 link, 254 host.
    pub scope: Option<u8>,
}

impl Route {
    /// A route with only `dst` and `gw`.
    pub fn new(dst: IpNetwork, gw: Option<IpAddr>) -> Route {
        Route {
            dst,
            gw,
            mtu: None,
            advmss: None,
            priority: None,
            table: None,
            scope: None,
        }
    }
}

/// DNS settings, as in results and in the config's `dns` key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dns {
    /// Name server addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<String>,
    /// Local domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Search domains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search: Vec<String>,
    /// resolver options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

impl Dns {
    /// Whether nothing is set: 1.x results then omit `dns`.
    pub fn is_empty(&self) -> bool {
        self.nameservers.is_empty()
            && self.domain.as_deref().is_none_or(str::is_empty)
            && self.search.is_empty()
            && self.options.is_empty()
    }
}
