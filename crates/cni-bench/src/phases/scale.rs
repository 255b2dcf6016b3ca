//! ADD and DEL latency against the number of pods already attached to the bridge.
//!
//! Each subject's node is filled step by step (0, then 100, then 500...) with pods that look to
//! the node exactly like pods that subject's own plugin attached: a veth per pod whose host end
//! is a port of `cni0`, up, set up as the subject's bridge leaves it (ours turns IPv6 off on
//! the port before it goes up; the reference and the floor leave it on), and for the plugin
//! subjects a reservation per pod made by the subject's own host-local (an ADD exec per pod),
//! so each store holds what its IPAM writes (ours: boot stamps and its owner index). A fill
//! written by hand would look like another implementation's to ours, and measure a node no
//! plugin leaves. The pod ends all live in one "fill" namespace: what a pod holds inside its
//! own namespace is invisible to the node, and one namespace instead of a thousand keeps the
//! link setup to a few `ip -batch` runs per step. Measured ADDs go into a separate pod
//! namespace, as in the sequential phase.
//!
//! The fill namespace has IPv6 turned off. With a thousand pod ends in one namespace, every
//! IPv6 multicast the bridge floods (DAD, MLD, router solicitations of the host ends) is routed
//! there against a thousand `fe80::/64` routes of one table: a profile of the first version of
//! this phase had 72% of all CPU in `__find_rr_leaf`, an O(n²) storm a real node, with one
//! pod per namespace, does not have. The node side keeps IPv6 as a node has it. After each
//! fill step the node is given [`SETTLE`] for the new links' DAD and first MLD reports.

use std::path::Path;

use cni_sandbox::{Ns, World};
use serde::Serialize;

use super::{Samples, Verb, WARMUP, on_bench_thread, progress, rotation};
use crate::configs::BRIDGE;
use crate::error::{BenchError, Result};
use crate::exec;
use crate::netns::NsFile;
use crate::site::{Pod, Scenario, Site};
use crate::stats::Summary;
use crate::subject::{Binaries, Subject};

/// Quiet time after attaching fill pods, before measuring.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

/// One subject at one fill level.
#[derive(Debug, Clone, Serialize)]
pub struct ScalePoint {
    /// Pods attached before the measured ADDs.
    pub pods: usize,
    /// Who.
    pub subject: Subject,
    /// ADD latency.
    pub add: Summary,
    /// DEL latency.
    pub del: Summary,
    /// Median CPU of an ADD (the whole process tree).
    pub add_cpu_ms: Option<f64>,
    /// Median CPU of a DEL.
    pub del_cpu_ms: Option<f64>,
    /// host-local's ADD exec'd alone at this fill (plugin subjects): how much of the growth
    /// is the IPAM store's.
    pub ipam_add: Option<Summary>,
}

/// A subject's node with its fill namespace and its measuring pod.
struct Filled {
    site: Site,
    fill: Ns,
    pod: Pod,
}

/// Measures `samples` ADD/DEL pairs per subject at each level of `levels` (ascending).
pub fn run(bins: &Binaries, levels: &[usize], samples: usize) -> Result<Vec<ScalePoint>> {
    let world = World::new("cni-bench-scale")?;
    let mut nodes = Vec::new();
    for subject in [Subject::Ours, Subject::Reference, Subject::Floor] {
        let site = Site::new(&world, bins, Scenario::Bridge, subject, "scale")?;
        let fill = world.netns(&format!("fill-{}", subject.tag()))?;
        for scope in ["all", "default"] {
            fill.set_sysctl(&format!("net.ipv6.conf.{scope}.disable_ipv6"), "1")?;
        }
        let pod = Pod::new(&world, &format!("spod-{}", subject.tag()))?;
        nodes.push(Filled { site, fill, pod });
    }
    on_bench_thread(|home| {
        for n in &nodes {
            for i in 0..WARMUP {
                let id = format!("warm-{i}");
                n.site.add(home, &id, &n.pod)?;
                n.site.del(home, &id, &n.pod)?;
            }
        }
        let mut points = Vec::new();
        let mut attached = 0;
        let order: Vec<usize> = (0..nodes.len()).collect();
        for &level in levels {
            if level > attached {
                progress(&format!(
                    "bridge: attaching pods {attached}..{level} on each node"
                ));
                for n in &nodes {
                    fill(n, home, attached, level, world.tempdir())?;
                }
                attached = level;
                std::thread::sleep(SETTLE);
            }
            progress(&format!(
                "bridge: {samples} ADD/DEL pairs per subject with {level} pods attached"
            ));
            let mut s = Samples::default();
            let mut ipam = Samples::default();
            for round in 0..samples {
                for i in rotation(&order, round) {
                    let n = &nodes[i];
                    let id = format!("s{level}-{round}");
                    s.push(n.site.subject, Verb::Add, n.site.add(home, &id, &n.pod)?);
                    s.push(n.site.subject, Verb::Del, n.site.del(home, &id, &n.pod)?);
                    let ipam_id = format!("{id}-ipam");
                    let parts = (
                        n.site.ipam_launch("ADD", &ipam_id, &n.pod),
                        n.site.ipam_launch("DEL", &ipam_id, &n.pod),
                    );
                    if let (Some(add), Some(del)) = parts {
                        ipam.push(
                            n.site.subject,
                            Verb::Add,
                            n.site.timed(home, &add, "host-local ADD")?,
                        );
                        n.site.timed(home, &del, "host-local DEL")?;
                    }
                }
            }
            points.extend(points_of(level, s, ipam));
        }
        Ok(points)
    })
}

fn points_of(level: usize, samples: Samples, ipam: Samples) -> Vec<ScalePoint> {
    let series = samples.into_series("", "");
    let ipam = ipam.into_series("", "");
    let mut out = Vec::new();
    for add in series.iter().filter(|s| s.verb == Verb::Add) {
        if let Some(del) = series
            .iter()
            .find(|s| s.verb == Verb::Del && s.subject == add.subject)
        {
            out.push(ScalePoint {
                pods: level,
                subject: add.subject,
                add: add.summary,
                del: del.summary,
                add_cpu_ms: add.cpu_median_ms,
                del_cpu_ms: del.cpu_median_ms,
                ipam_add: ipam
                    .iter()
                    .find(|s| s.subject == add.subject)
                    .map(|s| s.summary),
            });
        }
    }
    out
}

/// Pods attached per `ip -batch` run: one run per chunk keeps each far below the sandbox's
/// 30 s bound for a tool, also on a loaded machine.
const FILL_CHUNK: usize = 100;

/// Attaches fill pods `from..to` to `n`'s bridge as its subject's plugin would leave them and,
/// for plugin subjects, reserves an address for each with the subject's own host-local.
fn fill(n: &Filled, home: &NsFile, from: usize, to: usize, scratch: &Path) -> Result<()> {
    let tag = n.site.subject.tag();
    let mut start = from;
    while start < to {
        let end = (start + FILL_CHUNK).min(to);
        let (mut plug, mut up, mut pod_ends) = (Vec::new(), Vec::new(), Vec::new());
        for i in start..end {
            plug.push(format!(
                "link add sp{i} type veth peer name pp{i} netns {}",
                n.fill.name()
            ));
            plug.push(format!("link set sp{i} master {BRIDGE}"));
            up.push(format!("link set sp{i} up"));
            pod_ends.push(format!("link set pp{i} up"));
        }
        let node_batch = scratch.join(format!("fill-{tag}-node"));
        run_batch(&n.site.node, &node_batch, &plug)?;
        if n.site.subject == Subject::Ours {
            // As `cni_attach::veth::create_veth` leaves the host end: no IPv6 on a bridge port.
            for i in start..end {
                n.site
                    .node
                    .set_sysctl(&format!("net.ipv6.conf.sp{i}.disable_ipv6"), "1")?;
            }
        }
        run_batch(&n.site.node, &node_batch, &up)?;
        let pods_batch = scratch.join(format!("fill-{tag}-pods"));
        run_batch(&n.fill, &pods_batch, &pod_ends)?;
        start = end;
    }
    for i in from..to {
        if let Some(add) = n.site.ipam_launch("ADD", &format!("fill-{i}"), &n.pod) {
            exec::run_ok(&n.site.node_file, home, &add, "fill host-local ADD")?;
        }
    }
    Ok(())
}

fn run_batch(ns: &Ns, file: &Path, cmds: &[String]) -> Result<()> {
    std::fs::write(file, cmds.join("\n")).map_err(|e| BenchError::io("write", file, e))?;
    ns.ip(&["-batch", &file.to_string_lossy()])?;
    Ok(())
}
