//! Bursts: C ADDs launched at once on one network (C pods, one node), then C DELs at once.
//!
//! Measured per burst: wall time from the first spawn to the last exit, how many failed, how
//! many addresses were handed out twice; after the DEL burst, what is left: links on the node
//! besides the bridge, links in the pods besides `lo`, and reservation files in the store.
//! The bridge exists before the first burst (a warm-up made it), as on a node that already
//! runs pods.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use cni_sandbox::World;
use serde::Serialize;

use super::{WARMUP, on_bench_thread, progress, rotation};
use crate::configs::BRIDGE;
use crate::error::Result;
use crate::exec::{self, EXEC_TIMEOUT, Finished};
use crate::netns::NsFile;
use crate::site::{Pod, Scenario, Site};
use crate::stats::Summary;
use crate::subject::{Binaries, Subject};

/// One subject at one burst size.
#[derive(Debug, Clone, Serialize)]
pub struct Burst {
    /// ADDs (and DELs) launched at once.
    pub size: usize,
    /// Who.
    pub subject: Subject,
    /// Bursts measured.
    pub rounds: usize,
    /// Wall time of the ADD bursts.
    pub add_wall: Summary,
    /// Wall time of the DEL bursts.
    pub del_wall: Summary,
    /// CPU time (user + system) of all the ADDs of a burst together, median over bursts: with
    /// two cores, a burst cannot end before half of this has passed.
    pub add_cpu: Summary,
    /// Failed ADDs, over all rounds.
    pub add_failures: usize,
    /// Addresses handed out more than once within a burst, over all rounds.
    pub duplicates: usize,
    /// Failed DELs, over all rounds.
    pub del_failures: usize,
    /// Links left after the DEL bursts (node and pods), over all rounds.
    pub leftover_links: usize,
    /// Reservation files left after the DEL bursts, over all rounds.
    pub leftover_files: usize,
    /// The first failure's output, if any.
    pub first_error: Option<String>,
}

/// What one subject's bursts add up to.
#[derive(Default)]
struct Tally {
    add: Vec<Duration>,
    add_cpu: Vec<Duration>,
    del: Vec<Duration>,
    add_failures: usize,
    duplicates: usize,
    del_failures: usize,
    leftover_links: usize,
    leftover_files: usize,
    first_error: Option<String>,
}

/// Runs bursts of each size for ours and the reference (bridge + host-local).
pub fn run(bins: &Binaries, sizes: &[usize], rounds: usize) -> Result<Vec<Burst>> {
    let mut out = Vec::new();
    for &size in sizes.iter().filter(|&&s| s > 0) {
        progress(&format!(
            "bridge: bursts of {size} ADDs and DELs at once, {rounds} per subject"
        ));
        let world = World::new("cni-bench-burst")?;
        let mut sites = Vec::new();
        for subject in [Subject::Ours, Subject::Reference] {
            let site = Site::new(&world, bins, Scenario::Bridge, subject, "burst")?;
            let pods = (0..size)
                .map(|i| Pod::new(&world, &format!("b{}-{i}", subject.tag())))
                .collect::<Result<Vec<_>>>()?;
            sites.push((site, pods));
        }
        let tallies = on_bench_thread(|home| {
            let mut tallies: Vec<Tally> = sites.iter().map(|_| Tally::default()).collect();
            for (site, pods) in &sites {
                for i in 0..WARMUP {
                    let id = format!("warm-{i}");
                    site.add(home, &id, &pods[0])?;
                    site.del(home, &id, &pods[0])?;
                }
            }
            let order: Vec<usize> = (0..sites.len()).collect();
            for round in 0..rounds {
                for i in rotation(&order, round) {
                    let (site, pods) = &sites[i];
                    one_round(site, pods, home, round, &mut tallies[i])?;
                }
            }
            Ok(tallies)
        })?;
        for ((site, _), t) in sites.iter().zip(tallies) {
            let (Some(add_wall), Some(del_wall), Some(add_cpu)) = (
                Summary::of(&t.add),
                Summary::of(&t.del),
                Summary::of(&t.add_cpu),
            ) else {
                continue;
            };
            out.push(Burst {
                size,
                subject: site.subject,
                rounds,
                add_wall,
                del_wall,
                add_cpu,
                add_failures: t.add_failures,
                duplicates: t.duplicates,
                del_failures: t.del_failures,
                leftover_links: t.leftover_links,
                leftover_files: t.leftover_files,
                first_error: t.first_error,
            });
        }
    }
    Ok(out)
}

fn one_round(
    site: &Site,
    pods: &[Pod],
    home: &NsFile,
    round: usize,
    tally: &mut Tally,
) -> Result<()> {
    let ids: Vec<String> = (0..pods.len()).map(|i| format!("r{round}-{i}")).collect();
    let (wall, adds) = burst(site, pods, &ids, "ADD", home)?;
    tally.add.push(wall);
    tally.add_cpu.push(adds.iter().map(|f| f.cpu).sum());
    tally.add_failures += note_failures(&adds, &mut tally.first_error);
    tally.duplicates += duplicates(&adds);
    let (wall, dels) = burst(site, pods, &ids, "DEL", home)?;
    tally.del.push(wall);
    tally.del_failures += note_failures(&dels, &mut tally.first_error);
    tally.leftover_links += leftover_links(site, pods)?;
    tally.leftover_files += reservation_files(&site.store_dir());
    Ok(())
}

/// Launches `verb` for every pod at once and waits for all; returns the wall time from the
/// first spawn to the last exit.
fn burst(
    site: &Site,
    pods: &[Pod],
    ids: &[String],
    verb: &str,
    home: &NsFile,
) -> Result<(Duration, Vec<Finished>)> {
    let mut running = Vec::with_capacity(pods.len());
    for (pod, id) in pods.iter().zip(ids) {
        if let Some(launch) = site.plugin_launch(verb, id, pod) {
            running.push(exec::start(&site.node_file, home, &launch)?);
        }
    }
    let deadline = Instant::now() + EXEC_TIMEOUT;
    let done = running
        .into_iter()
        .map(|r| r.wait(deadline))
        .collect::<Result<Vec<_>>>()?;
    let first = done.iter().map(|f| f.started).min();
    let last = done.iter().map(|f| f.ended).max();
    let wall = match (first, last) {
        (Some(a), Some(b)) => b.duration_since(a),
        _ => Duration::ZERO,
    };
    Ok((wall, done))
}

fn note_failures(done: &[Finished], first: &mut Option<String>) -> usize {
    let failed: Vec<&Finished> = done.iter().filter(|f| f.status != 0).collect();
    if first.is_none() {
        *first = failed.first().map(|f| f.output_text());
    }
    failed.len()
}

/// Addresses that appear in more than one result of a burst (each extra holder counts once).
pub fn duplicates(done: &[Finished]) -> usize {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for f in done.iter().filter(|f| f.status == 0) {
        let Ok(result) = serde_json::from_slice::<serde_json::Value>(&f.stdout) else {
            continue;
        };
        for ip in result["ips"].as_array().into_iter().flatten() {
            if let Some(addr) = ip["address"].as_str() {
                let host = addr.split('/').next().unwrap_or(addr).to_owned();
                *seen.entry(host).or_default() += 1;
            }
        }
    }
    seen.values().map(|n| n.saturating_sub(1)).sum()
}

/// Links on the node other than `lo`, the bridge and the macvlan master, plus links in the
/// pods other than `lo`.
fn leftover_links(site: &Site, pods: &[Pod]) -> Result<usize> {
    let on_node = site
        .node
        .links()?
        .iter()
        .filter(|l| !["lo", BRIDGE].contains(&l.name.as_str()))
        .count();
    let mut in_pods = 0;
    for pod in pods {
        in_pods += pod.ns.links()?.iter().filter(|l| l.name != "lo").count();
    }
    Ok(on_node + in_pods)
}

/// Address-named files in a host-local store (not `lock`, cursors or temporaries).
pub fn reservation_files(store: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(store) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<std::net::IpAddr>().is_ok())
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(status: i32, stdout: &str) -> Finished {
        let now = Instant::now();
        Finished {
            started: now,
            ended: now,
            status,
            cpu: Duration::ZERO,
            stdout: stdout.as_bytes().to_vec(),
            stderr: Vec::new(),
        }
    }

    #[test]
    fn duplicates_count_extra_holders_of_successful_results_only() {
        let a = finished(0, r#"{"ips":[{"address":"10.88.0.2/16"}]}"#);
        let b = finished(0, r#"{"ips":[{"address":"10.88.0.3/16"}]}"#);
        let c = finished(0, r#"{"ips":[{"address":"10.88.0.2/16"}]}"#);
        let failed = finished(1, r#"{"ips":[{"address":"10.88.0.3/16"}]}"#);
        assert_eq!(duplicates(&[a.clone(), b.clone()]), 0);
        assert_eq!(duplicates(&[a.clone(), b, c.clone(), failed]), 1);
        assert_eq!(duplicates(&[a.clone(), c.clone(), a]), 2);
    }
}
