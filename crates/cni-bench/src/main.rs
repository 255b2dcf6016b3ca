//! `cni-bench`: our CNI plugins against the Go reference plugins and an iproute2 floor, in the
//! same run, in the same sandbox of network namespaces, reported as ratios (issue 8).
//!
//! ```text
//! cni-bench [--quick] [--plugins DIR] [--reference DIR] [--out DIR] [--n N] [--scale LIST] ...
//! cni-bench rss-probe PROGRAM STDOUT_FILE      (internal: one ADD under the memory probe)
//! ```
//!
//! It measures; it never judges a time as a failure. The issue's targets are evaluated in the
//! report, and the exit status only says whether the measurements could be taken. Needs root:
//! every phase builds its own namespaces (never touching the machine's own) and removes them.

// Tests may unwrap: a panic there is the assertion.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod configs;
mod error;
mod exec;
mod floor;
mod netns;
mod options;
mod phases;
mod report;
mod rss_probe;
mod site;
mod stats;
mod subject;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use error::Result;
use options::{Options, Phase};
use phases::{concurrency, progress, rss, runner, scale, sequential, sizes};
use report::machine::{Machine, load_average};
use report::{Report, targets};
use site::Scenario;
use subject::{Binaries, Subject};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == "rss-probe") {
        let code = rss_probe::main(&args[1..]);
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let opts = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("cni-bench: {e}\n{}", options::USAGE);
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok((report, files)) => {
            let markdown = opts.out.join(report::MARKDOWN);
            print!("{}", std::fs::read_to_string(markdown).unwrap_or_default());
            for f in &files {
                eprintln!("cni-bench: wrote {}", f.display());
            }
            eprintln!("cni-bench: command: {}", report.command);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cni-bench: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(opts: &Options) -> Result<(Report, Vec<PathBuf>)> {
    raise_fd_limit();
    let bins = Binaries {
        ours: opts.plugins.clone(),
        reference: opts.reference.clone(),
    };
    bins.check()?;
    let mut report = Report {
        command: opts.command.clone(),
        machine: Machine::read(),
        ours_dir: opts.plugins.clone(),
        reference_dir: opts.reference.clone(),
        n: opts.n,
        sizes: None,
        latency: Vec::new(),
        concurrency: Vec::new(),
        rss: Vec::new(),
        scale: Vec::new(),
        targets: Vec::new(),
        notes: Vec::new(),
    };
    progress(&format!(
        "ours {} vs reference {}; load average {:.2}",
        opts.plugins.display(),
        opts.reference.display(),
        report.machine.load_start
    ));
    let scenarios = [Scenario::Bridge, Scenario::Macvlan];
    if opts.wants(Phase::Sizes) {
        let scratch = std::env::temp_dir().join(format!("cni-bench-sizes-{}", std::process::id()));
        let sizes = sizes::run(&bins, &scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        report.sizes = Some(sizes?);
    }
    let has_vxlan = bins.has(Subject::Ours, "vxlan");
    if opts.wants(Phase::Direct) {
        for scenario in scenarios {
            report
                .latency
                .extend(sequential::run(&bins, scenario, opts.n)?);
        }
        if has_vxlan {
            report
                .latency
                .extend(sequential::run(&bins, Scenario::Vxlan, opts.n)?);
        }
    }
    if opts.wants(Phase::Runner) {
        for scenario in scenarios {
            report.latency.extend(runner::run(&bins, scenario, opts.n)?);
        }
    }
    if opts.quick {
        report.notes.push(
            "--quick: small samples that prove the benchmark works; they say little about the targets."
                .into(),
        );
    }
    if !has_vxlan {
        report
            .notes
            .push("vxlan: no `vxlan` binary among ours, so it was not measured.".into());
    }
    if opts.wants(Phase::Concurrency) {
        report.concurrency = concurrency::run(&bins, &opts.concurrency, opts.rounds)?;
    }
    if opts.wants(Phase::Rss) {
        report.rss = rss::run(&bins, &scenarios, opts.rss_samples)?;
    }
    if opts.wants(Phase::Scale) {
        report.scale = scale::run(&bins, &opts.scale, opts.scale_samples)?;
    }
    report.machine.load_end = load_average();
    report.targets = targets::judge(&report);
    let files = report.write(&opts.out)?;
    Ok((report, files))
}

/// A burst of 200 holds two pipes and a pidfd per child next to an open namespace file per
/// pod: over the 1024 descriptors many systems allow by default. The hard limit is ours to use.
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write one valid rlimit on our stack.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
