//! `cni-conformance`: run the black-box CNI suite against a directory of plugin binaries.
//!
//! ```text
//! cni-conformance run --plugins DIR [--only PATTERN] [--expect-gaps FILE]
//!                     [--reference DIR] [--jobs N] [--verbose]
//! cni-conformance list [--only PATTERN]
//! ```
//!
//! `run` prints one line per case and closes with `N passed, N failed`; it exits 1 if anything
//! failed (with `--expect-gaps`, a listed case that passes counts as a failure too), 2 on a
//! usage error. It needs root: every case builds its own network namespaces.

use std::path::PathBuf;
use std::process::ExitCode;

use cni_conformance::suite::{self, GapTable, Options};

const USAGE: &str = "usage: cni-conformance run --plugins DIR [--only PATTERN] [--expect-gaps FILE] [--reference DIR] [--jobs N] [--verbose]
       cni-conformance list [--only PATTERN]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args) {
        Ok(Cmd::List(only)) => {
            for case in suite::catalogue() {
                if only
                    .as_deref()
                    .is_none_or(|o| suite::selects(o, &case.name))
                {
                    println!("{}", case.name);
                }
            }
            ExitCode::SUCCESS
        }
        Ok(Cmd::Run(opts)) => {
            let report = suite::run(&suite::catalogue(), &opts, &mut std::io::stdout());
            if report.success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(msg) => {
            eprintln!("cni-conformance: {msg}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

enum Cmd {
    Run(Options),
    List(Option<String>),
}

fn parse(args: &[String]) -> Result<Cmd, String> {
    let (verb, rest) = args.split_first().ok_or("no command")?;
    let mut plugins: Option<PathBuf> = None;
    let mut opts = Options::new("");
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--plugins" => plugins = Some(PathBuf::from(value()?)),
            "--reference" => opts.reference = PathBuf::from(value()?),
            "--only" => opts.only = Some(value()?),
            "--expect-gaps" => {
                let path = PathBuf::from(value()?);
                opts.gaps = Some(GapTable::load(&path).map_err(|e| e.to_string())?);
            }
            "--jobs" => {
                opts.jobs = value()?.parse().map_err(|e| format!("--jobs: {e}"))?;
            }
            "--verbose" | "-v" => opts.verbose = true,
            "--help" | "-h" => return Err("help".into()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    match verb.as_str() {
        "list" => Ok(Cmd::List(opts.only)),
        "run" => {
            let dir = plugins.ok_or("run needs --plugins DIR")?;
            if !dir.is_dir() {
                return Err(format!("--plugins {}: not a directory", dir.display()));
            }
            opts.plugins = dir;
            Ok(Cmd::Run(opts))
        }
        other => Err(format!("unknown command {other:?}")),
    }
}
