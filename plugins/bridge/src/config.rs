//! The bridge plugin's config keys (cni-reference.md §2.1), decoded with Go's JSON rules and
//! validated into a [`BridgeConf`] whose fields can no longer contradict each other. The keys
//! the vxlan plugin shares (`isGateway`, `isDefaultGateway`, `forceAddress`, `ipMasq`,
//! `ipMasqBackend`, `mtu`, `hairpinMode`, `mac`) are `cni_attach::bridged::BridgedConf`.
//!
//! Defaults are the reference's at v1.8+: bridge `cni0`, `preserveDefaultVlan` false,
//! `isDefaultGateway` implying `isGateway`. Error texts are the reference's. One deliberate
//! difference: `ipMasqBackend` defaults to nftables (the reference picks iptables when present).

use cni_attach::bridged::BridgedConf;
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
    /// The keys shared with vxlan. Here `mtu` is the MTU of a new bridge and of both veth ends.
    pub bridged: BridgedConf,
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
    let bridged = BridgedConf::parse(conf)?;
    validate(wire, bridged, conf.ipam_type().is_some()).map_err(CniError::from)
}

fn validate(w: Wire, bridged: BridgedConf, has_ipam: bool) -> Result<BridgeConf, Error> {
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
    if bridged.hairpin && w.promisc_mode {
        return Err(Error::Config(
            "cannot set hairpin mode and promiscuous mode at the same time".into(),
        ));
    }
    if w.disable_container_interface && has_ipam {
        return Err(Error::Config(
            "cannot use IPAM when DisableContainerInterface flag is set".into(),
        ));
    }
    let conf = BridgeConf {
        bridge,
        bridged,
        promisc: w.promisc_mode,
        vlan,
        trunk,
        preserve_default_vlan: w.preserve_default_vlan,
        macspoofchk: w.macspoofchk,
        enable_dad: w.enabledad,
        disable_container_interface: w.disable_container_interface,
        port_isolation: w.port_isolation,
    };
    if let Some(name) = conf.vlan_gateway_name().filter(|_| conf.bridged.is_gateway) {
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
