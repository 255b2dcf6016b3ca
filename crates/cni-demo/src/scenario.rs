//! The demo's scenarios: one per plugin, each a world of namespaces that a runtime's calls wire
//! up, a few pings that show the pods talk, and the DELs that take it all down again.

use std::error::Error;
use std::path::{Path, PathBuf};

use cni_sandbox::{Invocation, Ns, PluginRun, World, list_dir};
use serde_json::{Value, json};

type Res<T> = Result<T, Box<dyn Error>>;

/// A demo scenario: a name for `--only`, a line about it, and the code that runs it.
pub struct Scenario {
    pub name: &'static str,
    /// The binaries it runs; a scenario whose binaries are not in the plugin dir is skipped.
    pub needs: &'static [&'static str],
    pub about: &'static str,
    pub run: fn(&Path, &mut Outcome) -> Res<()>,
}

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "bridge",
        needs: &["bridge", "host-local"],
        about: "two pods on a Linux bridge with hairpin, gateway and default route (host-local IPAM)",
        run: bridge,
    },
    Scenario {
        name: "macvlan",
        needs: &["macvlan", "host-local"],
        about: "two pods on macvlan children of the node's uplink, reaching a router on the switch",
        run: macvlan,
    },
    Scenario {
        name: "vxlan",
        about: "pods on two nodes share one L2 segment over VXLAN (static remotes)",
        needs: &["vxlan", "host-local"],
        run: vxlan,
    },
];

/// Counts what the demo showed working and what it did not.
#[derive(Default)]
pub struct Outcome {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Outcome {
    fn check(&mut self, ok: bool, what: &str) {
        if ok {
            self.passed += 1;
            println!("  [ok]   {what}");
        } else {
            self.fail(what);
        }
    }

    pub fn fail(&mut self, what: &str) {
        self.failed += 1;
        println!("  [FAIL] {what}");
    }
}

/// One pod attachment: where it lives and what the plugin answered.
struct Pod {
    ns: Ns,
    id: String,
    ip: String,
}

/// What a runtime on the node does for one network: the same config for every pod.
struct Runtime<'a> {
    node: &'a Ns,
    plugins: &'a Path,
    conf: Value,
}

impl Runtime<'_> {
    fn invocation(&self, command: &str, pod: &Ns, id: &str) -> Invocation {
        Invocation::new(self.plugin(), command)
            .container_id(id)
            .netns(pod.path())
            .ifname("eth0")
            .cni_path(&self.plugins.display().to_string())
            .config(&self.conf)
    }

    fn plugin(&self) -> PathBuf {
        self.plugins
            .join(self.conf["type"].as_str().unwrap_or_default())
    }

    fn add(&self, pod: Ns, id: &str, outcome: &mut Outcome) -> Res<Option<Pod>> {
        let run = self.node.run_plugin(&self.invocation("ADD", &pod, id))?;
        let Some(ip) = first_address(&run) else {
            outcome.fail(&format!("ADD {id}: {}", run.stdout.trim()));
            return Ok(None);
        };
        outcome.check(true, &format!("ADD {id} -> eth0 {ip}"));
        let ip = ip.split('/').next().unwrap_or_default().to_owned();
        Ok(Some(Pod {
            ns: pod,
            id: id.to_owned(),
            ip,
        }))
    }

    fn del(&self, pod: &Pod, outcome: &mut Outcome) -> Res<()> {
        let run = self
            .node
            .run_plugin(&self.invocation("DEL", &pod.ns, &pod.id))?;
        outcome.check(run.success(), &format!("DEL {}", pod.id));
        Ok(())
    }
}

impl Runtime<'_> {
    /// One pod namespace per role, each attached; pods whose ADD failed are left out.
    fn add_pods(&self, world: &World, roles: &[&str], outcome: &mut Outcome) -> Res<Vec<Pod>> {
        let mut pods = Vec::new();
        for role in roles {
            pods.extend(self.add(world.netns(role)?, role, outcome)?);
        }
        Ok(pods)
    }

    /// DEL for every pod, then the IPAM store in `store` must be empty again.
    fn del_pods(&self, pods: &[Pod], store: &Path, outcome: &mut Outcome) -> Res<()> {
        for pod in pods {
            self.del(pod, outcome)?;
        }
        store_is_clean(outcome, store)
    }
}

fn first_address(run: &PluginRun) -> Option<String> {
    let result = run.result.as_ref().filter(|_| run.success())?;
    Some(result["ips"][0]["address"].as_str()?.to_owned())
}

fn ping(outcome: &mut Outcome, from: &Ns, from_name: &str, to: &str, to_name: &str) -> Res<()> {
    let ok = from.ping(to)?;
    outcome.check(ok, &format!("{from_name} pings {to_name} ({to})"));
    Ok(())
}

/// The IPAM store after the DELs must hold nothing but the lock and the round-robin cursors.
fn store_is_clean(outcome: &mut Outcome, dir: &Path) -> Res<()> {
    let left: Vec<String> = list_dir(dir)?
        .into_iter()
        .filter(|f| f != "lock" && !f.starts_with("last_reserved_ip."))
        .collect();
    outcome.check(
        left.is_empty(),
        &format!("host-local store released every address (left: {left:?})"),
    );
    Ok(())
}

fn bridge(plugins: &Path, outcome: &mut Outcome) -> Res<()> {
    let world = World::new("demo-bridge")?;
    let node = world.netns("node")?;
    let data_dir = world.tempdir().join("ipam");
    let rt = Runtime {
        node: &node,
        plugins,
        conf: json!({
            "cniVersion": "1.0.0", "name": "demo-bridge", "type": "bridge",
            "bridge": "cni0", "isGateway": true, "isDefaultGateway": true, "hairpinMode": true,
            "ipam": {"type": "host-local", "subnet": "10.88.0.0/24",
                     "dataDir": data_dir.display().to_string()}
        }),
    };
    let pods = rt.add_pods(&world, &["pod-a", "pod-b"], outcome)?;
    if let [a, b] = pods.as_slice() {
        ping(outcome, &a.ns, "pod-a", &b.ip, "pod-b")?;
        ping(outcome, &b.ns, "pod-b", &a.ip, "pod-a")?;
        ping(outcome, &a.ns, "pod-a", "10.88.0.1", "its gateway on cni0")?;
        ping(outcome, &node, "the node", &a.ip, "pod-a")?;
        let ports = node.bridge_ports()?;
        let hairpin = ports.iter().filter(|p| p.hairpin).count();
        outcome.check(
            hairpin == 2,
            &format!(
                "both bridge ports have hairpin on ({hairpin} of {})",
                ports.len()
            ),
        );
    }
    rt.del_pods(&pods, &data_dir.join("demo-bridge"), outcome)
}

fn macvlan(plugins: &Path, outcome: &mut Outcome) -> Res<()> {
    let world = World::new("demo-macvlan")?;
    let switch = world.switch("switch")?;
    let node = world.netns("node")?;
    let router = world.netns("router")?;
    // The node's uplink is the macvlan master; a router sits on the same switch.
    switch.plug(&node, "eth1", None)?;
    switch.plug(&router, "eth0", Some("10.89.0.1/24"))?;
    let data_dir = world.tempdir().join("ipam");
    let rt = Runtime {
        node: &node,
        plugins,
        conf: json!({
            "cniVersion": "1.0.0", "name": "demo-macvlan", "type": "macvlan",
            "master": "eth1", "mode": "bridge",
            "ipam": {"type": "host-local", "subnet": "10.89.0.0/24", "rangeStart": "10.89.0.10",
                     "gateway": "10.89.0.1", "routes": [{"dst": "0.0.0.0/0"}],
                     "dataDir": data_dir.display().to_string()}
        }),
    };
    let pods = rt.add_pods(&world, &["pod-a", "pod-b"], outcome)?;
    if let [a, b] = pods.as_slice() {
        ping(outcome, &a.ns, "pod-a", &b.ip, "pod-b")?;
        ping(
            outcome,
            &a.ns,
            "pod-a",
            "10.89.0.1",
            "the router on the switch",
        )?;
        ping(outcome, &router, "the router", &b.ip, "pod-b")?;
    }
    rt.del_pods(&pods, &data_dir.join("demo-macvlan"), outcome)
}

fn vxlan(plugins: &Path, outcome: &mut Outcome) -> Res<()> {
    let world = World::new("demo-vxlan")?;
    let switch = world.switch("underlay")?;
    let underlay = ["192.168.77.1", "192.168.77.2"];
    let mut nodes = Vec::new();
    for (i, addr) in underlay.iter().enumerate() {
        let node = world.netns(&format!("node{}", i + 1))?;
        switch.plug(&node, "eth0", Some(&format!("{addr}/24")))?;
        nodes.push(node);
    }
    let mut attached = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        // host-local is per node: each node hands out its own slice of the one subnet.
        let data_dir = world.tempdir().join(format!("ipam-node{}", i + 1));
        let rt = Runtime {
            node,
            plugins,
            conf: json!({
                "cniVersion": "1.0.0", "name": "demo-vxlan", "type": "vxlan",
                "vni": 100, "dev": "eth0", "remotes": underlay,
                "ipam": {"type": "host-local", "subnet": "10.100.0.0/24",
                         "rangeStart": format!("10.100.0.{}", 10 * (i + 1)),
                         "rangeEnd": format!("10.100.0.{}", 10 * (i + 1) + 9),
                         "dataDir": data_dir.display().to_string()}
            }),
        };
        let id = format!("pod-on-node{}", i + 1);
        let ns = world.netns(&format!("pod{}", i + 1))?;
        if let Some(pod) = rt.add(ns, &id, outcome)? {
            attached.push((rt, pod, data_dir));
        }
    }
    if let [(_, a, _), (_, b, _)] = attached.as_slice() {
        ping(
            outcome,
            &a.ns,
            "the pod on node1",
            &b.ip,
            "the pod on node2",
        )?;
        let fdb = nodes[0].fdb("vxlan100")?;
        let flood = fdb.iter().filter(|e| e.mac == "00:00:00:00:00:00").count();
        outcome.check(
            flood == 1,
            &format!("node1's VTEP floods to its one remote ({flood} all-zero FDB entry)"),
        );
    }
    for (rt, pod, data_dir) in &attached {
        rt.del(pod, outcome)?;
        store_is_clean(outcome, &data_dir.join("demo-vxlan"))?;
    }
    let gone = nodes.iter().all(|n| matches!(n.link("vxlan100"), Ok(None)));
    outcome.check(gone, "the last DEL on each node removed its VTEP");
    Ok(())
}
