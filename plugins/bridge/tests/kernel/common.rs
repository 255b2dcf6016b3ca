//! The harness every kernel test here shares: a world with a node namespace, a `CNI_PATH`
//! directory holding our `bridge`, the current `host-local` (built as this package's example)
//! and the reference meta plugins, and helpers to run verbs as a runtime would.

use std::path::{Path, PathBuf};

use cni_sandbox::{Invocation, Ns, PluginRun, World};
use serde_json::{Value, json};

use cni_sandbox::merge_json as merge;

/// Our plugin binary.
pub const BRIDGE: &str = env!("CARGO_BIN_EXE_bridge");

/// `host-local`, built from the current source as this package's example `bridge-test-ipam`.
fn host_local() -> PathBuf {
    cni_sandbox::test_package!().example(Path::new(BRIDGE), "bridge-test-ipam")
}

/// One test's node: a world, its node namespace and a `CNI_PATH`.
pub struct Node {
    pub world: World,
    pub ns: Ns,
    pub cni_path: PathBuf,
    pub data_dir: PathBuf,
    /// The bridge name this test uses (unique names are not needed: each node is its own
    /// namespace, but a non-default name shows the `bridge` key is honoured).
    pub bridge: String,
}

impl Node {
    pub fn new(test: &str) -> Node {
        let world = World::new(test).expect("world (are we root?)");
        let ns = world.netns("node").expect("node namespace");
        let cni_path = world.tempdir().join("bin");
        let bins = [("bridge", Path::new(BRIDGE)), ("host-local", &host_local())];
        cni_sandbox::cni_path_dir(&cni_path, &bins).expect("CNI_PATH dir");
        cni_sandbox::link_reference(&cni_path, &["portmap", "bandwidth"]);
        let data_dir = world.tempdir().join("ipam");
        Node {
            world,
            ns,
            cni_path,
            data_dir,
            bridge: "br-test".into(),
        }
    }

    pub fn pod(&self, role: &str) -> Ns {
        self.world.netns(role).expect("pod namespace")
    }

    /// A config for network `net` on subnet(s) `subnets` (one range set each), merged with
    /// `extra`.
    pub fn conf(&self, version: &str, subnets: &[&str], extra: Value) -> Value {
        let ranges: Vec<Value> = subnets.iter().map(|s| json!([{"subnet": s}])).collect();
        let mut conf = json!({
            "cniVersion": version,
            "name": "net",
            "type": "bridge",
            "bridge": self.bridge,
            "ipam": {"type": "host-local", "ranges": ranges, "dataDir": self.data_dir},
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
        Invocation::attachment(self.cni_path.join("bridge"), command, conf, pod, id, ifname)
            .cni_path(&self.cni_path.to_string_lossy())
    }

    pub fn run(&self, inv: &Invocation) -> PluginRun {
        self.ns.run_plugin(inv).expect("plugin ran")
    }

    /// ADD `id`/eth0 into `pod` and return the result.
    pub fn add(&self, conf: &Value, pod: &Ns, id: &str) -> Value {
        self.run(&self.inv("ADD", conf, Some(pod), id, "eth0"))
            .expect_result()
    }

    /// DEL `id`/eth0 from `pod` (expects success).
    pub fn del(&self, conf: &Value, pod: Option<&Ns>, id: &str) {
        self.run(&self.inv("DEL", conf, pod, id, "eth0"))
            .expect_ok();
    }

    /// CHECK with `prev` as prevResult.
    pub fn check(&self, conf: &Value, prev: &Value, pod: &Ns, id: &str) -> PluginRun {
        let mut conf = conf.clone();
        conf["prevResult"] = prev.clone();
        self.run(&self.inv("CHECK", &conf, Some(pod), id, "eth0"))
    }

    /// The host veth named in a result (the entry without a sandbox that is not the bridge).
    pub fn host_veth(&self, result: &Value) -> String {
        result["interfaces"]
            .as_array()
            .expect("interfaces")
            .iter()
            .find(|i| i.get("sandbox").is_none() && i["name"] != self.bridge.as_str())
            .and_then(|i| i["name"].as_str())
            .expect("host veth in result")
            .to_owned()
    }

    /// Files in the IPAM store of network `net` that are reservations (addresses).
    pub fn reservations(&self) -> Vec<String> {
        let dir = self.data_dir.join("net");
        cni_sandbox::list_dir(&dir)
            .unwrap_or_default()
            .into_iter()
            .filter(|f| f.parse::<std::net::IpAddr>().is_ok())
            .collect()
    }
}

/// The first address of the result, without prefix.
pub fn ip_of(result: &Value, index: usize) -> String {
    let addr = result["ips"][index]["address"].as_str().expect("address");
    addr.split('/').next().expect("ip").to_owned()
}

/// `nft list ruleset` in `ns`.
pub fn ruleset(ns: &Ns) -> String {
    ns.nft(&["list", "ruleset"]).expect("nft list ruleset")
}
