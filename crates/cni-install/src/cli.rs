//! The command line. Hand-parsed: four flags do not justify a parser dependency in a binary
//! that ships in every node's image.
//! Not here: what the commands do.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::install::Plan;

/// Where the image keeps the plugins (see `manifests/Containerfile`).
pub const DEFAULT_FROM: &str = "/cni/bin";
/// The node's `/opt/cni/bin` as the DaemonSet mounts it.
pub const DEFAULT_BIN_DIR: &str = "/host/opt/cni/bin";
/// The node's `/etc/cni/net.d` as the DaemonSet mounts it.
pub const DEFAULT_CONF_DIR: &str = "/host/etc/cni/net.d";
/// How often `watch` re-installs.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// The usage text.
pub const USAGE: &str = "\
usage: cni-install <install|check|watch> [flags]
  install   copy the plugins (and the conflist) onto the node atomically, then exit
  check     exit 0 only if every plugin on the node is executable and answers VERSION
            (and the conflist is in place); the readiness probe
  watch     install, then re-install every --interval seconds until SIGTERM
flags:
  --from DIR        plugin binaries to install           (default /cni/bin)
  --bin-dir DIR     the node's CNI bin dir, as mounted   (default /host/opt/cni/bin)
  --conflist FILE   a .conflist/.conf to write into --conf-dir (default: none)
  --conf-dir DIR    the node's CNI conf dir, as mounted  (default /host/etc/cni/net.d)
  --interval SECS   watch only                           (default 60)
Each file is reported as: installed | unchanged | updated | removed-leftover <path>";

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// One install run.
    Install(Plan),
    /// The readiness check.
    Check(Plan),
    /// Install, then keep re-installing.
    Watch(Plan, Duration),
    /// `--help`.
    Help,
    /// `--version`.
    Version,
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command> {
    let mut args = args.into_iter();
    let verb = match args.next() {
        None => return Err(usage("no command given")),
        Some(verb) => verb
            .into_string()
            .map_err(|_| usage("command is not UTF-8"))?,
    };
    match verb.as_str() {
        "-h" | "--help" | "help" => return Ok(Command::Help),
        "-V" | "--version" | "version" => return Ok(Command::Version),
        "install" | "check" | "watch" => {}
        other => return Err(usage(&format!("unknown command {other:?}"))),
    }
    let mut plan = Plan {
        from: DEFAULT_FROM.into(),
        bin_dir: DEFAULT_BIN_DIR.into(),
        conflist: None,
        conf_dir: DEFAULT_CONF_DIR.into(),
    };
    let mut interval = None;
    while let Some(flag) = args.next() {
        let flag = flag.into_string().map_err(|_| usage("flag is not UTF-8"))?;
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(OsString::from(value))),
            None => (flag, None),
        };
        let value = match inline.or_else(|| args.next()) {
            Some(value) => value,
            None => return Err(usage(&format!("{name} needs a value"))),
        };
        match name.as_str() {
            "--from" => plan.from = PathBuf::from(value),
            "--bin-dir" => plan.bin_dir = PathBuf::from(value),
            "--conflist" => plan.conflist = Some(PathBuf::from(value)),
            "--conf-dir" => plan.conf_dir = PathBuf::from(value),
            "--interval" if verb == "watch" => interval = Some(seconds(value)?),
            other => return Err(usage(&format!("unknown flag {other:?} for {verb}"))),
        }
    }
    Ok(match verb.as_str() {
        "install" => Command::Install(plan),
        "check" => Command::Check(plan),
        _ => Command::Watch(plan, interval.unwrap_or(DEFAULT_INTERVAL)),
    })
}

fn seconds(value: OsString) -> Result<Duration> {
    let text = value.to_string_lossy();
    match text.parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(usage(&format!(
            "--interval wants a positive number of seconds, not {text:?}"
        ))),
    }
}

fn usage(why: &str) -> Error {
    Error::Usage(format!("{why}\n{USAGE}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(args: &[&str]) -> Result<Command> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn defaults_are_the_daemonset_mounts() {
        let Command::Install(plan) = parse_str(&["install"]).unwrap() else {
            panic!("not install")
        };
        assert_eq!(plan.from, PathBuf::from("/cni/bin"));
        assert_eq!(plan.bin_dir, PathBuf::from("/host/opt/cni/bin"));
        assert_eq!(plan.conf_dir, PathBuf::from("/host/etc/cni/net.d"));
        assert_eq!(plan.conflist, None);
    }

    #[test]
    fn flags_in_both_spellings() {
        let cmd = parse_str(&[
            "watch",
            "--from",
            "/a",
            "--bin-dir=/b",
            "--conflist",
            "/c/x.conflist",
            "--conf-dir=/d",
            "--interval",
            "5",
        ])
        .unwrap();
        let plan = Plan {
            from: "/a".into(),
            bin_dir: "/b".into(),
            conflist: Some("/c/x.conflist".into()),
            conf_dir: "/d".into(),
        };
        assert_eq!(cmd, Command::Watch(plan, Duration::from_secs(5)));
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for args in [
            &[][..],
            &["frobnicate"],
            &["install", "--from"],
            &["install", "--nope", "x"],
            &["install", "--interval", "5"],
            &["watch", "--interval", "0"],
            &["watch", "--interval=soon"],
        ] {
            let err = parse_str(args).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{args:?}: {err}");
        }
    }
}
