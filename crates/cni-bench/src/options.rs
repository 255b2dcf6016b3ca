//! The command line.

use std::path::PathBuf;

use crate::error::{BenchError, Result};

/// Usage text.
pub const USAGE: &str = "usage: cni-bench [--quick] [--plugins DIR] [--reference DIR] [--out DIR]
                 [--n N] [--scale LIST] [--scale-samples N] [--concurrency LIST]
                 [--rounds N] [--rss-samples N] [--phases LIST]

Measures our CNI plugins (--plugins, default: the directory of this binary) against the Go
reference plugins (--reference, default /usr/lib/cni) and an iproute2 floor in one sandbox of
network namespaces, and writes report.md, report.json and add-latency-vs-pods.svg to --out
(default: target/bench next to the profile directory this binary is in). Needs root.

  --quick            small run (N 10, scale 0,20, concurrency 10): proves the bench works
  --n N              sequential ADD/DEL pairs per subject and path (default 200)
  --scale LIST       pods already attached to the bridge (default 0,100,500,1000)
  --scale-samples N  ADD/DEL pairs per subject at each scale point (default 40)
  --concurrency LIST ADDs launched at once (default 50,200)
  --rounds N         bursts per subject and concurrency level (default 3)
  --rss-samples N    ADDs measured for peak RSS per subject (default 5)
  --phases LIST      any of sizes,direct,runner,concurrency,rss,scale (default all)";

/// A part of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Stripped binary sizes.
    Sizes,
    /// Sequential ADD/DEL, binaries invoked directly.
    Direct,
    /// Sequential ADD/DEL through the conflist runner.
    Runner,
    /// Bursts of ADDs and DELs at once.
    Concurrency,
    /// Peak RSS of one ADD's process tree.
    Rss,
    /// ADD/DEL latency against pods attached.
    Scale,
}

impl Phase {
    const ALL: [Phase; 6] = [
        Phase::Sizes,
        Phase::Direct,
        Phase::Runner,
        Phase::Concurrency,
        Phase::Rss,
        Phase::Scale,
    ];

    fn parse(s: &str) -> Result<Phase> {
        Ok(match s {
            "sizes" => Phase::Sizes,
            "direct" => Phase::Direct,
            "runner" => Phase::Runner,
            "concurrency" => Phase::Concurrency,
            "rss" => Phase::Rss,
            "scale" => Phase::Scale,
            other => return Err(BenchError::Usage(format!("unknown phase {other:?}"))),
        })
    }
}

/// Everything the run is told.
#[derive(Debug, Clone)]
pub struct Options {
    /// Our plugin directory.
    pub plugins: PathBuf,
    /// The reference plugin directory.
    pub reference: PathBuf,
    /// Where the report goes.
    pub out: PathBuf,
    /// Sequential pairs per subject.
    pub n: usize,
    /// Pods attached before each scale point.
    pub scale: Vec<usize>,
    /// Pairs per subject at each scale point.
    pub scale_samples: usize,
    /// Burst sizes.
    pub concurrency: Vec<usize>,
    /// Bursts per subject and size.
    pub rounds: usize,
    /// RSS samples per subject.
    pub rss_samples: usize,
    /// The parts to run.
    pub phases: Vec<Phase>,
    /// `--quick` was given.
    pub quick: bool,
    /// The command line as typed, for the report.
    pub command: String,
}

impl Options {
    /// Parses the arguments after the program name.
    pub fn parse(args: &[String]) -> Result<Options> {
        let quick = args.iter().any(|a| a == "--quick");
        let exe_dir = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(PathBuf::from))
            .ok_or_else(|| BenchError::Usage("cannot tell where this binary is".into()))?;
        // target/<profile>/cni-bench -> target/bench
        let out = exe_dir
            .parent()
            .map_or_else(|| exe_dir.join("bench"), |t| t.join("bench"));
        let mut o = Options {
            plugins: exe_dir,
            reference: PathBuf::from("/usr/lib/cni"),
            out,
            n: if quick { 10 } else { 200 },
            scale: if quick {
                vec![0, 20]
            } else {
                vec![0, 100, 500, 1000]
            },
            scale_samples: if quick { 5 } else { 40 },
            concurrency: if quick { vec![10] } else { vec![50, 200] },
            rounds: if quick { 1 } else { 3 },
            rss_samples: if quick { 1 } else { 5 },
            phases: Phase::ALL.to_vec(),
            quick,
            command: command_line(args),
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| BenchError::Usage(format!("{flag} needs a value")))
            };
            match flag.as_str() {
                "--quick" => {}
                "--plugins" => o.plugins = PathBuf::from(value()?),
                "--reference" => o.reference = PathBuf::from(value()?),
                "--out" => o.out = PathBuf::from(value()?),
                "--n" => o.n = number(flag, &value()?)?,
                "--scale" => o.scale = list(flag, &value()?)?,
                "--scale-samples" => o.scale_samples = number(flag, &value()?)?,
                "--concurrency" => o.concurrency = list(flag, &value()?)?,
                "--rounds" => o.rounds = number(flag, &value()?)?,
                "--rss-samples" => o.rss_samples = number(flag, &value()?)?,
                "--phases" => {
                    o.phases = value()?
                        .split(',')
                        .map(|p| Phase::parse(p.trim()))
                        .collect::<Result<_>>()?;
                }
                "--help" | "-h" => return Err(BenchError::Usage(USAGE.into())),
                other => return Err(BenchError::Usage(format!("unknown argument {other:?}"))),
            }
        }
        o.scale.sort_unstable();
        o.scale.dedup();
        if o.n == 0 || o.scale_samples == 0 || o.rounds == 0 || o.rss_samples == 0 {
            return Err(BenchError::Usage("counts must be at least 1".into()));
        }
        Ok(o)
    }

    /// True if `phase` is to run.
    pub fn wants(&self, phase: Phase) -> bool {
        self.phases.contains(&phase)
    }
}

fn number(flag: &str, v: &str) -> Result<usize> {
    v.parse()
        .map_err(|e| BenchError::Usage(format!("{flag} {v:?}: {e}")))
}

fn list(flag: &str, v: &str) -> Result<Vec<usize>> {
    v.split(',').map(|x| number(flag, x.trim())).collect()
}

/// The command as a shell would take it back.
fn command_line(args: &[String]) -> String {
    let mut words = vec!["cni-bench".to_owned()];
    words.extend(args.iter().map(|a| {
        let plain = !a.is_empty()
            && a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./,=:".contains(&b));
        if plain {
            a.clone()
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    }));
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options> {
        Options::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn quick_sets_small_defaults_that_flags_still_override() {
        let o = parse(&["--quick", "--n", "7"]).unwrap();
        assert!(o.quick);
        assert_eq!(o.n, 7);
        assert_eq!(o.scale, [0, 20]);
        assert_eq!(o.concurrency, [10]);
        assert_eq!(o.command, "cni-bench --quick --n 7");
    }

    #[test]
    fn full_defaults_and_lists() {
        let o = parse(&["--scale", "500,0,500", "--phases", "direct,scale"]).unwrap();
        assert_eq!(o.n, 200);
        assert_eq!(o.scale, [0, 500]);
        assert_eq!(o.phases, [Phase::Direct, Phase::Scale]);
        assert!(o.out.ends_with("bench"));
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(parse(&["--n"]).is_err());
        assert!(parse(&["--n", "x"]).is_err());
        assert!(parse(&["--n", "0"]).is_err());
        assert!(parse(&["--phases", "warp"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
    }
}
