//! A subject's node: its namespace in the world, what the network needs there (a bridge, a
//! macvlan master), its IPAM store, and the ADD and DEL of one pod as that subject does them.
//!
//! Every subject gets its own node namespace in the same world, so ours, the reference and the
//! floor never share a bridge or a store, while their samples are interleaved in time.

use std::path::{Path, PathBuf};

use cni_sandbox::{DEFAULT_PATH, Ns, World};
use serde_json::Value;

use crate::configs::{self, IFNAME};
use crate::error::Result;
use crate::exec::{self, Launch, Timing};
use crate::floor;
use crate::netns::NsFile;
use crate::subject::{Binaries, Subject};

/// The network under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// bridge + host-local.
    Bridge,
    /// macvlan + host-local.
    Macvlan,
    /// vxlan + host-local (ours only: the reference has no vxlan plugin).
    Vxlan,
}

impl Scenario {
    /// The label in tables.
    pub fn label(self) -> &'static str {
        match self {
            Scenario::Bridge => "bridge + host-local",
            Scenario::Macvlan => "macvlan + host-local",
            Scenario::Vxlan => "vxlan + host-local",
        }
    }

    /// Who can be measured: the reference has no vxlan, and the floor is only written for
    /// bridge and macvlan.
    pub fn subjects(self) -> &'static [Subject] {
        match self {
            Scenario::Vxlan => &[Subject::Ours],
            _ => &[Subject::Ours, Subject::Reference, Subject::Floor],
        }
    }

    /// The plugin binary.
    pub fn plugin(self) -> &'static str {
        match self {
            Scenario::Bridge => "bridge",
            Scenario::Macvlan => "macvlan",
            Scenario::Vxlan => "vxlan",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Scenario::Bridge => "br",
            Scenario::Macvlan => "mv",
            Scenario::Vxlan => "vx",
        }
    }

    /// The network name, which is also the store's directory name.
    pub fn network(self) -> &'static str {
        match self {
            Scenario::Bridge => configs::BRIDGE_NET,
            Scenario::Macvlan => configs::MACVLAN_NET,
            Scenario::Vxlan => configs::VXLAN_NET,
        }
    }
}

/// A pod namespace attachments are made into.
#[derive(Debug)]
pub struct Pod {
    /// The namespace.
    pub ns: Ns,
    /// It, open (what `CNI_NETNS` names, and what the floor enters).
    pub file: NsFile,
}

impl Pod {
    /// A fresh pod namespace in `world`.
    pub fn new(world: &World, role: &str) -> Result<Pod> {
        let ns = world.netns(role)?;
        let file = NsFile::open(ns.path())?;
        Ok(Pod { ns, file })
    }
}

/// One subject's node.
#[derive(Debug)]
pub struct Site {
    /// Who works here.
    pub subject: Subject,
    /// The network.
    pub scenario: Scenario,
    /// The node namespace.
    pub node: Ns,
    /// It, open.
    pub node_file: NsFile,
    /// host-local's `dataDir` (unused by the floor).
    pub data_dir: PathBuf,
    /// For plugin subjects: how to exec the plugin.
    plugin: Option<PluginSide>,
}

/// A plugin subject's binary, `CNI_PATH` and network config.
#[derive(Debug)]
struct PluginSide {
    binary: PathBuf,
    ipam: PathBuf,
    cni_path: String,
    conf: Value,
    stdin: Vec<u8>,
}

impl Site {
    /// Builds the node for `subject` in `world`. `label` keeps sites of one world apart.
    pub fn new(
        world: &World,
        bins: &Binaries,
        scenario: Scenario,
        subject: Subject,
        label: &str,
    ) -> Result<Site> {
        let role = format!("{}-{}-{label}", scenario.tag(), subject.tag());
        let node = world.netns(&role)?;
        if scenario != Scenario::Bridge {
            // The macvlan master or vxlan underlay: a veth whose far end sits in a LAN
            // namespace, both up; vxlan also needs the node's address on it.
            let lan = world.netns(&format!("{role}-lan"))?;
            world.veth((&node, configs::MACVLAN_MASTER), (&lan, "p0"))?;
            if scenario == Scenario::Vxlan {
                node.add_addr(configs::VXLAN_DEV, configs::VXLAN_LOCAL)?;
            }
        }
        let data_dir = world.tempdir().join(format!("ipam-{role}"));
        let plugin = match bins.dir(subject) {
            Some(dir) => {
                let conf = match scenario {
                    Scenario::Bridge => configs::bridge(&data_dir),
                    Scenario::Macvlan => configs::macvlan(&data_dir),
                    Scenario::Vxlan => configs::vxlan(&data_dir),
                };
                Some(PluginSide {
                    binary: bins.plugin(subject, scenario.plugin())?,
                    ipam: bins.plugin(subject, "host-local")?,
                    cni_path: dir.to_string_lossy().into_owned(),
                    stdin: conf.to_string().into_bytes(),
                    conf,
                })
            }
            None => {
                floor::prepare(&node, scenario)?;
                None
            }
        };
        let node_file = NsFile::open(node.path())?;
        Ok(Site {
            subject,
            scenario,
            node,
            node_file,
            data_dir,
            plugin,
        })
    }

    /// The host-local store of this site's network.
    pub fn store_dir(&self) -> PathBuf {
        self.data_dir.join(self.scenario.network())
    }

    /// The network config a plugin subject gets; `None` for the floor.
    pub fn config(&self) -> Option<&Value> {
        self.plugin.as_ref().map(|p| &p.conf)
    }

    /// The exec a runtime makes for `verb` of container `id` into `pod`; `None` for the floor.
    pub fn plugin_launch(&self, verb: &str, id: &str, pod: &Pod) -> Option<Launch> {
        let side = self.plugin.as_ref()?;
        Some(side.launch(&side.binary, verb, id, pod))
    }

    /// The exec the plugin makes of its IPAM plugin for `verb`: the same environment and
    /// config (that is how delegation works), the `host-local` binary.
    pub fn ipam_launch(&self, verb: &str, id: &str, pod: &Pod) -> Option<Launch> {
        let side = self.plugin.as_ref()?;
        Some(side.launch(&side.ipam, verb, id, pod))
    }

    /// `VERSION` of the plugin: a process start, config parse and one line of output, no
    /// kernel work. What every exec costs before any work is done.
    pub fn version_launch(&self, pod: &Pod) -> Option<Launch> {
        let side = self.plugin.as_ref()?;
        let mut launch = side.launch(&side.binary, "VERSION", "", pod);
        launch.stdin = br#"{"cniVersion":"1.0.0"}"#.to_vec();
        Some(launch)
    }

    /// One timed exec of `launch` in the node, which must succeed.
    pub fn timed(&self, home: &NsFile, launch: &Launch, what: &str) -> Result<Timing> {
        let what = format!("{} {}", self.subject.label(), what);
        Ok(exec::run_ok(&self.node_file, home, launch, &what)?.timing())
    }

    /// One ADD of `id` into `pod`, timed.
    pub fn add(&self, home: &NsFile, id: &str, pod: &Pod) -> Result<Timing> {
        let what = self.what("ADD", id);
        match self.plugin_launch("ADD", id, pod) {
            Some(launch) => Ok(exec::run_ok(&self.node_file, home, &launch, &what)?.timing()),
            None => floor::add(self.scenario, &self.node_file, home, pod, &what),
        }
    }

    /// One DEL of `id` from `pod`, timed.
    pub fn del(&self, home: &NsFile, id: &str, pod: &Pod) -> Result<Timing> {
        let what = self.what("DEL", id);
        match self.plugin_launch("DEL", id, pod) {
            Some(launch) => Ok(exec::run_ok(&self.node_file, home, &launch, &what)?.timing()),
            None => floor::del(home, pod, &what),
        }
    }

    fn what(&self, verb: &str, id: &str) -> String {
        format!(
            "{} {} {verb} {id}",
            self.subject.label(),
            self.scenario.plugin()
        )
    }
}

impl PluginSide {
    /// `binary` with the six `CNI_*` variables libcni sets, a fixed PATH, the config on stdin.
    fn launch(&self, binary: &Path, verb: &str, id: &str, pod: &Pod) -> Launch {
        let mut launch = Launch::new(binary);
        launch.env = vec![
            ("CNI_COMMAND".into(), verb.into()),
            ("CNI_CONTAINERID".into(), id.into()),
            (
                "CNI_NETNS".into(),
                pod.ns.path().to_string_lossy().into_owned(),
            ),
            ("CNI_IFNAME".into(), IFNAME.into()),
            ("CNI_ARGS".into(), String::new()),
            ("CNI_PATH".into(), self.cni_path.clone()),
            ("PATH".into(), DEFAULT_PATH.into()),
        ];
        launch.stdin = self.stdin.clone();
        launch
    }
}
