//! Stripped binary sizes. Each binary is copied through `strip` (binutils) before it is
//! measured, so a debug build or an unstripped package compares fairly; without `strip` the
//! sizes are the files as they are, and the report says so.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use super::progress;
use crate::error::{BenchError, Result};
use crate::subject::{Binaries, Subject};

/// The binaries compared.
pub const BINARIES: [&str; 4] = ["bridge", "macvlan", "host-local", "vxlan"];

/// One binary on both sides.
#[derive(Debug, Clone, Serialize)]
pub struct Size {
    /// Its name.
    pub binary: String,
    /// Ours, bytes (`None`: we have none).
    pub ours_bytes: Option<u64>,
    /// The reference's, bytes.
    pub reference_bytes: Option<u64>,
}

/// All sizes and how they were taken.
#[derive(Debug, Clone, Serialize)]
pub struct Sizes {
    /// Per binary.
    pub rows: Vec<Size>,
    /// True if every size is of a stripped copy.
    pub stripped: bool,
}

/// Measures every binary of [`BINARIES`] that exists on either side.
pub fn run(bins: &Binaries, scratch: &Path) -> Result<Sizes> {
    progress("binary sizes");
    std::fs::create_dir_all(scratch).map_err(|e| BenchError::io("create", scratch, e))?;
    let mut stripped = true;
    let mut rows = Vec::new();
    for name in BINARIES {
        let mut measure = |subject: Subject| -> Result<Option<u64>> {
            if !bins.has(subject, name) {
                return Ok(None);
            }
            let path = bins.plugin(subject, name)?;
            let copy = scratch.join(format!("{}-{name}", subject.tag()));
            let size = match strip_copy(&path, &copy) {
                Some(s) => s,
                None => {
                    stripped = false;
                    file_size(&path)?
                }
            };
            let _ = std::fs::remove_file(&copy);
            Ok(Some(size))
        };
        let ours_bytes = measure(Subject::Ours)?;
        let reference_bytes = measure(Subject::Reference)?;
        if ours_bytes.is_some() || reference_bytes.is_some() {
            rows.push(Size {
                binary: name.to_owned(),
                ours_bytes,
                reference_bytes,
            });
        }
    }
    Ok(Sizes { rows, stripped })
}

/// `strip -o copy path` and the copy's size; `None` if strip is missing or fails.
fn strip_copy(path: &Path, copy: &PathBuf) -> Option<u64> {
    let ok = Command::new("strip")
        .arg("-o")
        .arg(copy)
        .arg(path)
        .env("LC_ALL", "C")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        return None;
    }
    file_size(copy).ok()
}

fn file_size(path: &Path) -> Result<u64> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| BenchError::io("stat", path, e))
}
