//! Self-tests of the sandbox harness against the real kernel. They need root, and each builds
//! its own world, so they run in parallel. Every one of them can fail: each asserts what the
//! kernel shows or what packets do, not just that a call returned.

#![allow(clippy::unwrap_used)] // a panic is how a test fails

mod multinode;
mod ping;
mod plugin;
mod probes;
mod world;

use std::collections::BTreeSet;

/// Names of the links in the root namespace (read, never changed).
pub fn root_links() -> BTreeSet<String> {
    let out = std::process::Command::new("ip")
        .args(["-j", "link", "show"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    v.iter()
        .map(|l| l["ifname"].as_str().unwrap().to_owned())
        .collect()
}

/// Names listed by `ip netns list`.
pub fn netns_list() -> BTreeSet<String> {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}
