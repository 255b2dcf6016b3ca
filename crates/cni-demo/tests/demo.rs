//! The README's quick start must keep working: run the demo against this workspace's plugins
//! (as root, like every kernel test here) and require every scenario to pass, none skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The plugin packages the demo's scenarios need, with the binary each builds.
const PLUGINS: [&str; 4] = ["host-local", "cni-bridge", "cni-macvlan", "cni-vxlan"];

/// Builds the plugins into the target dir and profile this demo binary was built into (a
/// no-op after `cargo test --workspace`), and returns that directory.
fn built_plugins(demo: &Path) -> PathBuf {
    let profile_dir = demo.parent().expect("demo binary under <target>/<profile>");
    let target = profile_dir.parent().expect("target dir");
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--bins", "--target-dir"])
        .arg(target);
    if profile_dir.ends_with("release") {
        cargo.arg("--release");
    }
    for package in PLUGINS {
        cargo.args(["-p", package]);
    }
    let status = cargo.status().expect("run cargo build");
    assert!(status.success(), "building the plugins failed: {cargo:?}");
    profile_dir.to_path_buf()
}

#[test]
fn every_scenario_wires_pods_that_talk() {
    let demo = Path::new(env!("CARGO_BIN_EXE_cni-demo"));
    let plugins = built_plugins(demo);
    let out = Command::new(demo)
        .arg("--plugins")
        .arg(&plugins)
        .output()
        .expect("run cni-demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.ends_with(" 0 failed, 0 skipped"),
        "every scenario must run and pass: {summary}\n{stdout}"
    );
}
