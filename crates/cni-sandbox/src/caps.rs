//! What this kernel can do, probed once per process in a scratch world.
//!
//! Kernels differ in what they were built with. A test that needs a feature asks here and
//! skips (with a message) instead of failing for a reason that is not the code's fault.

use std::sync::OnceLock;

use crate::error::{Result, SandboxError};
use crate::world::World;

/// Whether bridges can turn on VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING). Without it,
/// `ip link add br type bridge vlan_filtering 1` fails with EOPNOTSUPP, and so does every
/// `bridge vlan add`, so bridge `vlan`/`vlanTrunk` configs cannot work.
pub fn bridge_vlan_filtering() -> Result<bool> {
    static CACHE: OnceLock<bool> = OnceLock::new();
    if let Some(v) = CACHE.get() {
        return Ok(*v);
    }
    let world = World::new("caps-vlan-filtering")?;
    let ns = world.netns("caps")?;
    let supported = match ns.ip(&[
        "link",
        "add",
        "br0",
        "type",
        "bridge",
        "vlan_filtering",
        "1",
    ]) {
        Ok(_) => true,
        Err(SandboxError::Command { ref stderr, .. }) if stderr.contains("not supported") => false,
        Err(e) => return Err(e),
    };
    Ok(*CACHE.get_or_init(|| supported))
}
