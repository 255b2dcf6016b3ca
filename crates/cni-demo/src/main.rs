//! `cni-demo`: the README's first command. It wires pods with each plugin of the suite inside a
//! sandbox of network namespaces and shows that they talk, then tears everything down.
//!
//! Each scenario is a small world (a namespace playing a Kubernetes node, pod namespaces, and a
//! "switch" namespace where a scenario needs an underlay). Plugins run inside the node namespace
//! exactly as a runtime on that node would run them. Nothing touches the machine's own
//! interfaces. `--plugins DIR` points it at another directory of CNI binaries, e.g. the Go
//! reference plugins in `/usr/lib/cni`, to compare.

mod scenario;

use std::path::PathBuf;
use std::process::ExitCode;

use scenario::{Outcome, SCENARIOS};

fn main() -> ExitCode {
    let opts = match Options::parse(std::env::args().skip(1)) {
        Ok(opts) => opts,
        Err(msg) => {
            eprintln!("{msg}\nusage: cni-demo [--plugins DIR] [--only NAME]");
            return ExitCode::from(2);
        }
    };
    println!("plugins from {}", opts.plugins.display());
    let mut outcome = Outcome::default();
    for scenario in SCENARIOS {
        if opts
            .only
            .as_deref()
            .is_some_and(|only| only != scenario.name)
        {
            continue;
        }
        println!("\n== {}: {} ==", scenario.name, scenario.about);
        let missing: Vec<&str> = scenario
            .needs
            .iter()
            .copied()
            .filter(|bin| !opts.plugins.join(bin).is_file())
            .collect();
        if !missing.is_empty() {
            println!("  [skip] not built yet: {}", missing.join(", "));
            outcome.skipped += 1;
            continue;
        }
        if let Err(e) = (scenario.run)(&opts.plugins, &mut outcome) {
            outcome.fail(&format!("{} could not run: {e}", scenario.name));
        }
    }
    println!(
        "\n{} passed, {} failed, {} skipped",
        outcome.passed, outcome.failed, outcome.skipped
    );
    if outcome.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

struct Options {
    plugins: PathBuf,
    only: Option<String>,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        // Built next to the plugins by `cargo build --release`, so that is where they are.
        let mut plugins = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(PathBuf::from))
            .ok_or("cannot tell where this binary is; pass --plugins DIR")?;
        let mut only = None;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--plugins" => plugins = args.next().ok_or("--plugins needs a DIR")?.into(),
                "--only" => only = Some(args.next().ok_or("--only needs a NAME")?),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(Self { plugins, only })
    }
}
