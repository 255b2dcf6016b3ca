//! The host veth as a bridge port: master, hairpin, isolation and VLANs. (The bounded wait until
//! it forwards is shared with vxlan, in `cni_attach::bridge`.)
//!
//! Hairpin and isolation are always written, true or false, as the reference does, so a port
//! reused under a new config cannot keep an old flag. VLANs follow the reference at v1.8: with
//! any VLAN configured and `preserveDefaultVlan` off, every VLAN the kernel put on the new port
//! (PVID 1) is removed first; `vlan` becomes PVID and untagged; trunk ids are tagged; with a
//! trunk but no `vlan`, VID 1 stays the untagged native VLAN.

use cni_attach::{NsConn, PortFlags};
use cni_netlink::{Link, VlanId, VlanRange, VlanSpec, VlanTarget};

use crate::config::BridgeConf;
use crate::device::is_vlan_unsupported;
use crate::error::{Error, Result};

/// What one port gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSettings {
    /// Hairpin (reflective relay).
    pub hairpin: bool,
    /// Isolated port.
    pub isolated: bool,
    /// Access VLAN (PVID, untagged).
    pub vlan: Option<VlanId>,
    /// Tagged VLANs.
    pub trunk: Vec<VlanId>,
    /// Keep the kernel's default VLAN.
    pub preserve_default_vlan: bool,
}

impl PortSettings {
    /// A pod's port.
    pub fn pod(conf: &BridgeConf) -> PortSettings {
        PortSettings {
            hairpin: conf.bridged.hairpin,
            isolated: conf.port_isolation,
            vlan: conf.vlan,
            trunk: conf.trunk.clone(),
            preserve_default_vlan: conf.preserve_default_vlan,
        }
    }

    /// The `<bridge>.<vlan>` gateway's port: untagged in the access VLAN only.
    pub fn vlan_gateway(conf: &BridgeConf) -> PortSettings {
        PortSettings {
            hairpin: false,
            isolated: false,
            vlan: conf.vlan,
            trunk: Vec::new(),
            preserve_default_vlan: conf.preserve_default_vlan,
        }
    }

    /// The flags `cni_attach::bridge` writes (and CHECK reads back).
    pub fn flags(&self) -> PortFlags {
        PortFlags {
            hairpin: self.hairpin,
            isolated: self.isolated,
        }
    }

    fn uses_vlans(&self) -> bool {
        self.vlan.is_some() || !self.trunk.is_empty()
    }
}

/// Enslaves `port` to `bridge`, writes its flags (shared with vxlan: `cni_attach::bridge`) and
/// applies the VLANs.
pub fn attach_port(
    node: &NsConn,
    bridge: &Link,
    port: &Link,
    settings: &PortSettings,
) -> Result<()> {
    cni_attach::bridge::attach_port(node, bridge, port, settings.flags())?;
    if settings.uses_vlans() {
        apply_vlans(node, port, settings)?;
    }
    Ok(())
}

fn apply_vlans(node: &NsConn, port: &Link, settings: &PortSettings) -> Result<()> {
    let what = || format!("failed to setup vlan tag on interface {:?}", port.name);
    let vlan_err = |source: cni_netlink::Error| -> Error {
        if is_vlan_unsupported(&source) {
            Error::VlanUnsupported {
                what: what(),
                source,
            }
        } else {
            cni_attach::Error::Netlink {
                context: what(),
                source,
            }
            .into()
        }
    };
    if !settings.preserve_default_vlan {
        let current = node.handle.bridge_vlan_show(port.index).map_err(vlan_err)?;
        for v in current.iter().filter_map(|v| VlanId::new(v.vid)) {
            node.handle
                .bridge_vlan_del(port.index, VlanRange::one(v), VlanTarget::Port)
                .map_err(vlan_err)?;
        }
    }
    let native = settings
        .vlan
        .or_else(|| VlanId::new(1).filter(|_| !settings.trunk.is_empty()));
    if let Some(vid) = native {
        let spec = VlanSpec::Single {
            vid,
            pvid: true,
            untagged: true,
        };
        node.handle
            .bridge_vlan_add(port.index, &spec, VlanTarget::Port)
            .map_err(vlan_err)?;
    }
    for vids in runs(&settings.trunk) {
        let spec = VlanSpec::Range {
            vids,
            untagged: false,
        };
        node.handle
            .bridge_vlan_add(port.index, &spec, VlanTarget::Port)
            .map_err(vlan_err)?;
    }
    Ok(())
}

/// Consecutive ids as ranges (one request per run instead of one per id).
pub fn runs(ids: &[VlanId]) -> Vec<VlanRange> {
    let mut out: Vec<VlanRange> = Vec::new();
    for &id in ids {
        if let Some(last) = out.last_mut() {
            if last.last().get().checked_add(1) == Some(id.get()) {
                if let Some(r) = VlanRange::new(last.first(), id) {
                    *last = r;
                    continue;
                }
            }
        }
        out.push(VlanRange::one(id));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_ids_become_runs() {
        let ids: Vec<VlanId> = [101, 200, 201, 202, 210]
            .into_iter()
            .filter_map(VlanId::new)
            .collect();
        let r: Vec<(u16, u16)> = runs(&ids)
            .iter()
            .map(|r| (r.first().get(), r.last().get()))
            .collect();
        assert_eq!(r, [(101, 101), (200, 202), (210, 210)]);
        assert!(runs(&[]).is_empty());
    }
}
