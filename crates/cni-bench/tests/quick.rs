//! `cni-bench --quick` end to end against this workspace's debug plugins and the reference: it
//! must finish, leave no namespace behind, and write a report whose files are well-formed and
//! hold every measurement. No time is ever asserted: CI machines are noisy, and a benchmark
//! that fails on a slow day proves nothing.

// Test helpers: a panic is how a check fails.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The plugin binaries the bench knows, by binary name.
const PLUGIN_BINS: [&str; 4] = ["host-local", "bridge", "macvlan", "vxlan"];
/// Where Debian installs the reference plugins.
const REFERENCE: &str = "/usr/lib/cni";
/// `--quick` is meant to take well under a minute; this only stops a hung run.
const RUN_BOUND: Duration = Duration::from_secs(300);

#[test]
fn quick_run_writes_a_complete_well_formed_report() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: cni-bench needs root to build network namespaces");
        return;
    }
    if !Path::new(REFERENCE).join("bridge").is_file() {
        eprintln!(
            "skipped: no reference plugins in {REFERENCE} (Debian containernetworking-plugins)"
        );
        return;
    }
    let (target, profile) = target_and_profile();
    let plugins = build_plugins(&target, &profile);
    let out = target.join("bench-test-report");
    let _ = std::fs::remove_dir_all(&out);

    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cni-bench"))
        .args(["--quick", "--plugins"])
        .arg(&plugins)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .spawn()
        .expect("start cni-bench");
    let pid = child.id();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for cni-bench") {
            break status;
        }
        if started.elapsed() > RUN_BOUND {
            let _ = child.kill();
            panic!("cni-bench --quick still running after {RUN_BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "cni-bench --quick failed: {status}");
    eprintln!("cni-bench --quick took {:?}", started.elapsed());

    let netns = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    let mine = format!("cnisb-{pid}-");
    let left: Vec<String> = String::from_utf8_lossy(&netns.stdout)
        .lines()
        .filter(|l| l.starts_with(&mine))
        .map(str::to_owned)
        .collect();
    assert!(left.is_empty(), "namespaces left behind: {left:?}");

    let report = check_json(&out.join("report.json"), &plugins);
    check_markdown(&out.join("report.md"), &report);
    check_svg(&out.join("add-latency-vs-pods.svg"));
}

/// `<target>` and the profile this test was built with (`<target>/<profile>/cni-bench`).
fn target_and_profile() -> (PathBuf, String) {
    let bench = Path::new(env!("CARGO_BIN_EXE_cni-bench"));
    let profile_dir = bench.parent().expect("profile dir");
    let profile = profile_dir
        .file_name()
        .expect("profile name")
        .to_string_lossy()
        .into_owned();
    (
        profile_dir.parent().expect("target dir").to_path_buf(),
        profile,
    )
}

/// Builds the workspace's plugin packages into this test's target directory and profile (a
/// no-op after `cargo test --workspace` built them) and links exactly those binaries into
/// `<target>/bench-plugins`, the directory the bench is pointed at.
fn build_plugins(target: &Path, profile: &str) -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let meta = Command::new(&cargo)
        .current_dir(&workspace)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .expect("cargo metadata");
    assert!(
        meta.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&meta.stderr)
    );
    let meta: Value = serde_json::from_slice(&meta.stdout).expect("metadata JSON");
    let mut packages = Vec::new();
    let mut bins = Vec::new();
    for package in meta["packages"].as_array().into_iter().flatten() {
        for t in package["targets"].as_array().into_iter().flatten() {
            let name = t["name"].as_str().unwrap_or_default();
            let is_bin = t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"));
            if is_bin && PLUGIN_BINS.contains(&name) {
                packages.push(package["name"].as_str().unwrap_or_default().to_owned());
                bins.push(name.to_owned());
            }
        }
    }
    let mut build = Command::new(&cargo);
    build
        .current_dir(&workspace)
        .args(["build", "--quiet", "--bins", "--target-dir"]);
    build.arg(target);
    match profile {
        "debug" => {}
        "release" => {
            build.arg("--release");
        }
        other => {
            build.args(["--profile", other]);
        }
    }
    for p in &packages {
        build.args(["-p", p]);
    }
    assert!(
        build.status().expect("cargo build").success(),
        "building the plugins failed"
    );
    let dir = target.join("bench-plugins");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create bench-plugins");
    for bin in &bins {
        std::os::unix::fs::symlink(target.join(profile).join(bin), dir.join(bin))
            .expect("link plugin");
    }
    dir
}

fn check_json(path: &Path, plugins: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("report.json written");
    let r: Value = serde_json::from_str(&text).expect("report.json is JSON");
    assert!(r["command"].as_str().unwrap().contains("--quick"));
    assert!(r["machine"]["cores"].as_u64().unwrap() > 0);
    assert_eq!(r["ours_dir"].as_str().unwrap(), plugins.to_str().unwrap());

    // Every scenario, path, subject and verb with the requested sample count.
    let latency = r["latency"].as_array().expect("latency");
    let has = |scenario: &str, path: &str, subject: &str, verb: &str| {
        latency.iter().any(|s| {
            s["scenario"] == scenario
                && s["path"] == path
                && s["subject"] == subject
                && s["verb"] == verb
                && s["summary"]["n"] == 10
                && s["summary"]["median_ms"].as_f64().unwrap() > 0.0
        })
    };
    for scenario in ["bridge + host-local", "macvlan + host-local"] {
        for verb in ["ADD", "DEL"] {
            for subject in ["ours", "reference", "floor"] {
                assert!(
                    has(scenario, "direct", subject, verb),
                    "{scenario} {subject} {verb}"
                );
            }
            for subject in ["ours", "reference"] {
                assert!(
                    has(scenario, "conflist runner", subject, verb),
                    "{scenario} {subject} {verb}"
                );
            }
        }
    }
    if plugins.join("vxlan").exists() {
        assert!(has("vxlan + host-local", "direct", "ours", "ADD"));
    }

    // Scale: every subject at 0 and 20 pods.
    let scale = r["scale"].as_array().expect("scale");
    for pods in [0, 20] {
        for subject in ["ours", "reference", "floor"] {
            assert!(
                scale
                    .iter()
                    .any(|p| p["pods"] == pods && p["subject"] == subject),
                "scale {subject} at {pods}"
            );
        }
    }
    // Bursts of 10 on both sides.
    let bursts = r["concurrency"].as_array().expect("concurrency");
    for subject in ["ours", "reference"] {
        assert!(
            bursts
                .iter()
                .any(|b| b["size"] == 10 && b["subject"] == subject),
            "burst {subject}"
        );
    }
    // Memory: the probe saw the plugin and its IPAM child, and wait4 agrees on the largest.
    for p in r["rss"].as_array().expect("rss") {
        let procs = p["processes"].as_array().unwrap();
        let names: Vec<&str> = procs.iter().map(|x| x["name"].as_str().unwrap()).collect();
        assert!(
            names.contains(&"host-local"),
            "IPAM child missing from the tree: {names:?}"
        );
        assert_eq!(procs.len(), 2, "{names:?}");
        let largest = procs
            .iter()
            .map(|x| x["hwm_kib"].as_u64().unwrap())
            .max()
            .unwrap();
        let maxrss = p["wait4_maxrss_kib"].as_u64().unwrap();
        assert!(
            maxrss >= largest / 2 && maxrss > 0,
            "wait4 {maxrss} vs per-process {largest}"
        );
    }
    assert_eq!(r["rss"].as_array().unwrap().len(), 4);
    let sizes = r["sizes"]["rows"].as_array().expect("sizes");
    assert!(
        sizes
            .iter()
            .any(|s| s["binary"] == "bridge" && s["ours_bytes"].as_u64().unwrap() > 0)
    );
    assert!(!r["targets"].as_array().unwrap().is_empty());
    r
}

/// Every table has a header, a separator and rows of the header's width; the command and
/// every section are there.
fn check_markdown(path: &Path, report: &Value) {
    let text = std::fs::read_to_string(path).expect("report.md written");
    assert!(text.contains(report["command"].as_str().unwrap()));
    for section in [
        "## Targets",
        "## Sequential ADD and DEL",
        "## Pods attached to the bridge",
        "## ADDs launched at once",
        "## Peak memory of one ADD",
        "## Binary sizes",
    ] {
        assert!(text.contains(section), "no {section:?} in report.md");
    }
    let mut tables = 0;
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].starts_with('|') {
            i += 1;
            continue;
        }
        let width = cells(lines[i]);
        assert!(
            lines[i + 1].starts_with("|---"),
            "table without separator at line {}",
            i + 1
        );
        assert_eq!(
            cells(lines[i + 1]),
            width,
            "separator width at line {}",
            i + 2
        );
        let mut j = i + 2;
        while j < lines.len() && lines[j].starts_with('|') {
            assert_eq!(
                cells(lines[j]),
                width,
                "row width at line {}: {}",
                j + 1,
                lines[j]
            );
            j += 1;
        }
        assert!(j > i + 2, "empty table at line {}", i + 1);
        tables += 1;
        i = j;
    }
    assert!(tables >= 6, "only {tables} tables");
}

fn cells(line: &str) -> usize {
    line.trim().trim_matches('|').split('|').count()
}

/// An SVG document with a line per subject and balanced elements.
fn check_svg(path: &Path) {
    let svg = std::fs::read_to_string(path).expect("svg written");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    for class in ["ours", "ref", "floor"] {
        assert!(
            svg.contains(&format!("<polyline class=\"{class}\"")),
            "no {class} line"
        );
    }
    // Every element either closes itself or is closed.
    let opened = svg.matches('<').count() - svg.matches("</").count();
    let closed = svg.matches("/>").count() + svg.matches("</").count();
    assert_eq!(opened, closed, "unbalanced SVG");
}
