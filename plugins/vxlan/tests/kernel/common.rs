//! The harness every kernel test here shares: a cluster of node namespaces whose `eth0`
//! underlays are ports of one switch bridge (in its own namespace), each with a default route
//! on `eth0`, a `CNI_PATH` holding our `vxlan` and the current `host-local` (built as this
//! package's example), per-node IPAM ranges of one pod subnet, and helpers to run verbs as a
//! runtime on that node would.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cni_sandbox::merge_json as merge;
use cni_sandbox::{Background, Invocation, LinkView, Ns, PluginRun, Switch, VxlanInfo, World};
use serde_json::{Value, json};

/// Our plugin binary.
pub const VXLAN: &str = env!("CARGO_BIN_EXE_vxlan");
/// The pod subnet every test network uses.
pub const POD_SUBNET: &str = "10.100.0.0/24";
/// The VTEP and bridge names for the tests' VNI (100).
pub const VTEP: &str = "vxlan100";
pub const BRIDGE: &str = "vxbr100";

/// `host-local`, built from the current source as this package's example `vxlan-test-ipam`.
fn host_local() -> PathBuf {
    cni_sandbox::test_package!().example(Path::new(VXLAN), "vxlan-test-ipam")
}

/// A node: its namespace, its underlay address, its IPAM store.
pub struct Node {
    pub ns: Ns,
    /// 1-based.
    pub number: usize,
    /// The underlay address without prefix (`10.200.0.N` or `fd00:200::N`).
    pub underlay: String,
    pub data_dir: PathBuf,
}

/// Several nodes on one switch.
pub struct Cluster {
    pub world: World,
    pub switch: Switch,
    pub nodes: Vec<Node>,
    pub cni_path: PathBuf,
    pub lock_dir: PathBuf,
}

impl Cluster {
    /// `n` nodes with IPv4 underlays `10.200.0.1..n/24`.
    pub fn new(test: &str, n: usize) -> Cluster {
        Cluster::build(test, n, false)
    }

    /// `n` nodes with IPv6 underlays `fd00:200::1..n/64`.
    pub fn new_v6(test: &str, n: usize) -> Cluster {
        Cluster::build(test, n, true)
    }

    fn build(test: &str, n: usize, v6: bool) -> Cluster {
        let world = World::new(test).expect("world (are we root?)");
        let switch = world.switch("switch").expect("switch");
        let cni_path = world.tempdir().join("bin");
        let bins = [("vxlan", Path::new(VXLAN)), ("host-local", &host_local())];
        cni_sandbox::cni_path_dir(&cni_path, &bins).expect("CNI_PATH dir");
        let lock_dir = world.tempdir().join("locks");
        let mut nodes = Vec::new();
        for number in 1..=n {
            let ns = world
                .netns(&format!("node{number}"))
                .expect("node namespace");
            let (underlay, cidr) = if v6 {
                (
                    format!("fd00:200::{number}"),
                    format!("fd00:200::{number}/64"),
                )
            } else {
                (
                    format!("10.200.0.{number}"),
                    format!("10.200.0.{number}/24"),
                )
            };
            switch.plug(&ns, "eth0", Some(&cidr)).expect("plug node");
            let family = if v6 { "-6" } else { "-4" };
            ns.ip(&[family, "route", "add", "default", "dev", "eth0"])
                .expect("default route");
            let data_dir = world.tempdir().join(format!("ipam{number}"));
            nodes.push(Node {
                ns,
                number,
                underlay,
                data_dir,
            });
        }
        Cluster {
            world,
            switch,
            nodes,
            cni_path,
            lock_dir,
        }
    }

    /// Node `n` (1-based).
    pub fn node(&self, n: usize) -> &Node {
        &self.nodes[n - 1]
    }

    pub fn pod(&self, role: &str) -> Ns {
        self.world.netns(role).expect("pod namespace")
    }

    /// Every node's underlay address.
    pub fn underlays(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.underlay.clone()).collect()
    }

    /// The network's config as node `n` sees it: VNI 100, host-local with the node's own
    /// slice `10.100.0.<n>1 - <n>9` of the pod subnet, merged with `extra`.
    pub fn conf(&self, n: usize, extra: Value) -> Value {
        let node = self.node(n);
        let mut conf = json!({
            "cniVersion": "1.1.0",
            "name": "vxnet",
            "type": "vxlan",
            "vni": 100,
            "ipam": {
                "type": "host-local",
                "ranges": [[{
                    "subnet": POD_SUBNET,
                    "rangeStart": format!("10.100.0.{n}1"),
                    "rangeEnd": format!("10.100.0.{n}9"),
                }]],
                "dataDir": node.data_dir,
            },
        });
        merge(&mut conf, extra);
        conf
    }

    pub fn inv(
        &self,
        command: &str,
        conf: &Value,
        pod: Option<&Ns>,
        id: &str,
        ifname: &str,
    ) -> Invocation {
        Invocation::attachment(self.cni_path.join("vxlan"), command, conf, pod, id, ifname)
            .cni_path(&self.cni_path.to_string_lossy())
            .env("CNI_VXLAN_LOCK_DIR", &self.lock_dir.to_string_lossy())
    }

    /// Runs `inv` on node `n`.
    pub fn run(&self, n: usize, inv: &Invocation) -> PluginRun {
        self.node(n).ns.run_plugin(inv).expect("plugin ran")
    }

    /// ADD `id`/eth0 into `pod` on node `n` and return the result.
    pub fn add(&self, n: usize, conf: &Value, pod: &Ns, id: &str) -> Value {
        self.run(n, &self.inv("ADD", conf, Some(pod), id, "eth0"))
            .expect_result()
    }

    /// DEL `id`/eth0 on node `n` (expects success).
    pub fn del(&self, n: usize, conf: &Value, pod: Option<&Ns>, id: &str) {
        self.run(n, &self.inv("DEL", conf, pod, id, "eth0"))
            .expect_ok();
    }

    /// CHECK with `prev` as prevResult.
    pub fn check(&self, n: usize, conf: &Value, prev: &Value, pod: &Ns, id: &str) -> PluginRun {
        let mut conf = conf.clone();
        conf["prevResult"] = prev.clone();
        self.run(n, &self.inv("CHECK", &conf, Some(pod), id, "eth0"))
    }

    /// STATUS on node `n`.
    pub fn status(&self, n: usize, conf: &Value) -> PluginRun {
        let inv = Invocation::new(self.cni_path.join("vxlan"), "STATUS")
            .cni_path(&self.cni_path.to_string_lossy())
            .env("CNI_VXLAN_LOCK_DIR", &self.lock_dir.to_string_lossy())
            .config(conf);
        self.run(n, &inv)
    }

    /// Lock files left in the lock directory.
    pub fn lock_files(&self) -> Vec<String> {
        cni_sandbox::list_dir(&self.lock_dir).unwrap_or_default()
    }

    /// Starts a capture of the VXLAN traffic crossing the switch (the switch bridge sees every
    /// frame: tcpdump makes it promiscuous). Returns once tcpdump is capturing.
    pub fn capture_underlay(&self, port: u16) -> Capture {
        let file = self.world.tempdir().join(format!("underlay-{port}.pcap"));
        let file_arg = file.to_string_lossy().into_owned();
        let filter = format!("udp port {port}");
        let tcpdump = self
            .switch
            .ns()
            .spawn(&[
                "tcpdump",
                "-i",
                "sw0",
                "-nn",
                // Without it libpcap hands packets over in blocks every second or so, and the
                // ones still in the ring when we stop it are never written.
                "--immediate-mode",
                "-U",
                "-w",
                &file_arg,
                &filter,
            ])
            .expect("tcpdump");
        // tcpdump writes the pcap header once the capture is open.
        wait_for(Duration::from_secs(5), "tcpdump to start", || {
            std::fs::metadata(&file).is_ok_and(|m| m.len() >= 24)
        });
        Capture {
            tcpdump: Some(tcpdump),
            file,
            ns: self.switch.ns().clone(),
        }
    }
}

/// A running capture.
pub struct Capture {
    tcpdump: Option<Background>,
    file: PathBuf,
    ns: Ns,
}

impl Capture {
    /// Stops the capture and returns the decoded packets, one line each (with `-v`-less
    /// tcpdump, an encapsulated frame prints as an outer line and an inner line).
    pub fn stop(mut self) -> String {
        if let Some(t) = self.tcpdump.take() {
            // Let the last packets reach the file.
            std::thread::sleep(Duration::from_millis(200));
            t.stop();
        }
        let file = self.file.to_string_lossy().into_owned();
        self.ns
            .exec_ok(&["tcpdump", "-nn", "-r", &file])
            .expect("read capture")
    }
}

/// Polls `done` until it holds or `limit` passes (then panics naming `what`).
pub fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The VTEP as `ip -d link` shows it on `ns`.
pub fn vtep(ns: &Ns) -> (LinkView, VxlanInfo) {
    let link = ns.link(VTEP).expect("ip link").expect("VTEP exists");
    let info = link.vxlan().expect("VTEP is a vxlan").clone();
    (link, info)
}

/// The all-zero (flood) FDB entries of the VTEP: their destinations, sorted.
pub fn flood_remotes(ns: &Ns) -> Vec<String> {
    let mut out: Vec<String> = ns
        .fdb(VTEP)
        .expect("bridge fdb")
        .into_iter()
        .filter(|e| e.mac == "00:00:00:00:00:00")
        .map(|e| {
            assert!(
                e.is_self && e.permanent,
                "flood entry is self permanent: {e:?}"
            );
            e.dst.expect("flood entry has a dst").to_string()
        })
        .collect();
    out.sort();
    out
}

/// Names of the vxlan links in `ns`.
pub fn vxlan_links(ns: &Ns) -> Vec<String> {
    ns.links()
        .expect("ip link")
        .into_iter()
        .filter(|l| l.kind.as_deref() == Some("vxlan"))
        .map(|l| l.name)
        .collect()
}

/// The first address of the result, without prefix.
pub fn ip_of(result: &Value) -> String {
    let addr = result["ips"][0]["address"].as_str().expect("address");
    addr.split('/').next().expect("ip").to_owned()
}

/// Whether every ordered pair of `(pod, address)` pings.
pub fn all_ping(pods: &[(&Ns, String)]) -> Vec<String> {
    let mut failures = Vec::new();
    for (from, _) in pods {
        for (to, addr) in pods {
            if from.name() != to.name() && !from.ping(addr).expect("ping ran") {
                failures.push(format!("{} -> {addr}", from.name()));
            }
        }
    }
    failures
}
