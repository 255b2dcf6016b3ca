//! Sequential ADD and DEL, each binary invoked directly with env + stdin inside its node
//! namespace, as a runtime execs it: N pairs per subject, interleaved.
//!
//! One pod namespace per subject is reused: every DEL removes what its ADD made, so each ADD
//! meets the same empty pod and the same node.
//!
//! For the plugin subjects each round also times the parts an ADD is made of, so the report
//! can say where the time goes: host-local's ADD and DEL exec'd alone (the IPAM share) and the
//! plugin's VERSION (a process start with no work: what each of the two execs costs).
//!
//! vxlan removes its VTEP and bridge when the last pod of a network leaves a node, so a lone
//! ADD/DEL pair would measure creating and tearing down the whole network each time. A resident
//! pod stays attached on its node throughout, as on a node that runs pods, so vxlan's samples
//! are a pod joining and leaving an existing network, like bridge's.

use cni_sandbox::World;

use super::{Samples, Series, Verb, WARMUP, on_bench_thread, progress, rotation};
use crate::error::Result;
use crate::site::{Pod, Scenario, Site};
use crate::subject::Binaries;

/// Measures `scenario` for ours, the reference and the floor.
pub fn run(bins: &Binaries, scenario: Scenario, n: usize) -> Result<Vec<Series>> {
    progress(&format!(
        "{}: {n} sequential ADD/DEL pairs per subject",
        scenario.label()
    ));
    let world = World::new("cni-bench-direct")?;
    let mut sites = Vec::new();
    for &subject in scenario.subjects() {
        let site = Site::new(&world, bins, scenario, subject, "seq")?;
        let pod = Pod::new(&world, &format!("pod-{}", subject.tag()))?;
        sites.push((site, pod));
    }
    let mut residents = Vec::new();
    for (site, _) in &sites {
        residents.push(match scenario {
            Scenario::Vxlan => Some(Pod::new(&world, &format!("res-{}", site.subject.tag()))?),
            _ => None,
        });
    }
    let samples = on_bench_thread(|home| {
        for ((site, pod), resident) in sites.iter().zip(&residents) {
            // Left attached: the world's teardown removes it with its namespace.
            if let Some(r) = resident {
                site.add(home, "resident", r)?;
            }
            for i in 0..WARMUP {
                let id = format!("warm-{}-{i}", site.subject.tag());
                site.add(home, &id, pod)?;
                site.del(home, &id, pod)?;
            }
        }
        let mut samples = Samples::default();
        let mut ipam = Samples::default();
        let mut version = Samples::default();
        let order: Vec<usize> = (0..sites.len()).collect();
        for round in 0..n {
            for i in rotation(&order, round) {
                let (site, pod) = &sites[i];
                let id = format!("{}-{round}", site.subject.tag());
                samples.push(site.subject, Verb::Add, site.add(home, &id, pod)?);
                samples.push(site.subject, Verb::Del, site.del(home, &id, pod)?);
                let ipam_id = format!("{id}-ipam");
                let parts = (
                    site.ipam_launch("ADD", &ipam_id, pod),
                    site.ipam_launch("DEL", &ipam_id, pod),
                    site.version_launch(pod),
                );
                if let (Some(add), Some(del), Some(ver)) = parts {
                    ipam.push(
                        site.subject,
                        Verb::Add,
                        site.timed(home, &add, "host-local ADD")?,
                    );
                    ipam.push(
                        site.subject,
                        Verb::Del,
                        site.timed(home, &del, "host-local DEL")?,
                    );
                    version.push(
                        site.subject,
                        Verb::Version,
                        site.timed(home, &ver, "VERSION")?,
                    );
                }
            }
        }
        Ok([
            (samples, "direct"),
            (ipam, "IPAM alone"),
            (version, "exec only"),
        ])
    })?;
    Ok(samples
        .into_iter()
        .flat_map(|(s, path)| s.into_series(scenario.label(), path))
        .collect())
}
