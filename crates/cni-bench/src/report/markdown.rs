//! `report.md`: the machine and command, the targets, then one table per measurement.

use std::fmt::Write;

use super::{PLOT, Report, mib, ms, times};
use crate::phases::Verb;
use crate::stats::ratio;
use crate::subject::Subject;

/// Renders the whole report.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    header(r, &mut s);
    targets(r, &mut s);
    latency(r, &mut s);
    scale(r, &mut s);
    concurrency(r, &mut s);
    rss(r, &mut s);
    sizes(r, &mut s);
    notes(r, &mut s);
    s
}

/// A markdown table: header cells, then rows of the same width.
fn table(s: &mut String, head: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(s, "| {} |", head.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(head.len()));
    for row in rows {
        let _ = writeln!(s, "| {} |", row.join(" | "));
    }
    s.push('\n');
}

fn header(r: &Report, s: &mut String) {
    let m = &r.machine;
    let _ = writeln!(s, "# cni-bench: our plugins against the reference\n");
    let _ = writeln!(s, "Command: `{}`\n", r.command);
    let _ = writeln!(
        s,
        "Machine: {}, {} cores, Linux {}, {} GiB RAM; load average {:.2} at the start, {:.2} at the end; {}.\n",
        m.cpu, m.cores, m.kernel, m.memory_gib, m.load_start, m.load_end, m.started_utc
    );
    let _ = writeln!(
        s,
        "Ours: `{}`. Reference: `{}` (containernetworking-plugins {}).\n",
        r.ours_dir.display(),
        r.reference_dir.display(),
        m.reference_version.as_deref().unwrap_or("version unknown")
    );
}

fn targets(r: &Report, s: &mut String) {
    if r.targets.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Targets (issue 8)\n");
    let rows: Vec<Vec<String>> = r
        .targets
        .iter()
        .map(|t| {
            let met = match t.met {
                Some(true) => "met",
                Some(false) => "**missed**",
                None => "not measured",
            };
            vec![t.goal.clone(), t.measured.clone(), met.to_owned()]
        })
        .collect();
    table(s, &["target", "measured (ours vs other)", ""], &rows);
}

fn latency(r: &Report, s: &mut String) {
    if r.latency.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "## Sequential ADD and DEL\n\n{} pairs per subject, subjects interleaved; milliseconds from spawn to exit. \
         \"direct\": the binary exec'd with env + stdin in the node namespace; \"conflist runner\": \
         through a libcni-faithful runtime (config injection, result cache). The parts of a direct ADD: \
         \"IPAM alone\" is host-local exec'd by itself with the same config, \"exec only\" the plugin's \
         VERSION (a process start and exit, no work). The floor is `ip -batch` doing the same kernel work. \
         \"CPU\": user + system time of the whole process tree (`wait4` rusage); wall minus CPU is waiting \
         (kernel sleeps, disk flushes, the scheduler).\n",
        r.n
    );
    let mut rows = Vec::new();
    for x in &r.latency {
        let other = |who: Subject| {
            r.series(&x.scenario, &x.path, who, x.verb.label())
                .and_then(|o| ratio(x.summary.median_ms, o.summary.median_ms))
        };
        let (vs_ref, vs_floor) = if x.subject == Subject::Ours {
            (
                times(other(Subject::Reference)),
                times(other(Subject::Floor)),
            )
        } else {
            (String::new(), String::new())
        };
        rows.push(vec![
            x.scenario.clone(),
            x.path.clone(),
            x.verb.label().to_owned(),
            x.subject.label().to_owned(),
            ms(x.summary.median_ms),
            ms(x.summary.p90_ms),
            ms(x.summary.p99_ms),
            x.cpu_median_ms.map_or_else(|| "–".to_owned(), ms),
            vs_ref,
            vs_floor,
        ]);
    }
    table(
        s,
        &[
            "scenario",
            "path",
            "verb",
            "subject",
            "median",
            "p90",
            "p99",
            "CPU median",
            "ours / reference",
            "ours / floor",
        ],
        &rows,
    );
}

fn scale(r: &Report, s: &mut String) {
    let mut levels: Vec<usize> = r.scale.iter().map(|p| p.pods).collect();
    levels.dedup();
    if levels.is_empty() {
        return;
    }
    let n = r.scale.first().map_or(0, |p| p.add.n);
    let _ = writeln!(
        s,
        "## Pods attached to the bridge\n\nMedian (p90) ms of {n} ADD/DEL pairs per subject with that many pods already on `cni0`, \
         each node filled as its own plugin leaves one (host ends as its bridge sets them, one reservation per pod made by its own host-local); \
         CPU is the median CPU of the process tree; \"IPAM alone\" is host-local's ADD exec'd by itself against the same store.\n"
    );
    let who = [Subject::Ours, Subject::Reference, Subject::Floor];
    let point = |pods: usize, w: Subject| r.scale.iter().find(|p| p.pods == pods && p.subject == w);
    let mut rows = Vec::new();
    for &pods in &levels {
        for verb in [Verb::Add, Verb::Del] {
            let mut row = vec![pods.to_string(), verb.label().to_owned()];
            for &w in &who {
                row.push(point(pods, w).map_or_else(String::new, |p| {
                    let (x, cpu) = if verb == Verb::Add {
                        (p.add, p.add_cpu_ms)
                    } else {
                        (p.del, p.del_cpu_ms)
                    };
                    let cpu = cpu.map_or_else(String::new, |c| format!(", CPU {}", ms(c)));
                    format!("{} ({}){cpu}", ms(x.median_ms), ms(x.p90_ms))
                }));
            }
            for w in [Subject::Ours, Subject::Reference] {
                let ipam = point(pods, w)
                    .and_then(|p| p.ipam_add)
                    .filter(|_| verb == Verb::Add);
                row.push(ipam.map_or_else(String::new, |x| ms(x.median_ms)));
            }
            rows.push(row);
        }
    }
    table(
        s,
        &[
            "pods",
            "verb",
            "ours",
            "reference",
            "floor",
            "IPAM alone, ours",
            "IPAM alone, reference",
        ],
        &rows,
    );
    let _ = writeln!(s, "![ADD latency against pods attached]({PLOT})\n");
}

fn concurrency(r: &Report, s: &mut String) {
    if r.concurrency.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "## ADDs launched at once (bridge + host-local, one network)\n\nWall time from the first spawn to the last exit, median over the bursts; \
         then as many DELs at once. Leftovers are counted after each DEL burst.\n"
    );
    let rows: Vec<Vec<String>> = r
        .concurrency
        .iter()
        .map(|b| {
            vec![
                b.size.to_string(),
                b.subject.label().to_owned(),
                b.rounds.to_string(),
                ms(b.add_wall.median_ms),
                ms(b.add_cpu.median_ms),
                ms(b.del_wall.median_ms),
                format!("{} / {}", b.add_failures, b.del_failures),
                b.duplicates.to_string(),
                format!("{} links, {} files", b.leftover_links, b.leftover_files),
            ]
        })
        .collect();
    table(
        s,
        &[
            "at once",
            "subject",
            "bursts",
            "ADD wall ms",
            "ADD CPU ms (all)",
            "DEL wall ms",
            "failures ADD / DEL",
            "duplicate addresses",
            "leftovers",
        ],
        &rows,
    );
    for b in r.concurrency.iter().filter(|b| b.first_error.is_some()) {
        let _ = writeln!(
            s,
            "First failure, {} at {}: `{}`\n",
            b.subject.label(),
            b.size,
            b.first_error
                .as_deref()
                .unwrap_or_default()
                .replace('`', "'")
        );
    }
}

fn rss(r: &Report, s: &mut String) {
    if r.rss.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "## Peak memory of one ADD\n\n\"tree\": the sum of each process's own peak (`VmHWM` at exit, read under ptrace), \
         plugin + IPAM; \"largest process\": `ru_maxrss` from `wait4` on the plugin, which folds in the IPAM child's. \
         Both measured from a small launcher that forks the plugin, so no parent's memory is counted. Median of the samples.\n"
    );
    let rows: Vec<Vec<String>> = r
        .rss
        .iter()
        .map(|p| {
            let procs: Vec<String> = p
                .processes
                .iter()
                .map(|x| {
                    format!(
                        "{} {} (at exit: {} anon, {} file)",
                        x.name,
                        mib(x.hwm_kib),
                        mib(x.anon_kib),
                        mib(x.file_kib)
                    )
                })
                .collect();
            vec![
                p.scenario.clone(),
                p.subject.label().to_owned(),
                mib(p.tree_kib),
                procs.join(" + "),
                mib(p.wait4_maxrss_kib),
            ]
        })
        .collect();
    table(
        s,
        &[
            "scenario",
            "subject",
            "tree",
            "processes",
            "largest process",
        ],
        &rows,
    );
}

fn sizes(r: &Report, s: &mut String) {
    let Some(sizes) = &r.sizes else {
        return;
    };
    let how = if sizes.stripped {
        "each copied through `strip`"
    } else {
        "as installed (`strip` was not available)"
    };
    let _ = writeln!(s, "## Binary sizes\n\nBytes, {how}.\n");
    let rows: Vec<Vec<String>> = sizes
        .rows
        .iter()
        .map(|x| {
            let q = match (x.ours_bytes, x.reference_bytes) {
                (Some(o), Some(f)) => times(ratio(o as f64, f as f64)),
                _ => "–".to_owned(),
            };
            let show = |b: Option<u64>| b.map_or_else(|| "–".to_owned(), |b| b.to_string());
            vec![
                x.binary.clone(),
                show(x.ours_bytes),
                show(x.reference_bytes),
                q,
            ]
        })
        .collect();
    table(
        s,
        &["binary", "ours", "reference", "ours / reference"],
        &rows,
    );
}

fn notes(r: &Report, s: &mut String) {
    if r.notes.is_empty() {
        return;
    }
    let _ = writeln!(s, "## Notes\n");
    for n in &r.notes {
        let _ = writeln!(s, "- {n}");
    }
    s.push('\n');
}
