//! The test LAN every kernel test starts from, and the plumbing to run the plugin on it.
//!
//! ```text
//!   switch ns:   sw0 (bridge, STP off) --- p0 ---+--- p1 ... (hosts, routers)
//!                                                |
//!   node ns:     up0 (10.10.0.2/24) = the macvlan master; the plugin runs here
//!   pod ns:      <ifname> macvlan on up0, created by the plugin
//! ```
//! Addresses repeat across tests freely: every test has its own namespaces.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use cni_sandbox::merge_json as merge;
use cni_sandbox::{Invocation, Ns, Ping, Plug, PluginRun, Switch, World};
use serde_json::{Value, json};

/// The LAN's subnet; IPAM hands out .10 to .50.
pub const SUBNET: &str = "10.10.0.0/24";
/// The node's own address on the master.
pub const NODE_IP: &str = "10.10.0.2";

/// The plugin under test.
pub fn macvlan_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_macvlan"))
}

/// `host-local`, built from the current source as this package's example `macvlan-test-ipam`.
pub fn host_local() -> PathBuf {
    cni_sandbox::test_package!().example(&macvlan_bin(), "macvlan-test-ipam")
}

/// A switch, a node plugged into it by its master `up0`, and whatever a test adds.
pub struct Lan {
    /// Owns every namespace; dropped last.
    pub world: World,
    /// The switch.
    pub switch: Switch,
    /// The node namespace (the plugin runs here).
    pub node: Ns,
    /// The node's master.
    pub up0: Plug,
}

impl Lan {
    /// A fresh LAN for `test`.
    pub fn new(test: &str) -> Lan {
        let world = World::new(test).expect("world (kernel tests run as root)");
        let switch = world.switch("sw").expect("switch");
        let node = world.netns("node").expect("node");
        let up0 = switch
            .plug(&node, "up0", Some(&format!("{NODE_IP}/24")))
            .expect("plug node");
        let lan = Lan {
            world,
            switch,
            node,
            up0,
        };
        cni_sandbox::cni_path_dir(&lan.cni_dir(), &[("host-local", &host_local())])
            .expect("CNI_PATH dir");
        lan
    }

    /// A host on the switch with `cidrs` on its `eth0`.
    pub fn host(&self, role: &str, cidrs: &[&str]) -> (Ns, Plug) {
        let ns = self.world.netns(role).expect("host ns");
        let plug = self.switch.plug(&ns, "eth0", None).expect("plug host");
        for cidr in cidrs {
            ns.add_addr("eth0", cidr).expect("host address");
        }
        (ns, plug)
    }

    /// An empty pod namespace.
    pub fn pod(&self, role: &str) -> Ns {
        self.world.netns(role).expect("pod ns")
    }

    /// host-local on [`SUBNET`] with a data dir inside the world, plus `extra` keys.
    pub fn ipam(&self, extra: Value) -> Value {
        let mut ipam = json!({
            "type": "host-local",
            "subnet": SUBNET,
            "rangeStart": "10.10.0.10",
            "rangeEnd": "10.10.0.50",
            "dataDir": self.data_dir(),
        });
        merge(&mut ipam, extra);
        ipam
    }

    /// host-local's data dir in this world.
    pub fn data_dir(&self) -> String {
        self.world.tempdir().join("ipam").display().to_string()
    }

    /// The addresses host-local holds for `network`.
    pub fn reservations(&self, network: &str) -> Vec<IpAddr> {
        let dir = Path::new(&self.data_dir()).join(network);
        let Ok(names) = cni_sandbox::list_dir(&dir) else {
            return Vec::new();
        };
        names.iter().filter_map(|n| n.parse().ok()).collect()
    }

    /// Runs the plugin in the node namespace, with this world's `CNI_PATH` (where `host-local`
    /// is) and shim lock directory.
    pub fn run(&self, inv: &Invocation) -> PluginRun {
        let inv = inv
            .clone()
            .cni_path(&self.cni_dir().display().to_string())
            .env(
                cni_macvlan::shim::LOCK_DIR_ENV,
                &self.lock_dir().display().to_string(),
            );
        self.node.run_plugin(&inv).expect("run plugin")
    }

    /// This world's `CNI_PATH`: a directory holding only `host-local` (made by [`Lan::new`]).
    pub fn cni_dir(&self) -> PathBuf {
        self.world.tempdir().join("cni-bin")
    }

    /// Where this world's shim lock files go (removed with the world).
    pub fn lock_dir(&self) -> PathBuf {
        self.world.tempdir().join("locks")
    }

    /// ADD, which must succeed; returns the result.
    pub fn add(&self, pod: &Ns, id: &str, ifname: &str, conf: &Value) -> Value {
        self.run(&call("ADD", pod, id, ifname, conf))
            .expect_result()
    }

    /// DEL, which must succeed.
    pub fn del(&self, pod: &Ns, id: &str, ifname: &str, conf: &Value) {
        self.run(&call("DEL", pod, id, ifname, conf)).expect_ok();
    }

    /// The node's master as the node sees it.
    pub fn up0_index(&self) -> u32 {
        self.node.link("up0").expect("ip").expect("up0").index
    }
}

/// An invocation of the plugin (`CNI_PATH` is set by [`Lan::run`]).
pub fn call(cmd: &str, pod: &Ns, id: &str, ifname: &str, conf: &Value) -> Invocation {
    call_bin(&macvlan_bin(), cmd, pod, id, ifname, conf)
}

/// The same for another binary (the Go reference plugin).
pub fn call_bin(
    bin: &Path,
    cmd: &str,
    pod: &Ns,
    id: &str,
    ifname: &str,
    conf: &Value,
) -> Invocation {
    Invocation::attachment(bin, cmd, conf, Some(pod), id, ifname)
}

/// A macvlan config on `up0`: `{"cniVersion", "name", "type", "master"}` plus `extra`.
pub fn conf(name: &str, version: &str, extra: Value) -> Value {
    let mut conf = json!({
        "cniVersion": version,
        "name": name,
        "type": "macvlan",
        "master": "up0",
    });
    merge(&mut conf, extra);
    conf
}

/// The `n`th address of a result, without its prefix.
pub fn ip(result: &Value, n: usize) -> String {
    let cidr = result["ips"][n]["address"]
        .as_str()
        .unwrap_or_else(|| panic!("no ips[{n}] in {result}"));
    cidr.split('/').next().unwrap_or_default().to_owned()
}

/// Whether `from` reaches `to` (three tries: ARP may need one).
pub fn reaches(from: &Ns, to: &str) -> bool {
    from.ping(to).expect("ping")
}

/// Whether `from` reaches `to` in one try: for asserting that it does not.
pub fn reaches_once(from: &Ns, to: &str) -> bool {
    from.ping_with(to, &Ping::once()).expect("ping")
}

/// The MAC of `dev` in `ns`.
pub fn mac_of(ns: &Ns, dev: &str) -> String {
    ns.link(dev)
        .expect("ip")
        .and_then(|l| l.mac)
        .unwrap_or_else(|| panic!("no MAC on {dev}"))
}
