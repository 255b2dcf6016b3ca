//! The floor: the kernel work of one attachment done by iproute2, with nothing else around it.
//!
//! Per attachment, two `ip -batch` processes, like a plugin and its IPAM child are two
//! processes: one in the node (create the veth there with its peer born in the pod as `eth0`,
//! enslave it to the bridge, bring it up; for macvlan, create `eth0` on the master directly in
//! the pod), one in the pod (address, link up, default route). DEL is one `ip link del eth0`
//! in the pod: deleting either veth end (or the macvlan) removes the device.
//! No IPAM, no sysctls, no read-back: whatever a plugin does beyond this is its own cost.

use cni_sandbox::Ns;

use crate::configs::{self, BRIDGE, BRIDGE_GW, IFNAME, MACVLAN_GW, MACVLAN_MASTER};
use crate::error::{BenchError, Result};
use crate::exec::{self, Launch, Timing};
use crate::netns::NsFile;
use crate::site::{Pod, Scenario};

/// The host end's name: one measured attachment per node exists at a time.
const HOST_VETH: &str = "vfloor0";
/// The pod's address in the bridge network.
const BRIDGE_POD_ADDR: &str = "10.88.0.2/16";
/// The pod's address in the macvlan network.
const MACVLAN_POD_ADDR: &str = "10.89.0.2/16";

/// What a plugin's first ADD would have made on the node: for bridge, `cni0` up with the
/// gateway address (`isGateway`). Macvlan needs nothing beyond the master.
pub fn prepare(node: &Ns, scenario: Scenario) -> Result<()> {
    if scenario == Scenario::Bridge {
        let gw = format!("{BRIDGE_GW}/16");
        node.ip(&["link", "add", BRIDGE, "type", "bridge"])?;
        node.ip(&["link", "set", BRIDGE, "up"])?;
        node.ip(&["addr", "add", &gw, "dev", BRIDGE])?;
    }
    Ok(())
}

/// One floor ADD into `pod`; returns the time of both processes.
pub fn add(
    scenario: Scenario,
    node: &NsFile,
    home: &NsFile,
    pod: &Pod,
    what: &str,
) -> Result<Timing> {
    let (node_cmds, addr, gw) = match scenario {
        Scenario::Bridge => (
            vec![
                format!(
                    "link add {HOST_VETH} type veth peer name {IFNAME} netns {}",
                    pod.ns.name()
                ),
                format!("link set {HOST_VETH} master {BRIDGE}"),
                format!("link set {HOST_VETH} up"),
            ],
            BRIDGE_POD_ADDR,
            BRIDGE_GW,
        ),
        Scenario::Macvlan => (
            vec![format!(
                "link add link {MACVLAN_MASTER} name {IFNAME} netns {} type macvlan mode bridge",
                pod.ns.name()
            )],
            MACVLAN_POD_ADDR,
            MACVLAN_GW,
        ),
        Scenario::Vxlan => {
            return Err(BenchError::Usage(
                "no iproute2 floor is written for vxlan".into(),
            ));
        }
    };
    let pod_cmds = vec![
        format!("addr add {addr} dev {}", configs::IFNAME),
        format!("link set {IFNAME} up"),
        format!("route add default via {gw} dev {IFNAME}"),
    ];
    let host = exec::run_ok(node, home, &Launch::ip_batch(&node_cmds), what)?;
    let inside = exec::run_ok(&pod.file, home, &Launch::ip_batch(&pod_cmds), what)?;
    Ok(host.timing() + inside.timing())
}

/// One floor DEL: the pod's device goes, and with a veth its node end too.
pub fn del(home: &NsFile, pod: &Pod, what: &str) -> Result<Timing> {
    let mut launch = Launch::new(exec::ip_path());
    launch.args = ["link", "del", IFNAME].map(String::from).to_vec();
    launch.env = vec![("LC_ALL".into(), "C".into())];
    Ok(exec::run_ok(&pod.file, home, &launch, what)?.timing())
}
