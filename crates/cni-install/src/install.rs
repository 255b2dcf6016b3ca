//! One install run: the plugin binaries from the image directory into the node's bin dir,
//! then, only if they all made it, the conflist into the node's conf dir.
//!
//! Order matters: the runtime reports the node's network ready as soon as a config file
//! appears in the conf dir, so the plugins that config names must already be in place. A bad
//! conflist is refused before anything is written.
//! Not here: how one file is written (`publish`), the readiness check (`check`).

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::conflist::Conflist;
use crate::dir::LockedDir;
use crate::error::{Error, Result};
use crate::publish::{Outcome, publish};

/// Plugins must be executable by the runtime (root) and readable by anyone, like the
/// reference release tarball's files.
pub const BINARY_MODE: u32 = 0o755;
/// Configs are read by the runtime and by tools such as Multus's auto-config.
pub const CONFIG_MODE: u32 = 0o644;

/// Where things come from and go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The directory in the image holding the plugin binaries (every regular file in it).
    pub from: PathBuf,
    /// The node's CNI bin dir, as mounted (`/host/opt/cni/bin`).
    pub bin_dir: PathBuf,
    /// A conflist to write, if any.
    pub conflist: Option<PathBuf>,
    /// The node's CNI conf dir, as mounted (`/host/etc/cni/net.d`).
    pub conf_dir: PathBuf,
}

/// What happened to one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Newly written.
    Installed,
    /// Already identical; not touched.
    Unchanged,
    /// Replaced atomically.
    Updated,
    /// A temp file of a killed earlier run, removed.
    RemovedLeftover,
}

impl From<Outcome> for Action {
    fn from(outcome: Outcome) -> Action {
        match outcome {
            Outcome::Installed => Action::Installed,
            Outcome::Unchanged => Action::Unchanged,
            Outcome::Updated => Action::Updated,
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What was done.
    pub action: Action,
    /// To which path on the node (as mounted).
    pub path: PathBuf,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self.action {
            Action::Installed => "installed",
            Action::Unchanged => "unchanged",
            Action::Updated => "updated",
            Action::RemovedLeftover => "removed-leftover",
        };
        write!(f, "{word} {}", self.path.display())
    }
}

/// The plugin binaries in the image directory: every regular file (symlinks followed, as in
/// a ConfigMap mount), except dotted names. Sorted, so reports are stable.
pub fn plugin_sources(from: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = fs::read_dir(from).map_err(|e| Error::io("list directory", from, e))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list directory", from, e))?;
        let name = entry.file_name();
        let name = utf8_name(name, from)?;
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let meta = fs::metadata(&path).map_err(|e| Error::io("stat", &path, e))?;
        if meta.is_file() {
            found.push((name, path));
        }
    }
    if found.is_empty() {
        return Err(Error::NothingToInstall(from.to_owned()));
    }
    found.sort();
    Ok(found)
}

fn utf8_name(name: OsString, dir: &Path) -> Result<String> {
    name.into_string().map_err(|name| {
        let not_utf8 = io::Error::new(io::ErrorKind::InvalidData, "file name is not UTF-8");
        Error::io("read name of", dir.join(name), not_utf8)
    })
}

/// Reads and checks the conflist the plan names, before anything is written.
pub fn load_conflist(path: &Path) -> Result<(String, Conflist)> {
    let bad = |reason: String| Error::BadConflist {
        path: path.to_owned(),
        reason,
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| bad("no usable file name".to_owned()))?
        .to_owned();
    let bytes = fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let list = Conflist::parse_file(&name, &bytes).map_err(bad)?;
    Ok((name, list))
}

/// Runs the plan, calling `report` for each path as soon as it is done. Keeps going after a
/// failed binary (each file is atomic on its own) and returns every failure at the end; the
/// conflist is written only when every binary is in place.
pub fn install(plan: &Plan, report: &mut dyn FnMut(&Entry)) -> Result<()> {
    let conflist = plan.conflist.as_deref().map(load_conflist).transpose()?;
    let sources = plugin_sources(&plan.from)?;

    let bin = LockedDir::open(&plan.bin_dir)?;
    sweep(&bin, report)?;
    let mut failures = Vec::new();
    for (name, src) in &sources {
        match publish(&bin, name, src, BINARY_MODE) {
            Ok(outcome) => report(&Entry {
                action: outcome.into(),
                path: bin.path().join(name),
            }),
            Err(e) => failures.push(e),
        }
    }
    drop(bin);
    if !failures.is_empty() {
        return Err(Error::Partial {
            total: sources.len() + usize::from(conflist.is_some()),
            failures,
        });
    }

    if let (Some((name, _)), Some(src)) = (conflist, &plan.conflist) {
        let conf = LockedDir::open(&plan.conf_dir)?;
        sweep(&conf, report)?;
        let outcome = publish(&conf, &name, src, CONFIG_MODE)?;
        report(&Entry {
            action: outcome.into(),
            path: conf.path().join(&name),
        });
    }
    Ok(())
}

fn sweep(dir: &LockedDir, report: &mut dyn FnMut(&Entry)) -> Result<()> {
    for path in dir.sweep_leftovers()? {
        report(&Entry {
            action: Action::RemovedLeftover,
            path,
        });
    }
    Ok(())
}
