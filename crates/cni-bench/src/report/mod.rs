//! The report: everything a run measured, written as `report.json` (all numbers), `report.md`
//! (the tables and the targets) and `add-latency-vs-pods.svg` (the scale plot).
//!
//! Not here: judging beyond the targets, or any time assertion; a report states
//! numbers and ratios.

pub mod machine;
mod markdown;
mod svg;
pub mod targets;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{BenchError, Result};
use crate::phases::Series;
use crate::phases::concurrency::Burst;
use crate::phases::rss::Peak;
use crate::phases::scale::ScalePoint;
use crate::phases::sizes::Sizes;
use crate::subject::Subject;
use machine::Machine;
use targets::Target;

/// File names under the output directory.
pub const MARKDOWN: &str = "report.md";
/// The JSON twin of the markdown.
pub const JSON: &str = "report.json";
/// The scale plot.
pub const PLOT: &str = "add-latency-vs-pods.svg";

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The command that produced it.
    pub command: String,
    /// Where it ran.
    pub machine: Machine,
    /// Our plugin directory.
    pub ours_dir: PathBuf,
    /// The reference plugin directory.
    pub reference_dir: PathBuf,
    /// Sequential pairs per subject.
    pub n: usize,
    /// Stripped sizes.
    pub sizes: Option<Sizes>,
    /// Sequential ADD/DEL latencies, direct and through the runner.
    pub latency: Vec<Series>,
    /// Bursts.
    pub concurrency: Vec<Burst>,
    /// Peak memory.
    pub rss: Vec<Peak>,
    /// Latency against pods attached.
    pub scale: Vec<ScalePoint>,
    /// The targets, judged.
    pub targets: Vec<Target>,
    /// What the run skipped and why.
    pub notes: Vec<String>,
}

impl Report {
    /// The series for (scenario, path, subject, verb), if measured.
    pub fn series(
        &self,
        scenario: &str,
        path: &str,
        subject: Subject,
        verb: &str,
    ) -> Option<&Series> {
        self.latency.iter().find(|s| {
            s.scenario == scenario
                && s.path == path
                && s.subject == subject
                && s.verb.label() == verb
        })
    }

    /// Writes the three files into `dir` (created if needed) and returns their paths.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|e| BenchError::io("create", dir, e))?;
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| BenchError::Probe(format!("serialise the report: {e}")))?;
        let files = [
            (JSON, json + "\n"),
            (MARKDOWN, markdown::render(self)),
            (PLOT, svg::render(&self.scale)),
        ];
        let mut written = Vec::new();
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| BenchError::io("write", &path, e))?;
            written.push(path);
        }
        Ok(written)
    }
}

/// Milliseconds with a precision that suits the size.
pub fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A ratio as `0.31×`.
pub fn times(r: Option<f64>) -> String {
    r.map_or_else(|| "–".to_owned(), |r| format!("{r:.2}×"))
}

/// Bytes or KiB as MiB with two decimals.
pub fn mib(kib: u64) -> String {
    format!("{:.2} MiB", kib as f64 / 1024.0)
}
