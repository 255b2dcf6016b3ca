//! The measurements, one module per question the issue asks, each building its own world of
//! namespaces and tearing it down when done.
//!
//! Common to all: subjects take turns within every round, in an order that rotates from round
//! to round, so a burst of machine noise (another build on the box) lands on all of them and no
//! subject always runs right after another one's teardown. Warm-up rounds (page cache, the
//! bridge's first creation) are not recorded.

pub mod concurrency;
pub mod rss;
pub mod runner;
pub mod scale;
pub mod sequential;
pub mod sizes;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Result;
use crate::exec::Timing;
use crate::netns::NsFile;
use crate::stats::Summary;
use crate::subject::Subject;

/// Unrecorded ADD/DEL pairs per subject before a phase measures.
pub const WARMUP: usize = 3;

/// A CNI verb that is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Verb {
    /// ADD.
    #[serde(rename = "ADD")]
    Add,
    /// DEL.
    #[serde(rename = "DEL")]
    Del,
    /// VERSION: what a process start costs before any work.
    #[serde(rename = "VERSION")]
    Version,
}

impl Verb {
    /// `ADD` / `DEL`.
    pub fn label(self) -> &'static str {
        match self {
            Verb::Add => "ADD",
            Verb::Del => "DEL",
            Verb::Version => "VERSION",
        }
    }
}

/// One measured series: a subject doing one verb in one scenario, the way it was invoked.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// "bridge + host-local", ...
    pub scenario: String,
    /// "direct" (env + stdin), "conflist runner", or the parts of a direct ADD: "IPAM alone"
    /// (host-local exec'd by itself) and "exec only" (VERSION).
    pub path: String,
    /// Who.
    pub subject: Subject,
    /// What.
    pub verb: Verb,
    /// The numbers (wall time).
    pub summary: Summary,
    /// Median CPU time (user + system, the whole process tree), where known.
    pub cpu_median_ms: Option<f64>,
}

/// Samples collected per (subject, verb), turned into [`Series`].
#[derive(Debug, Default)]
pub struct Samples(BTreeMap<(Subject, Verb), Vec<Timing>>);

impl Samples {
    /// Records one sample.
    pub fn push(&mut self, subject: Subject, verb: Verb, t: Timing) {
        self.0.entry((subject, verb)).or_default().push(t);
    }

    /// The series, labelled with `scenario` and `path`.
    pub fn into_series(self, scenario: &str, path: &str) -> Vec<Series> {
        self.0
            .into_iter()
            .filter_map(|((subject, verb), samples)| {
                let walls: Vec<_> = samples.iter().map(|t| t.wall).collect();
                let cpus: Option<Vec<_>> = samples.iter().map(|t| t.cpu).collect();
                Some(Series {
                    scenario: scenario.to_owned(),
                    path: path.to_owned(),
                    subject,
                    verb,
                    summary: Summary::of(&walls)?,
                    cpu_median_ms: cpus.and_then(|c| Summary::of(&c)).map(|s| s.median_ms),
                })
            })
            .collect()
    }
}

/// `items` rotated left by `round`: round 0 is a b c, round 1 b c a, ...
pub fn rotation<T: Copy>(items: &[T], round: usize) -> Vec<T> {
    let mut v = items.to_vec();
    if !v.is_empty() {
        let k = round % v.len();
        v.rotate_left(k);
    }
    v
}

/// Runs `f` on a fresh thread that does nothing but measure. It enters node namespaces for
/// spawns (see [`crate::netns`]); keeping that on its own thread means no other work ever runs
/// in a borrowed namespace. The thread ends with `f`.
pub fn on_bench_thread<T: Send>(f: impl FnOnce(&NsFile) -> Result<T> + Send) -> Result<T> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let home = NsFile::current_thread()?;
            f(&home)
        })
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// A progress line on stderr (the report goes to files).
pub fn progress(msg: &str) {
    eprintln!("cni-bench: {msg}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_moves_the_first_to_the_back_each_round() {
        assert_eq!(rotation(&[1, 2, 3], 0), [1, 2, 3]);
        assert_eq!(rotation(&[1, 2, 3], 1), [2, 3, 1]);
        assert_eq!(rotation(&[1, 2, 3], 5), [3, 1, 2]);
        assert!(rotation::<u8>(&[], 3).is_empty());
    }
}
