//! Who does the work in a sample: our plugins, the Go reference plugins, or iproute2 doing the
//! same kernel work (the floor); and where their binaries are.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{BenchError, Result};
use crate::exec::is_executable;

/// The party measured in a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Subject {
    /// Our plugins (the directory under test).
    Ours,
    /// The Go reference plugins.
    Reference,
    /// `ip -batch` doing the same kernel work, no IPAM: what the kernel itself costs.
    Floor,
}

impl Subject {
    /// The label in tables.
    pub fn label(self) -> &'static str {
        match self {
            Subject::Ours => "ours",
            Subject::Reference => "reference",
            Subject::Floor => "iproute2 floor",
        }
    }

    /// A short tag for namespace roles and container ids.
    pub fn tag(self) -> &'static str {
        match self {
            Subject::Ours => "ours",
            Subject::Reference => "ref",
            Subject::Floor => "floor",
        }
    }
}

/// The two plugin directories.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// Ours (`target/release` by default).
    pub ours: PathBuf,
    /// The reference (`/usr/lib/cni`).
    pub reference: PathBuf,
}

impl Binaries {
    /// The directory of a plugin subject (`None` for the floor).
    pub fn dir(&self, subject: Subject) -> Option<&Path> {
        match subject {
            Subject::Ours => Some(&self.ours),
            Subject::Reference => Some(&self.reference),
            Subject::Floor => None,
        }
    }

    /// The binary `name` of `subject`, which must exist.
    pub fn plugin(&self, subject: Subject, name: &str) -> Result<PathBuf> {
        let dir = self
            .dir(subject)
            .ok_or_else(|| BenchError::Usage(format!("the iproute2 floor has no {name} binary")))?;
        let path = dir.join(name);
        if is_executable(&path) {
            Ok(path)
        } else {
            Err(BenchError::Missing {
                what: format!("{} {name}", subject.label()),
                path,
            })
        }
    }

    /// True if `subject` has a binary `name`.
    pub fn has(&self, subject: Subject, name: &str) -> bool {
        self.dir(subject)
            .is_some_and(|d| is_executable(&d.join(name)))
    }

    /// Checks that both sides have what every run needs (bridge, macvlan, host-local).
    pub fn check(&self) -> Result<()> {
        for subject in [Subject::Ours, Subject::Reference] {
            for name in ["bridge", "macvlan", "host-local"] {
                self.plugin(subject, name)?;
            }
        }
        Ok(())
    }
}
