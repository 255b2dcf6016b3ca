//! The workspace's own binaries, for kernel tests: an example built next to the plugin under
//! test, and a `CNI_PATH` directory that links binaries under the names configs use.
//!
//! Each plugin package builds `host-local` as one of its examples (`<plugin>-test-ipam`), so
//! its tests always delegate to the current IPAM source: a dev-dependency cannot provide
//! another package's binary. `cargo test` builds examples but `cargo test --test kernel` does
//! not, and an example left from an earlier build may be stale, so [`TestPackage::example`]
//! runs the cargo that built the tests once per example and process (a no-op when up to date).
//!
//! Not here: running binaries ([`crate::Invocation`], [`crate::Ns::run_plugin`]).

use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The Go reference plugins (Debian's `containernetworking-plugins`).
pub const REFERENCE_DIR: &str = "/usr/lib/cni";

/// The test crate's package as cargo described it when compiling it; make one with
/// [`test_package!`](crate::test_package), which reads cargo's variables in the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestPackage {
    /// `CARGO_PKG_NAME`, e.g. `cni-bridge`.
    pub name: &'static str,
    /// `CARGO_MANIFEST_DIR`.
    pub manifest_dir: &'static str,
    /// `CARGO`: the cargo that builds the tests, so examples get the same toolchain.
    pub cargo: &'static str,
}

/// The calling crate's [`TestPackage`] (cargo's compile-time variables must be read there).
#[macro_export]
macro_rules! test_package {
    () => {
        $crate::TestPackage {
            name: env!("CARGO_PKG_NAME"),
            manifest_dir: env!("CARGO_MANIFEST_DIR"),
            cargo: env!("CARGO"),
        }
    };
}

/// Examples already built by this process: (package, example) -> path.
static BUILT: Mutex<Vec<(String, String, PathBuf)>> = Mutex::new(Vec::new());

impl TestPackage {
    /// Example `name` of this package, built (once per process) into the target directory and
    /// profile of `beside`, a binary of this package (`env!("CARGO_BIN_EXE_<bin>")`).
    ///
    /// # Panics
    /// When cargo fails or leaves no example: the tests cannot run without it.
    pub fn example(&self, beside: &Path, name: &str) -> PathBuf {
        let mut built = BUILT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, _, path)) = built.iter().find(|(p, e, _)| p == self.name && e == name) {
            return path.clone();
        }
        let path = self.build_example(beside, name);
        built.push((self.name.to_owned(), name.to_owned(), path.clone()));
        path
    }

    fn build_example(&self, beside: &Path, name: &str) -> PathBuf {
        let profile_dir = beside.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut cargo = Command::new(self.cargo);
        cargo.current_dir(self.manifest_dir).args([
            "build",
            "--quiet",
            "-p",
            self.name,
            "--example",
            name,
        ]);
        if let Some(target_dir) = profile_dir.parent() {
            cargo.arg("--target-dir").arg(target_dir);
        }
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => {}
            Some("release") => {
                cargo.arg("--release");
            }
            Some(other) => {
                cargo.args(["--profile", other]);
            }
        }
        match cargo.status() {
            Ok(status) if status.success() => {}
            outcome => panic!(
                "building example {name} of {} failed: {outcome:?}",
                self.name
            ),
        }
        let built = profile_dir.join("examples").join(name);
        assert!(built.is_file(), "cargo did not leave {}", built.display());
        built
    }
}

/// Creates directory `dir` (which must not exist) and links each `(name, target)` into it: a
/// `CNI_PATH` in which a config's `"type": name` finds `target`.
pub fn cni_path_dir(dir: &Path, bins: &[(&str, &Path)]) -> io::Result<()> {
    std::fs::create_dir(dir)?;
    for (name, target) in bins {
        symlink(target, dir.join(name))?;
    }
    Ok(())
}

/// Links the reference plugins `names` into `dir` where they are installed, skipping the
/// others (tests that need one check for it themselves).
pub fn link_reference(dir: &Path, names: &[&str]) {
    for name in names {
        let target = Path::new(REFERENCE_DIR).join(name);
        if target.exists() {
            let _ = symlink(target, dir.join(name));
        }
    }
}

/// Copies the keys of `extra` (an object) into `target` (an object), replacing what is there;
/// a `null` value removes the key instead, so a test can drop a key of a base config.
pub fn merge_json(target: &mut serde_json::Value, extra: serde_json::Value) {
    let (Some(t), serde_json::Value::Object(e)) = (target.as_object_mut(), extra) else {
        return;
    };
    for (k, v) in e {
        if v.is_null() {
            t.remove(&k);
        } else {
            t.insert(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_replaces_adds_and_removes_keys() {
        let mut base = json!({"a": 1, "b": 2, "c": 3});
        merge_json(&mut base, json!({"b": 20, "c": null, "d": 4}));
        assert_eq!(base, json!({"a": 1, "b": 20, "d": 4}));
    }

    #[test]
    fn cni_path_dir_links_each_name() {
        let root = std::env::temp_dir().join(format!("sandbox-bins-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir(&root).unwrap();
        let dir = root.join("bin");
        cni_path_dir(&dir, &[("sh", Path::new("/bin/sh"))]).unwrap();
        assert_eq!(
            std::fs::read_link(dir.join("sh")).unwrap(),
            PathBuf::from("/bin/sh")
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
