//! The suite: cases generated from a table of plugins and chains, run against a directory of
//! binaries and judged against an optional table of known gaps.
//!
//! ```no_run
//! use cni_conformance::suite::{self, GapTable, Options};
//!
//! let mut opts = Options::new("/opt/cni/bin");
//! opts.gaps = Some(GapTable::load("conformance/reference-gaps.md".as_ref())?);
//! let report = suite::run(&suite::catalogue(), &opts, &mut std::io::stdout());
//! assert!(report.success());
//! # Ok::<(), cni_conformance::ConformanceError>(())
//! ```
//!
//! Not here: the runtime mechanics (see [`crate::runner`]).

mod case;
mod cases;
mod fixture;
mod gaps;
mod profiles;
mod run;
pub mod shape;

pub use case::{Case, CaseResult, Ctx, Failure, Need};
pub use cases::{VERSIONS, catalogue};
pub use fixture::{Fixture, NETWORK};
pub use gaps::{Gap, GapTable, glob_match, selects};
pub use profiles::{BadConfig, Kind, NetSpec, PROFILES, Profile};
pub use run::{CaseReport, Options, Outcome, Report, Verdict, run};
