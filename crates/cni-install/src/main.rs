//! `cni-install`: see the library docs and `cni-install --help`.

use std::io::{self, Write};
use std::process::ExitCode;

use cni_install::cli::{self, Command, USAGE};
use cni_install::{Error, check, install, watch};

fn main() -> ExitCode {
    let result = cli::parse(std::env::args_os().skip(1)).and_then(run);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Usage(text)) => {
            eprintln!("cni-install: {text}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("cni-install: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), Error> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match command {
        Command::Help => {
            let _ = writeln!(out, "{USAGE}");
        }
        Command::Version => {
            let _ = writeln!(out, "cni-install v{}", env!("CARGO_PKG_VERSION"));
        }
        Command::Install(plan) => install::install(&plan, &mut |entry| {
            let _ = writeln!(out, "{entry}");
        })?,
        Command::Check(plan) => {
            for line in check::check(&plan)? {
                let _ = writeln!(out, "{line}");
            }
        }
        Command::Watch(plan, interval) => watch::watch(&plan, interval, &mut out)?,
    }
    Ok(())
}
