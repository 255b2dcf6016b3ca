//! The issue-8 targets, judged on one report. Each ratio is ours over the reference (or the
//! floor) from the same run; a target whose inputs were not measured is listed as such.

use serde::Serialize;

use super::{Report, mib, ms, times};
use crate::phases::Verb;
use crate::phases::concurrency::Burst;
use crate::site::Scenario;
use crate::stats::ratio;
use crate::subject::Subject;

/// One target.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// What the issue asks.
    pub goal: String,
    /// What was measured, in words and numbers.
    pub measured: String,
    /// Met or not; `None` when not measured.
    pub met: Option<bool>,
}

impl Target {
    fn new(goal: String, measured: String, met: Option<bool>) -> Target {
        Target {
            goal,
            measured,
            met,
        }
    }
}

/// Judges every target that `report` has the numbers for.
pub fn judge(report: &Report) -> Vec<Target> {
    let mut out = Vec::new();
    for scenario in [Scenario::Bridge, Scenario::Macvlan] {
        latency_targets(report, scenario, &mut out);
    }
    scale_target(report, &mut out);
    burst_target(report, &mut out);
    rss_targets(report, &mut out);
    size_targets(report, &mut out);
    out
}

fn median(report: &Report, scenario: Scenario, subject: Subject, verb: Verb) -> Option<f64> {
    report
        .series(scenario.label(), "direct", subject, verb.label())
        .map(|s| s.summary.median_ms)
}

fn latency_targets(report: &Report, scenario: Scenario, out: &mut Vec<Target>) {
    let name = scenario.label();
    let ours_add = median(report, scenario, Subject::Ours, Verb::Add);
    let ref_add = median(report, scenario, Subject::Reference, Verb::Add);
    let floor_add = median(report, scenario, Subject::Floor, Verb::Add);
    let ours_del = median(report, scenario, Subject::Ours, Verb::Del);
    let floor_del = median(report, scenario, Subject::Floor, Verb::Del);
    if let (Some(o), Some(r)) = (ours_add, ref_add) {
        let q = ratio(o, r);
        out.push(Target::new(
            format!("{name}: ADD median ≤ 1/3 of the reference"),
            format!("{} ms vs {} ms = {}", ms(o), ms(r), times(q)),
            q.map(|q| q <= 1.0 / 3.0),
        ));
    }
    if let (Some(o), Some(f)) = (ours_add, floor_add) {
        out.push(Target::new(
            format!("{name}: ADD median below the iproute2 floor"),
            format!("{} ms vs {} ms = {}", ms(o), ms(f), times(ratio(o, f))),
            Some(o < f),
        ));
    }
    if let (Some(o), Some(f)) = (ours_del, floor_del) {
        let q = ratio(o, f);
        out.push(Target::new(
            format!("{name}: DEL median within 10% of the floor"),
            format!("{} ms vs {} ms = {}", ms(o), ms(f), times(q)),
            q.map(|q| q <= 1.10),
        ));
    }
}

fn scale_target(report: &Report, out: &mut Vec<Target>) {
    let ours: Vec<_> = report
        .scale
        .iter()
        .filter(|p| p.subject == Subject::Ours)
        .collect();
    let (Some(zero), Some(top)) = (
        ours.iter().find(|p| p.pods == 0),
        ours.iter().filter(|p| p.pods > 0).max_by_key(|p| p.pods),
    ) else {
        return;
    };
    let q = ratio(top.add.median_ms, zero.add.median_ms);
    out.push(Target::new(
        format!(
            "bridge: ADD median with {} pods within 10% of 0 pods",
            top.pods
        ),
        format!(
            "{} ms vs {} ms = {}",
            ms(top.add.median_ms),
            ms(zero.add.median_ms),
            times(q)
        ),
        q.map(|q| q <= 1.10),
    ));
}

fn burst_target(report: &Report, out: &mut Vec<Target>) {
    // The size is 50; judge the smallest measured size, which is 50 in a full run.
    let Some(size) = report.concurrency.iter().map(|b| b.size).min() else {
        return;
    };
    let find = |s: Subject| -> Option<&Burst> {
        report
            .concurrency
            .iter()
            .find(|b| b.size == size && b.subject == s)
    };
    let (Some(o), Some(r)) = (find(Subject::Ours), find(Subject::Reference)) else {
        return;
    };
    let q = ratio(o.add_wall.median_ms, r.add_wall.median_ms);
    let clean = o.add_failures == 0 && o.duplicates == 0;
    out.push(Target::new(
        format!("bridge: {size} concurrent ADDs ≤ 1/3 of the reference's wall time, 0 duplicates, 0 failures"),
        format!(
            "{} ms vs {} ms = {}; {} failures, {} duplicates",
            ms(o.add_wall.median_ms),
            ms(r.add_wall.median_ms),
            times(q),
            o.add_failures,
            o.duplicates
        ),
        q.map(|q| q <= 1.0 / 3.0 && clean),
    ));
}

fn rss_targets(report: &Report, out: &mut Vec<Target>) {
    for scenario in [Scenario::Bridge, Scenario::Macvlan] {
        let find = |s: Subject| {
            report
                .rss
                .iter()
                .find(|p| p.scenario == scenario.label() && p.subject == s)
        };
        let (Some(o), Some(r)) = (find(Subject::Ours), find(Subject::Reference)) else {
            continue;
        };
        let q = ratio(o.tree_kib as f64, r.tree_kib as f64);
        out.push(Target::new(
            format!(
                "{}: peak RSS of one ADD's process tree ≤ 1/3",
                scenario.label()
            ),
            format!("{} vs {} = {}", mib(o.tree_kib), mib(r.tree_kib), times(q)),
            q.map(|q| q <= 1.0 / 3.0),
        ));
    }
}

fn size_targets(report: &Report, out: &mut Vec<Target>) {
    let Some(sizes) = &report.sizes else {
        return;
    };
    for row in &sizes.rows {
        let (Some(o), Some(r)) = (row.ours_bytes, row.reference_bytes) else {
            continue;
        };
        let q = ratio(o as f64, r as f64);
        out.push(Target::new(
            format!("{}: binary ≤ 1/2 of the reference", row.binary),
            format!("{} vs {} = {}", mib(o / 1024), mib(r / 1024), times(q)),
            q.map(|q| q <= 0.5),
        ));
    }
}
