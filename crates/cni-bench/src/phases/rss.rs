//! Peak RSS of one ADD's process tree (plugin + IPAM), measured by `cni-bench rss-probe` (see
//! `rss_probe` for the method and why it is a separate small process). The probe is spawned
//! in the node namespace like a plugin; it forks the plugin from there. Each probed ADD is
//! followed by a normal DEL.

use std::path::Path;

use cni_sandbox::World;
use serde::Serialize;

use super::{WARMUP, on_bench_thread, progress, rotation};
use crate::error::{BenchError, Result};
use crate::exec::{self, Launch};
use crate::netns::NsFile;
use crate::rss_probe::{ProbeReport, ProcessPeak};
use crate::site::{Pod, Scenario, Site};
use crate::stats::median_u64;
use crate::subject::{Binaries, Subject};

/// One subject's peak memory for one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Peak {
    /// "bridge + host-local", ...
    pub scenario: String,
    /// Who.
    pub subject: Subject,
    /// ADDs probed.
    pub samples: usize,
    /// Median of the per-ADD sums of per-process peaks, KiB.
    pub tree_kib: u64,
    /// Median `ru_maxrss` from `wait4` (the largest single process), KiB.
    pub wait4_maxrss_kib: u64,
    /// The processes of the median sample.
    pub processes: Vec<ProcessPeak>,
}

/// Probes `samples` ADDs per subject for each scenario.
pub fn run(bins: &Binaries, scenarios: &[Scenario], samples: usize) -> Result<Vec<Peak>> {
    let exe =
        std::env::current_exe().map_err(|e| BenchError::sys("locate the cni-bench binary", e))?;
    let mut out = Vec::new();
    for &scenario in scenarios {
        progress(&format!(
            "{}: peak RSS of {samples} ADDs per subject",
            scenario.label()
        ));
        let world = World::new("cni-bench-rss")?;
        let mut sites = Vec::new();
        for subject in [Subject::Ours, Subject::Reference] {
            let site = Site::new(&world, bins, scenario, subject, "rss")?;
            let pod = Pod::new(&world, &format!("mpod-{}", subject.tag()))?;
            sites.push((site, pod));
        }
        let stdout_file = world.tempdir().join("probe-stdout");
        let reports = on_bench_thread(|home| {
            let mut reports: Vec<Vec<ProbeReport>> = sites.iter().map(|_| Vec::new()).collect();
            for (site, pod) in &sites {
                for i in 0..WARMUP {
                    let id = format!("warm-{i}");
                    site.add(home, &id, pod)?;
                    site.del(home, &id, pod)?;
                }
            }
            let order: Vec<usize> = (0..sites.len()).collect();
            for round in 0..samples {
                for i in rotation(&order, round) {
                    let (site, pod) = &sites[i];
                    let id = format!("rss-{round}");
                    reports[i].push(probe(&exe, site, pod, &id, home, &stdout_file)?);
                    site.del(home, &id, pod)?;
                }
            }
            Ok(reports)
        })?;
        for ((site, _), reports) in sites.iter().zip(reports) {
            out.extend(summarise(scenario, site.subject, reports));
        }
    }
    Ok(out)
}

/// One probed ADD.
fn probe(
    exe: &Path,
    site: &Site,
    pod: &Pod,
    id: &str,
    home: &NsFile,
    stdout_file: &Path,
) -> Result<ProbeReport> {
    let what = format!(
        "{} {} ADD {id} under rss-probe",
        site.subject.label(),
        site.scenario.plugin()
    );
    let plugin = site
        .plugin_launch("ADD", id, pod)
        .ok_or_else(|| BenchError::Usage("the floor has no RSS to probe".into()))?;
    let mut launch = Launch::new(exe);
    launch.args = vec![
        "rss-probe".into(),
        plugin.program.to_string_lossy().into_owned(),
        stdout_file.to_string_lossy().into_owned(),
    ];
    launch.env = plugin.env;
    launch.stdin = plugin.stdin;
    let done = exec::run_ok(&site.node_file, home, &launch, &what)?;
    let report: ProbeReport = serde_json::from_slice(&done.stdout)
        .map_err(|e| BenchError::Probe(format!("{what}: {e}: {}", done.output_text())))?;
    if report.status != 0 {
        return Err(BenchError::Failed {
            what,
            status: report.status,
            detail: std::fs::read_to_string(stdout_file).unwrap_or_default(),
        });
    }
    Ok(report)
}

fn summarise(scenario: Scenario, subject: Subject, mut reports: Vec<ProbeReport>) -> Option<Peak> {
    let maxrss: Vec<u64> = reports.iter().map(|r| r.wait4_maxrss_kib).collect();
    let wait4_maxrss_kib = median_u64(&maxrss)?;
    reports.sort_by_key(ProbeReport::tree_kib);
    let middle = reports.get(reports.len().div_ceil(2).checked_sub(1)?)?;
    Some(Peak {
        scenario: scenario.label().to_owned(),
        subject,
        samples: reports.len(),
        tree_kib: middle.tree_kib(),
        wait4_maxrss_kib,
        processes: middle.processes.clone(),
    })
}
