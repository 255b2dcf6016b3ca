//! The bridge plugin's config keys (cni-reference.md §2.1), decoded with Go's JSON rules and
//! validated into a [`BridgeConf`] whose fields can no longer contradict each other.
//!
//! Defaults are the reference's at v1.8+: bridge `cni0`, `preserveDefaultVlan` false,
//! `isDefaultGateway` implying `isGateway`. Error texts are the reference's. One deliberate
//! difference: `ipMasqBackend` defaults to nftables (the reference picks iptables when present).

use cni_attach::MasqBackend;
use cni_netlink::VlanId;
use cni_spec::{CniError, IfName, NetConf, gojson};
use serde::Deserialize;

use crate::error::Error;

/// The default bridge name.
pub const DEFAULT_BRIDGE: &str = "cni0";

/// A validated bridge config.
#[derive(Debug, Clone, PartialEq)]
pub struct BridgeConf {
    /// The bridge's name (`bridge`).
    pub bridge: String,
    /// Put the gateway address on the bridge and forward (`isGateway`, or implied).
    pub is_gateway: bool,
    /// Add a default route via the gateway in the pod (`isDefaultGateway`).
    pub is_default_gateway: bool,
    /// Replace conflicting bridge addresses instead of failing (`forceAddress`).
    pub force_address: bool,
    /// Masquerade pod traffic leaving its subnet (`ipMasq`), and with which backend.
    pub ip_masq: Option<MasqBackend>,
    /// MTU of a new bridge and of both veth ends (`mtu`; 0 or absent = kernel default).
    pub mtu: Option<u32>,
    /// Hairpin on the host port (`hairpinMode`).
    pub hairpin: bool,
    /// Bridge promiscuous (`promiscMode`).
    pub promisc: bool,
    /// Access VLAN: PVID and untagged on the port (`vlan`).
    pub vlan: Option<VlanId>,
    /// Tagged VLANs on the port (`vlanTrunk`, expanded, sorted, unique).
    pub trunk: Vec<VlanId>,
    /// Keep the port's default VLAN when VLANs are configured (`preserveDefaultVlan`).
    pub preserve_default_vlan: bool,
    /// Drop frames from the pod whose source MAC is not the pod's (`macspoofchk`).
    pub macspoofchk: bool,
    /// IPv6 DAD in the pod (`enabledad`).
    pub enable_dad: bool,
    /// Leave the pod interface down (`disableContainerInterface`).
    pub disable_container_interface: bool,
    /// Isolated host port (`portIsolation`).
    pub port_isolation: bool,
    /// The config's own `mac` (lowest priority of the MAC sources).
    pub mac: Option<String>,
}

impl BridgeConf {
    /// Whether the port needs VLAN settings (and a new bridge VLAN filtering).
    pub fn uses_vlans(&self) -> bool {
        self.vlan.is_some() || !self.trunk.is_empty()
    }

    /// The `<bridge>.<vlan>` gateway interface name, when a VLAN is set.
    pub fn vlan_gateway_name(&self) -> Option<String> {
        self.vlan.map(|v| format!("{}.{v}", self.bridge))
    }
}

#[derive(Deserialize, Default)]
struct Wire {
    bridge: Option<String>,
    #[serde(rename = "isGateway", default)]
    is_gateway: bool,
    #[serde(rename = "isDefaultGateway", default)]
    is_default_gateway: bool,
    #[serde(rename = "forceAddress", default)]
    force_address: bool,
    #[serde(rename = "ipMasq", default)]
    ip_masq: bool,
    #[serde(rename = "ipMasqBackend")]
    ip_masq_backend: Option<String>,
    #[serde(default)]
    mtu: i64,
    #[serde(rename = "hairpinMode", default)]
    hairpin_mode: bool,
    #[serde(rename = "promiscMode", default)]
    promisc_mode: bool,
    #[serde(default)]
    vlan: i64,
    #[serde(rename = "vlanTrunk")]
    vlan_trunk: Option<Vec<TrunkWire>>,
    #[serde(rename = "preserveDefaultVlan", default)]
    preserve_default_vlan: bool,
    #[serde(default)]
    macspoofchk: bool,
    #[serde(default)]
    enabledad: bool,
    #[serde(rename = "disableContainerInterface", default)]
    disable_container_interface: bool,
    #[serde(rename = "portIsolation", default)]
    port_isolation: bool,
    mac: Option<String>,
}

#[derive(Deserialize, Default)]
struct TrunkWire {
    #[serde(rename = "minID")]
    min_id: Option<i64>,
    #[serde(rename = "maxID")]
    max_id: Option<i64>,
    id: Option<i64>,
}

/// Decodes and validates the plugin keys of `conf` (the shared keys are already parsed).
pub fn parse(conf: &NetConf) -> Result<BridgeConf, CniError> {
    let wire: Wire = gojson::from_value(&conf.raw)?;
    validate(wire, conf.ipam_type().is_some()).map_err(CniError::from)
}

fn validate(w: Wire, has_ipam: bool) -> Result<BridgeConf, Error> {
    let bridge = w
        .bridge
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| DEFAULT_BRIDGE.to_owned());
    IfName::parse(&bridge)
        .map_err(|e| Error::Config(format!("invalid bridge name {bridge:?}: {}", e.msg)))?;
    if !(0..=4094).contains(&w.vlan) {
        return Err(Error::Config(format!(
            "invalid VLAN ID {} (must be between 0 and 4094)",
            w.vlan
        )));
    }
    let vlan = u16::try_from(w.vlan).ok().and_then(VlanId::new);
    let trunk = expand_trunk(w.vlan_trunk.as_deref().unwrap_or_default())?;
    if w.hairpin_mode && w.promisc_mode {
        return Err(Error::Config(
            "cannot set hairpin mode and promiscuous mode at the same time".into(),
        ));
    }
    if w.disable_container_interface && has_ipam {
        return Err(Error::Config(
            "cannot use IPAM when DisableContainerInterface flag is set".into(),
        ));
    }
    let mtu = match w.mtu {
        0 => None,
        m if (68..=65535).contains(&m) => u32::try_from(m).ok(),
        m => {
            return Err(Error::Config(format!(
                "invalid MTU {m} (must be 0 or between 68 and 65535)"
            )));
        }
    };
    let ip_masq = if w.ip_masq {
        Some(MasqBackend::from_config(w.ip_masq_backend.as_deref())?)
    } else {
        None
    };
    let conf = BridgeConf {
        bridge,
        is_gateway: w.is_gateway || w.is_default_gateway,
        is_default_gateway: w.is_default_gateway,
        force_address: w.force_address,
        ip_masq,
        mtu,
        hairpin: w.hairpin_mode,
        promisc: w.promisc_mode,
        vlan,
        trunk,
        preserve_default_vlan: w.preserve_default_vlan,
        macspoofchk: w.macspoofchk,
        enable_dad: w.enabledad,
        disable_container_interface: w.disable_container_interface,
        port_isolation: w.port_isolation,
        mac: w.mac.filter(|m| !m.is_empty()),
    };
    if let Some(name) = conf.vlan_gateway_name().filter(|_| conf.is_gateway) {
        IfName::parse(&name).map_err(|e| {
            Error::Config(format!(
                "invalid vlan gateway interface name {name:?}: {}",
                e.msg
            ))
        })?;
    }
    Ok(conf)
}

/// Expands `vlanTrunk` with the reference's checks and messages (copied by the reference from
/// ovs-cni): ranges need both ends, every id is 1..=4094.
fn expand_trunk(items: &[TrunkWire]) -> Result<Vec<VlanId>, Error> {
    let bad = |msg: &str| Error::Config(msg.to_owned());
    let id = |v: i64, msg: &str| -> Result<VlanId, Error> {
        u16::try_from(v)
            .ok()
            .and_then(VlanId::new)
            .ok_or_else(|| bad(msg))
    };
    let mut out = Vec::new();
    for item in items {
        match (item.min_id, item.max_id) {
            (Some(min), Some(max)) => {
                let min = id(min, "incorrect trunk minID parameter")?;
                let max = id(max, "incorrect trunk maxID parameter")?;
                if max < min {
                    return Err(bad("minID is greater than maxID in trunk parameter"));
                }
                out.extend((min.get()..=max.get()).filter_map(VlanId::new));
            }
            (None, Some(_)) => {
                return Err(bad(
                    "minID and maxID should be configured simultaneously, minID is missing",
                ));
            }
            (Some(_), None) => {
                return Err(bad(
                    "minID and maxID should be configured simultaneously, maxID is missing",
                ));
            }
            (None, None) => {}
        }
        if let Some(v) = item.id {
            out.push(id(v, "incorrect trunk id parameter")?);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests;
