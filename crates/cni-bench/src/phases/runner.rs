//! Sequential ADD and DEL through the conflist runner (`cni-conformance`'s libcni-faithful
//! runtime): the network as a one-plugin conflist, injected config, the result cache written
//! on ADD and read back on DEL, each plugin exec'd in the node namespace. This is what a
//! runtime on a node pays per pod; the runner's own overhead is the same for both subjects.

use std::time::Instant;

use cni_conformance::runner::{NetworkConfigList, Runtime, RuntimeConf};
use cni_sandbox::World;

use super::{Samples, Series, Verb, WARMUP, progress, rotation};
use crate::configs::{self, IFNAME};
use crate::error::{BenchError, Result};
use crate::exec::Timing;
use crate::site::{Pod, Scenario, Site};
use crate::subject::{Binaries, Subject};

/// One subject's node, its runtime and its network list.
struct Node {
    subject: Subject,
    runtime: Runtime,
    list: NetworkConfigList,
    pod: Pod,
}

/// Measures `scenario` through the runner for ours and the reference.
pub fn run(bins: &Binaries, scenario: Scenario, n: usize) -> Result<Vec<Series>> {
    progress(&format!(
        "{}: {n} ADD/DEL pairs through the conflist runner",
        scenario.label()
    ));
    let world = World::new("cni-bench-runner")?;
    let mut nodes = Vec::new();
    for subject in [Subject::Ours, Subject::Reference] {
        let site = Site::new(&world, bins, scenario, subject, "run")?;
        let (Some(dir), Some(conf)) = (bins.dir(subject), site.config()) else {
            return Err(BenchError::Usage(format!(
                "{} has no plugins",
                subject.label()
            )));
        };
        let list = NetworkConfigList::from_value(&configs::as_conflist(conf))?;
        let cache = world.tempdir().join(format!("cache-{}", subject.tag()));
        let runtime = Runtime::new(&site.node, vec![dir.to_path_buf()], cache);
        let pod = Pod::new(&world, &format!("rpod-{}", subject.tag()))?;
        nodes.push(Node {
            subject,
            runtime,
            list,
            pod,
        });
    }
    for node in &nodes {
        for i in 0..WARMUP {
            pair(node, &format!("warm-{}-{i}", node.subject.tag()))?;
        }
    }
    let mut samples = Samples::default();
    let order: Vec<usize> = (0..nodes.len()).collect();
    for round in 0..n {
        for i in rotation(&order, round) {
            let node = &nodes[i];
            let (add, del) = pair(node, &format!("{}-{round}", node.subject.tag()))?;
            samples.push(node.subject, Verb::Add, add);
            samples.push(node.subject, Verb::Del, del);
        }
    }
    Ok(samples.into_series(scenario.label(), "conflist runner"))
}

/// One ADD and its DEL, timed.
fn pair(node: &Node, id: &str) -> Result<(Timing, Timing)> {
    let rt = RuntimeConf::new(id, node.pod.ns.path(), IFNAME);
    let wall = |t: Instant| Timing {
        wall: t.elapsed(),
        cpu: None,
    };
    let t = Instant::now();
    node.runtime.add(&node.list, &rt)?;
    let add = wall(t);
    let t = Instant::now();
    node.runtime.del(&node.list, &rt)?;
    Ok((add, wall(t)))
}
