//! The readiness check and the watch loop, with the reference plugins (/usr/lib/cni, from
//! Debian's containernetworking-plugins, which CI installs) standing in as plugin binaries:
//! any CNI plugin answers VERSION.

#![allow(clippy::unwrap_used)] // a panic is how a test fails

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{Node, stderr, stdout};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const REFERENCE: &str = "/usr/lib/cni";

fn node_with_reference_plugins(tag: &str) -> Node {
    let node = Node::new(tag);
    for name in ["host-local", "macvlan"] {
        let path = Path::new(REFERENCE).join(name);
        let bytes = fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (apt-get install containernetworking-plugins)",
                path.display()
            )
        });
        node.image_file(name, &bytes);
    }
    node
}

#[test]
fn check_passes_only_when_every_plugin_executes() {
    let node = node_with_reference_plugins("check");
    // Nothing installed yet: not ready, and both missing files are named.
    let out = node.run("check", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("2 of 2 files failed"),
        "{}",
        stderr(&out)
    );

    assert!(node.run("install", &[]).status.success());
    let out = node.run("check", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let host_local = node.bin.join("host-local");
    assert!(
        stdout(&out).contains(&format!("ready {} (0.1.0,", host_local.display())),
        "{}",
        stdout(&out)
    );

    // Execute bit lost: not ready.
    fs::set_permissions(&host_local, fs::Permissions::from_mode(0o644)).unwrap();
    let out = node.run("check", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("host-local is not ready: not executable"),
        "{}",
        stderr(&out)
    );

    // Executable but not a CNI plugin (what a `test -x` probe would accept).
    fs::copy("/bin/true", &host_local).unwrap();
    let out = node.run("check", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("VERSION answered \"\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_covers_the_conflist() {
    let node = node_with_reference_plugins("checkconf");
    let conflist = node.root.join("20-m.conflist");
    fs::write(
        &conflist,
        r#"{"cniVersion":"1.0.0","name":"m","plugins":[{"type":"macvlan","master":"eth0"}]}"#,
    )
    .unwrap();
    let flag = ["--conflist", conflist.to_str().unwrap()];
    assert!(node.run("install", &flag).status.success());
    assert!(node.run("check", &flag).status.success());
    fs::remove_file(node.conf.join("20-m.conflist")).unwrap();
    let out = node.run("check", &flag);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("20-m.conflist is not ready"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn watch_reinstalls_a_deleted_plugin_and_stops_on_sigterm() {
    let node = node_with_reference_plugins("watch");
    let mut child = node
        .command("watch", &["--interval", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    let next = |what: &str| {
        lines
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no line for {what}"))
    };
    assert!(next("first install").starts_with("installed "));
    assert!(next("first install").starts_with("installed "));

    // The node loses a plugin (kubernetes #115629); the next round puts it back and reports
    // only that (unchanged files are not repeated).
    let macvlan = node.bin.join("macvlan");
    fs::remove_file(&macvlan).unwrap();
    assert_eq!(
        next("reinstall"),
        format!("installed {}", macvlan.display())
    );
    assert!(macvlan.exists());

    // SIGTERM ends it promptly with success, the way a pod's PID 1 must.
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    let sent = Instant::now();
    kill(pid, Signal::SIGTERM).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(sent.elapsed() < Duration::from_secs(2));
    assert_eq!(next("exit"), "cni-install: SIGTERM, exiting");
    reader.join().unwrap();
}
