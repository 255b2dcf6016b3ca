//! Running the catalogue: cases on a few worker threads, one line per case in catalogue
//! order, the verdict against the gap table, and the closing `N passed, N failed` line.

use std::collections::BTreeMap;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::case::{Case, Ctx, Failure};
use super::gaps::{GapTable, glob_match, selects};

/// How to run the suite.
#[derive(Debug, Clone)]
pub struct Options {
    /// The directory of binaries under test.
    pub plugins: PathBuf,
    /// The reference plugins, partners in chaining cases.
    pub reference: PathBuf,
    /// Only cases whose name matches (glob with `*`, else substring).
    pub only: Option<String>,
    /// Known gaps the plugins are expected to fail; without a table every case must pass.
    pub gaps: Option<GapTable>,
    /// Cases run at once. Most time is spent waiting on plugins and `ip`, so a few more than
    /// the cores.
    pub jobs: usize,
    /// Print each failure's evidence under its line.
    pub verbose: bool,
}

impl Options {
    /// Defaults: reference `/usr/lib/cni`, all cases, no gap table, 6 jobs, quiet.
    pub fn new(plugins: impl Into<PathBuf>) -> Options {
        Options {
            plugins: plugins.into(),
            reference: PathBuf::from("/usr/lib/cni"),
            only: None,
            gaps: None,
            jobs: 6,
            verbose: false,
        }
    }
}

/// What a case did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It passed.
    Pass,
    /// It failed.
    Fail(Failure),
    /// It could not run (a binary is missing).
    Skip(String),
}

/// How the run judges a case, given the gap table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Passed and not listed.
    Ok,
    /// Failed and listed: the table is true.
    KnownGap(String),
    /// Skipped.
    Skipped(String),
    /// Failed and not listed.
    Failed(Failure),
    /// Listed but passed: the table is stale.
    UnexpectedPass(String),
}

/// One case's line.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// The case name.
    pub name: String,
    /// What it did.
    pub outcome: Outcome,
    /// How it was judged.
    pub verdict: Verdict,
    /// How long it took.
    pub took: Duration,
}

/// The whole run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every selected case, in catalogue order.
    pub cases: Vec<CaseReport>,
    /// Gap entries that match no case of the catalogue.
    pub orphan_gaps: Vec<String>,
}

impl Report {
    /// Cases judged fine: passed, or failed as the table says.
    pub fn passed(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Ok | Verdict::KnownGap(_)))
    }

    /// Cases judged wrong, plus orphan gap entries.
    pub fn failed(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Failed(_) | Verdict::UnexpectedPass(_)))
            + self.orphan_gaps.len()
    }

    /// Skipped cases.
    pub fn skipped(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Skipped(_)))
    }

    /// Whether the run is green.
    pub fn success(&self) -> bool {
        self.failed() == 0
    }

    /// Names of cases whose outcome was a failure (listed or not).
    pub fn failing_cases(&self) -> Vec<&str> {
        self.cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Fail(_)))
            .map(|c| c.name.as_str())
            .collect()
    }

    fn count(&self, f: impl Fn(&Verdict) -> bool) -> usize {
        self.cases.iter().filter(|c| f(&c.verdict)).count()
    }
}

/// Runs the selected cases of `catalogue` and writes one line per case to `out`, then the
/// closing line. Write errors on `out` are ignored: the report is the result.
pub fn run(catalogue: &[Case], opts: &Options, out: &mut (dyn Write + Send)) -> Report {
    let ctx = Ctx {
        plugins: opts.plugins.clone(),
        reference: opts.reference.clone(),
    };
    let selected: Vec<&Case> = catalogue
        .iter()
        .filter(|c| opts.only.as_deref().is_none_or(|o| selects(o, &c.name)))
        .collect();
    let next = AtomicUsize::new(0);
    let printer = Mutex::new(Printer {
        out,
        pending: BTreeMap::new(),
        next_line: 0,
        verbose: opts.verbose,
    });
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = selected.get(i) else { break };
                    let report = run_one(case, &ctx, opts.gaps.as_ref());
                    printer
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(i, report);
                }
            });
        }
    });
    let printer = printer.into_inner().unwrap_or_else(|p| p.into_inner());
    // Keyed by catalogue index, so already in catalogue order.
    let mut report = Report {
        cases: printer.pending.into_values().collect(),
        orphan_gaps: Vec::new(),
    };
    if let Some(table) = &opts.gaps {
        report.orphan_gaps = table
            .gaps
            .iter()
            .filter(|g| !catalogue.iter().any(|c| glob_match(&g.pattern, &c.name)))
            .map(|g| format!("line {}: `{}` matches no case", g.line, g.pattern))
            .collect();
    }
    let out = printer.out;
    for orphan in &report.orphan_gaps {
        let _ = writeln!(out, "FAIL  gap table {orphan}");
    }
    let _ = writeln!(
        out,
        "{} cases: {} ok, {} known gaps, {} skipped",
        report.cases.len(),
        report.count(|v| matches!(v, Verdict::Ok)),
        report.count(|v| matches!(v, Verdict::KnownGap(_))),
        report.skipped()
    );
    let _ = writeln!(
        out,
        "{} passed, {} failed",
        report.passed(),
        report.failed()
    );
    report
}

fn run_one(case: &Case, ctx: &Ctx, gaps: Option<&GapTable>) -> CaseReport {
    let start = Instant::now();
    let outcome = match case.missing(ctx) {
        Some(need) => Outcome::Skip(need.missing(ctx)),
        None => match catch_unwind(AssertUnwindSafe(|| case.run(ctx))) {
            Ok(Ok(())) => Outcome::Pass,
            Ok(Err(failure)) => Outcome::Fail(failure),
            Err(panic) => Outcome::Fail(Failure::new(format!(
                "case panicked: {}",
                panic_text(&panic)
            ))),
        },
    };
    let gap = gaps.and_then(|t| t.find(&case.name));
    let verdict = match (&outcome, gap) {
        (Outcome::Skip(why), _) => Verdict::Skipped(why.clone()),
        (Outcome::Pass, None) => Verdict::Ok,
        (Outcome::Pass, Some(g)) => Verdict::UnexpectedPass(g.reason.clone()),
        (Outcome::Fail(f), None) => Verdict::Failed(f.clone()),
        (Outcome::Fail(_), Some(g)) => Verdict::KnownGap(g.reason.clone()),
    };
    CaseReport {
        name: case.name.clone(),
        outcome,
        verdict,
        took: start.elapsed(),
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "non-text panic".to_owned())
}

/// Prints reports in catalogue order as soon as every earlier case is done.
struct Printer<'o> {
    out: &'o mut (dyn Write + Send),
    pending: BTreeMap<usize, CaseReport>,
    next_line: usize,
    verbose: bool,
}

impl Printer<'_> {
    fn push(&mut self, index: usize, report: CaseReport) {
        self.pending.insert(index, report);
        while let Some(report) = self.pending.get(&self.next_line) {
            let _ = writeln!(self.out, "{}", line(report, self.verbose));
            let _ = self.out.flush();
            self.next_line += 1;
        }
    }
}

fn line(report: &CaseReport, verbose: bool) -> String {
    let name = &report.name;
    match &report.verdict {
        Verdict::Ok => format!("ok    {name}"),
        Verdict::Skipped(why) => format!("skip  {name}: {why}"),
        Verdict::KnownGap(reason) => format!("gap   {name}: known gap: {reason}"),
        Verdict::UnexpectedPass(reason) => {
            format!("FAIL  {name}: passed, but the gap table lists it ({reason}); remove the entry")
        }
        Verdict::Failed(f) if verbose && !f.detail.is_empty() => {
            let detail: Vec<String> = f.detail.lines().map(|l| format!("      {l}")).collect();
            format!("FAIL  {name}: {}\n{}", f.reason, detail.join("\n"))
        }
        Verdict::Failed(f) => format!("FAIL  {name}: {}", f.reason),
    }
}
