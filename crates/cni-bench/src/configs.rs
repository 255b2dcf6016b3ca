//! The network configurations every subject gets, byte for byte the same for ours and the
//! reference: a typical Kubernetes bridge network and a macvlan one, both with host-local.
//!
//! `cniVersion` is 1.0.0, the newest the Debian reference (v1.1.1) speaks. `ipMasq` is off:
//! masquerading execs iptables/nft in both implementations and would measure those tools.

use std::path::Path;

use serde_json::{Value, json};

/// The bridge network's name (also the host-local store directory's name).
pub const BRIDGE_NET: &str = "benchbr";
/// The bridge every pod joins.
pub const BRIDGE: &str = "cni0";
/// The bridge network's subnet and its gateway (host-local's default: the first address).
pub const BRIDGE_SUBNET: &str = "10.88.0.0/16";
/// The gateway address, which `isGateway` puts on the bridge.
pub const BRIDGE_GW: &str = "10.88.0.1";

/// The macvlan network's name.
pub const MACVLAN_NET: &str = "benchmv";
/// The macvlan master in each node namespace.
pub const MACVLAN_MASTER: &str = "up0";
/// The macvlan network's subnet.
pub const MACVLAN_SUBNET: &str = "10.89.0.0/16";
/// Its gateway (a router on the LAN; nothing needs to answer there).
pub const MACVLAN_GW: &str = "10.89.0.1";

/// The vxlan network's name.
pub const VXLAN_NET: &str = "benchvx";
/// The vxlan underlay device in each node namespace, and the node's address on it.
pub const VXLAN_DEV: &str = "up0";
/// The node's underlay address.
pub const VXLAN_LOCAL: &str = "10.90.0.2/24";
/// A remote VTEP (head-end replication target; nothing needs to answer there).
pub const VXLAN_REMOTE: &str = "10.90.0.3";
/// The vxlan network's subnet.
pub const VXLAN_SUBNET: &str = "10.91.0.0/16";

/// The pod interface name.
pub const IFNAME: &str = "eth0";

/// host-local with one range, a default route, and its store under `data_dir`.
fn host_local(subnet: &str, data_dir: &Path) -> Value {
    json!({
        "type": "host-local",
        "ranges": [[{"subnet": subnet}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": data_dir.to_string_lossy(),
    })
}

/// The bridge network: `cni0`, gateway on the bridge, a default route in the pod.
pub fn bridge(data_dir: &Path) -> Value {
    json!({
        "cniVersion": "1.0.0",
        "name": BRIDGE_NET,
        "type": "bridge",
        "bridge": BRIDGE,
        "isGateway": true,
        "ipMasq": false,
        "ipam": host_local(BRIDGE_SUBNET, data_dir),
    })
}

/// The macvlan network on `up0`, bridge mode.
pub fn macvlan(data_dir: &Path) -> Value {
    json!({
        "cniVersion": "1.0.0",
        "name": MACVLAN_NET,
        "type": "macvlan",
        "master": MACVLAN_MASTER,
        "mode": "bridge",
        "ipam": host_local(MACVLAN_SUBNET, data_dir),
    })
}

/// The vxlan network: VNI 42 over `up0` to one static remote, gateway on its bridge.
pub fn vxlan(data_dir: &Path) -> Value {
    json!({
        "cniVersion": "1.0.0",
        "name": VXLAN_NET,
        "type": "vxlan",
        "vni": 42,
        "dev": VXLAN_DEV,
        "remotes": [VXLAN_REMOTE],
        "isGateway": true,
        "ipam": host_local(VXLAN_SUBNET, data_dir),
    })
}

/// The same network as a one-plugin conflist, for the runner.
pub fn as_conflist(conf: &Value) -> Value {
    let mut plugin = conf.clone();
    let mut list = json!({
        "cniVersion": conf["cniVersion"],
        "name": conf["name"],
    });
    if let Some(obj) = plugin.as_object_mut() {
        obj.remove("cniVersion");
        obj.remove("name");
    }
    list["plugins"] = json!([plugin]);
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflist_keeps_the_plugin_and_lifts_name_and_version() {
        let conf = bridge(Path::new("/tmp/x"));
        let list = as_conflist(&conf);
        assert_eq!(list["name"], BRIDGE_NET);
        assert_eq!(list["cniVersion"], "1.0.0");
        assert_eq!(list["plugins"][0]["type"], "bridge");
        assert_eq!(list["plugins"][0]["ipam"]["dataDir"], "/tmp/x");
        assert!(list["plugins"][0].get("name").is_none());
    }
}
