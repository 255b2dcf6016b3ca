//! The installer against temp directories, through the real binary: fresh install, an
//! identical re-run that writes nothing, an upgrade under a running plugin, failures.

#![allow(clippy::unwrap_used)] // a panic is how a test fails

mod common;

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::process::{Command, Stdio};

use common::{Node, mode, stamp, stderr, stdout};

const CONFLIST: &str = r#"{"cniVersion":"0.3.1","name":"cbr0","plugins":[
  {"type":"bridge","bridge":"cni0","hairpinMode":true,"isDefaultGateway":true,
   "ipam":{"type":"host-local","subnet":"10.244.1.0/24"}},
  {"type":"portmap","capabilities":{"portMappings":true}}]}"#;

fn node_with_conflist(tag: &str) -> (Node, String) {
    let node = Node::new(tag);
    node.image_file("bridge", b"bridge v1");
    node.image_file("host-local", b"host-local v1");
    let conflist = node.root.join("10-test.conflist");
    fs::write(&conflist, CONFLIST).unwrap();
    (node, conflist.to_str().unwrap().to_owned())
}

#[test]
fn fresh_install_writes_every_file_with_its_mode_and_reports_it() {
    let (node, conflist) = node_with_conflist("fresh");
    let out = node.run("install", &["--conflist", &conflist]);
    assert!(out.status.success(), "{}", stderr(&out));

    let bin = node.bin.display();
    let conf = node.conf.display();
    assert_eq!(
        stdout(&out),
        format!(
            "installed {bin}/bridge\ninstalled {bin}/host-local\ninstalled {conf}/10-test.conflist\n"
        )
    );
    assert_eq!(
        node.bin_names(),
        ["bridge", "host-local"],
        "no temp files left"
    );
    assert_eq!(fs::read(node.bin.join("bridge")).unwrap(), b"bridge v1");
    assert_eq!(mode(&node.bin.join("bridge")), 0o755);
    assert_eq!(
        fs::read_to_string(node.conf.join("10-test.conflist")).unwrap(),
        CONFLIST
    );
    assert_eq!(mode(&node.conf.join("10-test.conflist")), 0o644);
}

#[test]
fn identical_rerun_writes_nothing() {
    let (node, conflist) = node_with_conflist("rerun");
    assert!(
        node.run("install", &["--conflist", &conflist])
            .status
            .success()
    );
    let paths = [
        node.bin.clone(),
        node.bin.join("bridge"),
        node.bin.join("host-local"),
        node.conf.clone(),
        node.conf.join("10-test.conflist"),
    ];
    let before: Vec<_> = paths.iter().map(|p| stamp(p)).collect();

    let out = node.run("install", &["--conflist", &conflist]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).lines().all(|l| l.starts_with("unchanged ")),
        "{}",
        stdout(&out)
    );
    assert_eq!(stdout(&out).lines().count(), 3);
    // Same inode, mtime, ctime and mode for each file, and no entry created or removed in
    // either directory (a temp file would have changed the directory's mtime).
    let after: Vec<_> = paths.iter().map(|p| stamp(p)).collect();
    assert_eq!(before, after);
}

#[test]
fn changed_content_or_mode_or_a_symlink_is_replaced() {
    let (node, _) = node_with_conflist("update");
    assert!(node.run("install", &[]).status.success());
    node.image_file("bridge", b"bridge v2");
    fs::set_permissions(
        node.bin.join("host-local"),
        fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let out = node.run("install", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bin = node.bin.display();
    assert_eq!(
        stdout(&out),
        format!("updated {bin}/bridge\nupdated {bin}/host-local\n")
    );
    assert_eq!(fs::read(node.bin.join("bridge")).unwrap(), b"bridge v2");
    assert_eq!(mode(&node.bin.join("host-local")), 0o755);

    // A symlink (some distributions link /opt/cni/bin/* into their package dir) is replaced by
    // a file, not written through.
    let elsewhere = node.root.join("package-owned");
    fs::write(&elsewhere, b"package's file").unwrap();
    fs::remove_file(node.bin.join("bridge")).unwrap();
    symlink(&elsewhere, node.bin.join("bridge")).unwrap();
    let out = node.run("install", &[]);
    assert!(stdout(&out).contains(&format!("updated {bin}/bridge")));
    assert!(
        !fs::symlink_metadata(node.bin.join("bridge"))
            .unwrap()
            .is_symlink()
    );
    assert_eq!(fs::read(&elsewhere).unwrap(), b"package's file");
}

#[test]
fn upgrade_under_a_running_plugin_leaves_it_running() {
    let node = Node::new("busy");
    // The "old plugin" is a real program that keeps running: cat, echoing its stdin.
    node.image_file("bridge", &fs::read("/bin/cat").unwrap());
    assert!(node.run("install", &[]).status.success());
    let installed = node.bin.join("bridge");
    let mut old = Command::new(&installed)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();

    // Control: an in-place copy, as `cp -f` does, is refused by the kernel while it runs.
    let in_place = OpenOptions::new().write(true).open(&installed).unwrap_err();
    assert_eq!(in_place.raw_os_error(), Some(libc::ETXTBSY), "{in_place}");

    node.image_file("bridge", b"#!/bin/false\nnew bridge\n");
    let out = node.run("install", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("updated {}\n", installed.display()));
    assert_eq!(fs::read(&installed).unwrap(), b"#!/bin/false\nnew bridge\n");

    // The running process still works: it runs from the old inode, now unlinked.
    assert_eq!(old.try_wait().unwrap(), None, "old process died");
    let exe = fs::read_link(format!("/proc/{}/exe", old.id())).unwrap();
    assert!(exe.to_string_lossy().ends_with("(deleted)"), "{exe:?}");
    let mut stdin = old.stdin.take().unwrap();
    stdin.write_all(b"still here\n").unwrap();
    let mut line = String::new();
    BufReader::new(old.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "still here\n");
    drop(stdin);
    assert!(old.wait().unwrap().success());
    assert_eq!(node.bin_names(), ["bridge"]);
}

#[test]
fn a_bad_conflist_fails_before_anything_is_written() {
    let node = Node::new("badconf");
    node.image_file("bridge", b"bridge v1");
    let conflist = node.root.join("10-bad.conflist");
    fs::write(
        &conflist,
        r#"{"cniVersion":"0.3.1","name":"x","plugins":[]}"#,
    )
    .unwrap();
    let out = node.run("install", &["--conflist", conflist.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("10-bad.conflist"), "{}", stderr(&out));
    assert!(stderr(&out).contains("empty"), "{}", stderr(&out));
    assert!(!node.bin.exists() && !node.conf.exists());

    // A name the runtime would skip is refused too.
    let ignored = node.root.join("10-net.yaml");
    fs::write(&ignored, CONFLIST).unwrap();
    let out = node.run("install", &["--conflist", ignored.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("ignores"), "{}", stderr(&out));
}

#[test]
fn one_failed_binary_fails_the_run_and_holds_back_the_conflist() {
    let (node, conflist) = node_with_conflist("partial");
    // Something the installer cannot replace sits under one plugin's name.
    fs::create_dir_all(node.bin.join("bridge/busy")).unwrap();
    let out = node.run("install", &["--conflist", &conflist]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("1 of 3 files failed"), "{err}");
    assert!(
        err.contains(&format!("{}/bridge", node.bin.display())),
        "{err}"
    );
    // The other plugin went in; the config that would make the node Ready did not.
    assert_eq!(
        stdout(&out),
        format!("installed {}/host-local\n", node.bin.display())
    );
    assert!(!node.conf.join("10-test.conflist").exists());
    assert_eq!(
        node.bin_names(),
        ["bridge", "host-local"],
        "no temp file left"
    );
}

#[test]
fn empty_image_dir_and_bad_usage_fail_clearly() {
    let node = Node::new("empty");
    let out = node.run("install", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no plugin binaries in"),
        "{}",
        stderr(&out)
    );

    let out = node.run("install", &["--bogus", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("usage:"), "{}", stderr(&out));
}
