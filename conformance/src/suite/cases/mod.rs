//! The catalogue: every case, generated from the plugin table and the chaining table.
//!
//! | group | what |
//! |---|---|
//! | `protocol/<plugin>/...` | VERSION, errors and codes, ADD result shape, DEL idempotence, CHECK, STATUS, GC, verb floors, per version |
//! | `quirks/<plugin>/...` | runtimes' habits: `/proc/<pid>/ns/net`, Multus's CNI_ARGS and late DEL, containerd's double DEL and parallel loopback, cnitool's legacy `.conf` |
//! | `chaining/...` | mixed chains: ours under the reference and back, meta plugins consuming our results |
//! | `topology/...` | the seed articles' scenarios and Multus-style secondaries, with pings |
//!
//! Names are `group/plugin/version/what` (version-independent cases omit the version), stable
//! so the gap table can name them.

mod chaining;
mod common;
mod errors;
mod lifecycle;
mod quirks;
mod topology;
mod verbs;

use super::case::{Case, CaseResult};
use super::fixture::Fixture;
use super::profiles::{PROFILES, Profile};

pub use common::VERSIONS;

/// Every case, in a stable order.
pub fn catalogue() -> Vec<Case> {
    let mut all = Vec::new();
    for profile in PROFILES {
        errors::version_cases(&mut all, profile);
        for version in VERSIONS {
            lifecycle::cases(&mut all, profile, version);
            verbs::cases(&mut all, profile, version);
            errors::per_version(&mut all, profile, version);
        }
    }
    for profile in PROFILES {
        quirks::cases(&mut all, profile);
    }
    chaining::cases(&mut all);
    topology::cases(&mut all);
    all
}

/// A case of `profile` run on a fresh fixture that finds plugins in the directory under test.
pub(crate) fn profile_case(
    name: String,
    profile: &'static Profile,
    body: impl Fn(&Fixture) -> CaseResult + Send + Sync + 'static,
) -> Case {
    let label = name.clone();
    Case::new(name, profile.needs(), move |ctx| {
        Fixture::run(Fixture::new(ctx, &label), &body)
    })
}
