//! Finding the binaries the suite judges: this workspace's plugins (built on demand into the
//! test's own target directory), the reference plugins, and deliberately broken variants.

pub mod mutants;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// The binaries the suite has profiles for; whichever of them the workspace builds is judged.
const PLUGIN_BINS: [&str; 4] = ["host-local", "bridge", "macvlan", "vxlan"];

/// Where the Debian package `containernetworking-plugins` installs the reference.
pub const REFERENCE: &str = "/usr/lib/cni";

/// A directory holding exactly our plugin binaries. `CNI_CONFORMANCE_PLUGINS=DIR` uses DIR
/// as is; otherwise the workspace's plugin packages are built (`cargo build --bins`, a no-op
/// after `cargo test --workspace` has built them) and linked into `<target>/conformance-plugins`.
pub fn our_plugins() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os("CNI_CONFORMANCE_PLUGINS") {
            return PathBuf::from(dir);
        }
        let (target, profile) = target_dir();
        let bins = workspace_plugins();
        assert!(!bins.is_empty(), "no plugin binaries in the workspace");
        build(&bins, &target, &profile);
        let dir = target.join("conformance-plugins");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create plugin dir");
        for (_, bin) in &bins {
            std::os::unix::fs::symlink(target.join(&profile).join(bin), dir.join(bin))
                .expect("link plugin");
        }
        dir
    })
}

/// Whether the reference plugins are installed.
pub fn reference_installed() -> bool {
    Path::new(REFERENCE).join("host-local").is_file()
}

/// The target directory and profile this test binary was built into:
/// `<target>/<profile>/deps/<test>-<hash>`.
pub fn target_dir() -> (PathBuf, String) {
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary under <target>/<profile>/deps");
    let profile = profile_dir
        .file_name()
        .expect("profile dir name")
        .to_string_lossy()
        .into_owned();
    let target = profile_dir.parent().expect("target dir").to_path_buf();
    (target, profile)
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// `(package, bin)` of every workspace binary the suite has a profile for.
fn workspace_plugins() -> Vec<(String, String)> {
    let out = cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
    let mut found = Vec::new();
    for package in meta["packages"].as_array().into_iter().flatten() {
        for target in package["targets"].as_array().into_iter().flatten() {
            let is_bin = target["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"));
            let name = target["name"].as_str().unwrap_or_default();
            if is_bin && PLUGIN_BINS.contains(&name) {
                let package = package["name"].as_str().unwrap_or_default().to_owned();
                found.push((package, name.to_owned()));
            }
        }
    }
    found
}

fn build(bins: &[(String, String)], target: &Path, profile: &str) {
    let mut cmd = cargo();
    cmd.args(["build", "--bins", "--target-dir"]).arg(target);
    if profile == "release" {
        cmd.arg("--release");
    }
    for (package, _) in bins {
        cmd.args(["-p", package]);
    }
    let status = cmd.status().expect("run cargo build");
    assert!(status.success(), "building the plugins failed: {cmd:?}");
}
