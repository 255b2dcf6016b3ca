//! ADD and DEL latency against the number of pods already attached to the bridge.
//!
//! Each subject's node is filled step by step (0, then 100, then 500...) with pods that look to
//! the node exactly like pods a plugin attached: a veth per pod whose host end is a port of
//! `cni0`, up, and for the plugin subjects a reservation file per pod in the host-local store
//! with the cursor after the last one. The pod ends all live in one "fill" namespace: what a
//! pod holds inside its own namespace is invisible to the node, and one namespace instead of a
//! thousand keeps the setup to two `ip -batch` runs per step. Measured ADDs go into a separate
//! pod namespace, as in the sequential phase.
//!
//! The fill namespace has IPv6 turned off. With a thousand pod ends in one namespace, every
//! IPv6 multicast the bridge floods (DAD, MLD, router solicitations of the host ends) is routed
//! there against a thousand `fe80::/64` routes of one table: a profile of the first version of
//! this phase had 72% of all CPU in `__find_rr_leaf`, an O(n²) storm a real node, with one
//! pod per namespace, does not have. The node side keeps IPv6 as a node has it. After each
//! fill step the node is given [`SETTLE`] for the new links' DAD and first MLD reports.

use std::io::Write;
use std::net::Ipv4Addr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use cni_sandbox::{Ns, World};
use serde::Serialize;

use super::{Samples, Verb, WARMUP, on_bench_thread, progress, rotation};
use crate::configs::{BRIDGE, IFNAME};
use crate::error::{BenchError, Result};
use crate::site::{Pod, Scenario, Site};
use crate::stats::Summary;
use crate::subject::{Binaries, Subject};

/// Quiet time after attaching fill pods, before measuring.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

/// The first address handed to a fill pod (after the few the warm-up used).
const FILL_BASE: Ipv4Addr = Ipv4Addr::new(10, 88, 1, 0);

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
                    fill(n, attached, level, world.tempdir())?;
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

/// Attaches fill pods `from..to` to `n`'s bridge and, for plugin subjects, reserves their
/// addresses in its store.
fn fill(n: &Filled, from: usize, to: usize, scratch: &Path) -> Result<()> {
    let tag = n.site.subject.tag();
    let mut start = from;
    while start < to {
        let end = (start + FILL_CHUNK).min(to);
        let mut node_cmds = Vec::new();
        let mut fill_cmds = Vec::new();
        for i in start..end {
            node_cmds.push(format!(
                "link add sp{i} type veth peer name pp{i} netns {}",
                n.fill.name()
            ));
            node_cmds.push(format!("link set sp{i} master {BRIDGE}"));
            node_cmds.push(format!("link set sp{i} up"));
            fill_cmds.push(format!("link set pp{i} up"));
        }
        run_batch(
            &n.site.node,
            &scratch.join(format!("fill-{tag}-node")),
            &node_cmds,
        )?;
        run_batch(
            &n.fill,
            &scratch.join(format!("fill-{tag}-pods")),
            &fill_cmds,
        )?;
        start = end;
    }
    if n.site.subject != Subject::Floor {
        reserve(&n.site.store_dir(), from, to)?;
    }
    Ok(())
}

fn run_batch(ns: &Ns, file: &Path, cmds: &[String]) -> Result<()> {
    std::fs::write(file, cmds.join("\n")).map_err(|e| BenchError::io("write", file, e))?;
    ns.ip(&["-batch", &file.to_string_lossy()])?;
    Ok(())
}

/// Writes reservations `from..to` the way host-local does (`<ip>` holding
/// `<containerID>\r\n<ifname>`, mode 0600) and moves the cursor to the last one, so the next
/// ADD allocates right after the pods, as on a node that attached them one by one.
fn reserve(store: &Path, from: usize, to: usize) -> Result<()> {
    let mut last = None;
    for i in from..to {
        let ip = fill_ip(i);
        let path = store.join(ip.to_string());
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| BenchError::io("create", &path, e))?;
        write!(f, "fill-{i}\r\n{IFNAME}").map_err(|e| BenchError::io("write", &path, e))?;
        last = Some(ip);
    }
    if let Some(ip) = last {
        let cursor = store.join("last_reserved_ip.0");
        std::fs::write(&cursor, ip.to_string()).map_err(|e| BenchError::io("write", &cursor, e))?;
    }
    Ok(())
}

/// The address of fill pod `i`.
fn fill_ip(i: usize) -> Ipv4Addr {
    let offset = u32::try_from(i).unwrap_or(u32::MAX);
    Ipv4Addr::from(u32::from(FILL_BASE).saturating_add(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_addresses_count_up_across_octets() {
        assert_eq!(fill_ip(0), Ipv4Addr::new(10, 88, 1, 0));
        assert_eq!(fill_ip(255), Ipv4Addr::new(10, 88, 1, 255));
        assert_eq!(fill_ip(999), Ipv4Addr::new(10, 88, 4, 231));
    }
}
