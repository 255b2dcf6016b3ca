//! The suite as CI runs it (`cargo test --workspace`, as root):
//! - our plugins pass every case;
//! - the reference plugins fail exactly the cases `reference-gaps.md` lists;
//! - every kind of case fails against the reference or a deliberately broken plugin, so no
//!   case is one that cannot fail.
//!
//! Suite runs are serialised: each already runs several cases at once, and the machine has
//! two cores; timing-sensitive probes (pings) should not compete with a second suite.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use cni_conformance::suite::{self, Case, GapTable, Options, Report};

use support::{REFERENCE, mutants, our_plugins, reference_installed, target_dir};

static SERIAL: Mutex<()> = Mutex::new(());

fn run(catalogue: &[Case], opts: &Options) -> Report {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut out = Vec::new();
    let report = suite::run(catalogue, opts, &mut out);
    // Captured by the harness, shown when the test fails (or with --nocapture).
    print!("{}", String::from_utf8_lossy(&out));
    report
}

fn gap_table() -> GapTable {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("reference-gaps.md");
    GapTable::load(&path).expect("reference-gaps.md")
}

/// The reference run, shared by the tests that need it.
fn reference_report() -> &'static Report {
    static REPORT: OnceLock<Report> = OnceLock::new();
    REPORT.get_or_init(|| {
        let mut opts = Options::new(REFERENCE);
        opts.gaps = Some(gap_table());
        opts.verbose = true;
        run(&suite::catalogue(), &opts)
    })
}

#[test]
fn our_plugins_pass_every_case() {
    let mut opts = Options::new(our_plugins());
    opts.verbose = true;
    let report = run(&suite::catalogue(), &opts);
    assert!(report.success(), "{} cases failed", report.failed());
    assert!(report.passed() >= 150, "only {} cases ran", report.passed());
}

#[test]
fn reference_run_matches_the_gap_table() {
    if !reference_installed() {
        eprintln!(
            "skipped: no reference plugins in {REFERENCE} (Debian containernetworking-plugins)"
        );
        return;
    }
    let report = reference_report();
    assert!(
        report.success(),
        "the reference run does not match reference-gaps.md: {} mismatches",
        report.failed()
    );
}

/// Name of a case with the plugin generalised: `protocol/*/0.4.0/del-twice`. The case code is
/// the same for every plugin, so showing a kind fail shows its code can fail.
fn kind(name: &str) -> String {
    let mut parts: Vec<&str> = name.split('/').collect();
    if matches!(parts[0], "protocol" | "quirks") && parts.len() > 2 {
        parts[1] = "*";
    }
    parts.join("/")
}

/// The mutants run on host-local's cases, on the interface-only kinds of bridge, on every
/// plugin's config refusals, on the chains and on the topologies: together those cover every
/// kind, in a fraction of the full catalogue's time.
fn mutant_catalogue() -> Vec<Case> {
    suite::catalogue()
        .into_iter()
        .filter(|c| {
            c.name.starts_with("chaining/")
                || c.name.starts_with("topology/")
                || c.name.contains("/host-local/")
                || (c.name.starts_with("protocol/bridge/") && c.name.contains("/add-"))
                || c.name.contains("/config-")
        })
        .collect()
}

#[test]
fn every_case_kind_fails_against_a_broken_plugin() {
    if !reference_installed() {
        eprintln!("skipped: no reference plugins in {REFERENCE}");
        return;
    }
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut note = |who: &str, report: &Report| {
        for name in report.failing_cases() {
            seen.entry(kind(name)).or_default().insert(who.to_owned());
        }
    };
    note("reference", reference_report());
    let root = target_dir().0.join("conformance-mutants");
    for mutant in mutants::all() {
        let dir = mutant.install(&root, our_plugins());
        let catalogue: Vec<Case> = mutant_catalogue()
            .into_iter()
            .filter(|c| mutant.targets.iter().any(|t| suite::glob_match(t, &c.name)))
            .collect();
        let report = run(&catalogue, &Options::new(dir));
        note(mutant.name, &report);
    }
    let all_kinds: BTreeSet<String> = suite::catalogue().iter().map(|c| kind(&c.name)).collect();
    let never: Vec<&String> = all_kinds
        .iter()
        .filter(|k| !seen.contains_key(*k))
        .collect();
    for (k, who) in &seen {
        println!(
            "{k}: failed against {}",
            who.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    assert!(
        never.is_empty(),
        "case kinds never seen failing: {never:#?}"
    );
}
