//! STATUS, GC, the reboot reclaim, crash leftovers and store safety, end to end.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::*;
use serde_json::{Value, json};

fn small(data: &DataDir) -> Value {
    // One allocatable address: 10.1.2.2 (.1 is the gateway, .3 the broadcast).
    conf("1.1.0", data, json!({ "subnet": "10.1.2.0/30" }))
}

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn status_succeeds_silently_then_reports_a_full_set() {
    let data = DataDir::new("status");
    let c = conf(
        "1.1.0",
        &data,
        json!({ "ranges": [[{ "subnet": "10.1.2.0/30" }], [{ "subnet": "fd00::/64" }]] }),
    );
    let out = Call::new(OURS, "STATUS", "", &c).run();
    assert!(out.success && out.stdout.is_empty(), "{out:?}");
    Call::new(OURS, "ADD", "a", &c).ok();
    assert_eq!(
        Call::new(OURS, "STATUS", "", &c).err(),
        (
            50,
            "host-local: no free address in range set 0: 10.1.2.1-10.1.2.2".into()
        )
    );
    Call::new(OURS, "DEL", "a", &c).ok();
    Call::new(OURS, "STATUS", "", &c).ok();
    // STATUS does not exist before 1.1.0.
    let old = conf("1.0.0", &data, json!({ "subnet": "10.1.2.0/30" }));
    assert_eq!(Call::new(OURS, "STATUS", "", &old).err().0, 1);
}

#[test]
fn status_reports_an_unwritable_store() {
    let data = DataDir::new("status-ro");
    // The data directory path runs through a regular file: nothing can be created there.
    let file = data.path().join("plain-file");
    std::fs::write(&file, b"").expect("write");
    let mut c = small(&data);
    c["ipam"]["dataDir"] = json!(file.join("sub").to_string_lossy());
    let (code, msg) = Call::new(OURS, "STATUS", "", &c).err();
    assert_eq!(code, 50);
    assert!(
        msg.starts_with("host-local: data directory ") && msg.contains("is not writable"),
        "{msg}"
    );

    // An immutable store directory: even root cannot create files in it.
    let c = small(&data);
    Call::new(OURS, "STATUS", "", &c).ok();
    let dir = data.net("net");
    let chattr = |flag: &str| {
        Command::new("chattr")
            .arg(flag)
            .arg(&dir)
            .status()
            .expect("run chattr")
            .success()
    };
    struct Mutable<'a>(&'a std::path::Path);
    impl Drop for Mutable<'_> {
        fn drop(&mut self) {
            let _ = Command::new("chattr").arg("-i").arg(self.0).status();
        }
    }
    if chattr("+i") {
        let _undo = Mutable(&dir);
        let (code, msg) = Call::new(OURS, "STATUS", "", &c).err();
        assert_eq!(code, 50, "{msg}");
        assert!(msg.contains("is not writable"), "{msg}");
        // And ADD indeed fails there.
        assert!(!Call::new(OURS, "ADD", "a", &c).run().success);
    }
}

#[test]
fn status_with_only_runtime_ranges_checks_the_store() {
    let data = DataDir::new("status-rt");
    let c = conf("1.1.0", &data, json!({}));
    Call::new(OURS, "STATUS", "", &c).ok();
}

/// A store with: a/eth0, b/eth0, b/net1, a legacy file of c, and the cursor.
fn populated(data: &DataDir) -> Value {
    let c = conf("1.1.0", data, json!({ "subnet": "10.1.2.0/24" }));
    Call::new(OURS, "ADD", "a", &c).ok(); // .2
    Call::new(OURS, "ADD", "b", &c).ok(); // .3
    Call::new(OURS, "ADD", "b", &c).ifname("net1").ok(); // .4
    std::fs::write(data.net("net").join("10.1.2.9"), "c").expect("legacy file");
    c
}

fn gc(c: &Value, key: Option<&str>, valid: Value) {
    let mut c = c.clone();
    if let Some(key) = key {
        c[key] = valid;
    }
    let out = Call::new(OURS, "GC", "", &c).run();
    assert!(out.success && out.stdout.is_empty(), "{out:?}");
}

#[test]
fn gc_with_valid_attachments() {
    let data = DataDir::new("gc-valid");
    let c = populated(&data);
    gc(
        &c,
        Some("cni.dev/valid-attachments"),
        json!([{ "containerID": "a", "ifname": "eth0" }, { "containerID": "c", "ifname": "eth0" }]),
    );
    assert_eq!(
        reserved(&data.net("net")),
        set_of(&["10.1.2.2", "10.1.2.9"])
    );
    assert!(names(&data.net("net")).is_superset(&set_of(&["lock", "last_reserved_ip.0"])));
}

#[test]
fn gc_with_the_old_key() {
    let data = DataDir::new("gc-old");
    let c = populated(&data);
    gc(
        &c,
        Some("cni.dev/attachments"),
        json!([{ "containerID": "b", "ifname": "net1" }]),
    );
    assert_eq!(reserved(&data.net("net")), set_of(&["10.1.2.4"]));
}

#[test]
fn gc_without_a_key_releases_nothing() {
    let data = DataDir::new("gc-none");
    let c = populated(&data);
    let before = names(&data.net("net"));
    gc(&c, None, Value::Null);
    assert_eq!(names(&data.net("net")), before);
}

#[test]
fn gc_with_an_empty_list_never_touches_lock_or_cursors() {
    let data = DataDir::new("gc-empty");
    let c = conf(
        "1.1.0",
        &data,
        json!({ "ranges": [[{ "subnet": "10.1.2.0/24" }], [{ "subnet": "fd00::/64" }]] }),
    );
    Call::new(OURS, "ADD", "a", &c).ok();
    gc(&c, Some("cni.dev/valid-attachments"), json!([]));
    assert_eq!(
        names(&data.net("net")),
        set_of(&["last_reserved_ip.0", "last_reserved_ip.1", "lock"])
    );
}

#[test]
fn reservations_of_an_earlier_boot_are_reclaimed_by_add_and_gc_only() {
    let data = DataDir::new("reboot");
    let c = conf("1.1.0", &data, json!({ "subnet": "10.1.2.0/29" })); // .2 .. .6
    let dir = data.net("net");
    for id in ["old1", "now", "old2"] {
        Call::new(OURS, "ADD", id, &c).ok(); // .2 .3 .4
    }
    // Made "before the last boot": another boot's stamp, and indexed in that boot.
    made_in_earlier_boot(&data, "net", "10.1.2.2");
    made_in_earlier_boot(&data, "net", "10.1.2.4");
    // Made by the reference: no stamp at all. Never reclaimed by the boot rule.
    std::fs::write(dir.join("10.1.2.5"), "ref\r\neth0").expect("write");
    // CHECK and STATUS change nothing.
    Call::new(OURS, "CHECK", "now", &c).ok();
    Call::new(OURS, "STATUS", "", &c).ok();
    assert_eq!(reserved(&dir).len(), 4);

    // The next ADD reclaims both old-boot reservations before allocating.
    let got = result_ips(&Call::new(OURS, "ADD", "new", &c).ok());
    assert_eq!(got, ["10.1.2.6"]); // round-robin continues after the cursor (.4)
    assert_eq!(
        reserved(&dir),
        set_of(&["10.1.2.3", "10.1.2.5", "10.1.2.6"])
    );
    // And the reclaimed addresses are handed out again.
    assert_eq!(
        result_ips(&Call::new(OURS, "ADD", "new2", &c).ok()),
        ["10.1.2.2"]
    );

    // GC without a key still reclaims an old-boot reservation, and only that.
    made_in_earlier_boot(&data, "net", "10.1.2.3");
    gc(&c, None, Value::Null);
    assert_eq!(
        reserved(&dir),
        set_of(&["10.1.2.2", "10.1.2.5", "10.1.2.6"])
    );
}

#[test]
fn status_counts_old_boot_reservations_as_free() {
    let data = DataDir::new("reboot-status");
    let c = small(&data);
    Call::new(OURS, "ADD", "a", &c).ok();
    assert_eq!(Call::new(OURS, "STATUS", "", &c).err().0, 50);
    made_in_earlier_boot(&data, "net", "10.1.2.2");
    Call::new(OURS, "STATUS", "", &c).ok();
    assert_eq!(
        result_ips(&Call::new(OURS, "ADD", "b", &c).ok()),
        ["10.1.2.2"]
    );
}

#[test]
fn crash_leftovers_are_repaired_by_add_del_and_gc() {
    let data = DataDir::new("leftovers");
    let c = small(&data);
    Call::new(OURS, "STATUS", "", &c).ok(); // creates the store
    let dir = data.net("net");
    // What a killed reference writer leaves (created, never written), and our temp file.
    std::fs::write(dir.join("10.1.2.2"), b"").expect("write");
    std::fs::write(dir.join(".host-local.tmp.999.0"), b"x\r\neth0").expect("write");
    assert_eq!(
        result_ips(&Call::new(OURS, "ADD", "a", &c).ok()),
        ["10.1.2.2"]
    );
    assert!(!names(&dir).contains(".host-local.tmp.999.0"));
    for verb in ["DEL", "GC"] {
        std::fs::write(dir.join(".host-local.tmp.999.1"), b"").expect("write");
        // A new file, as a writer makes it (nobody writes into an existing reservation).
        let _ = std::fs::remove_file(dir.join("10.1.2.2"));
        std::fs::write(dir.join("10.1.2.2"), b"\0\0").expect("write");
        let mut call = Call::new(OURS, verb, "zzz", &c);
        if verb == "GC" {
            call.conf["cni.dev/valid-attachments"] = json!([]);
        }
        call.ok();
        assert_eq!(
            names(&dir),
            set_of(&["last_reserved_ip.0", "lock"]),
            "{verb}"
        );
    }
}

#[test]
fn symlinks_in_the_store_are_not_followed() {
    let data = DataDir::new("symlink");
    let c = small(&data);
    let dir = data.net("net");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let victim = data.path().join("victim");
    std::fs::write(&victim, "precious").expect("write");
    std::os::unix::fs::symlink(&victim, dir.join("10.1.2.2")).expect("symlink");
    std::os::unix::fs::symlink(&victim, dir.join("last_reserved_ip.0")).expect("symlink");
    // The address behind the planted link counts as taken; nothing is written through it.
    let (_, msg) = Call::new(OURS, "ADD", "a", &c).err();
    assert!(msg.contains("no IP addresses available"), "{msg}");
    Call::new(OURS, "DEL", "a", &c).ok();
    let mut g = c.clone();
    g["cni.dev/valid-attachments"] = json!([]);
    Call::new(OURS, "GC", "", &g).ok();
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
    assert!(
        std::fs::symlink_metadata(dir.join("10.1.2.2"))
            .expect("lstat")
            .file_type()
            .is_symlink()
    );

    // A network directory that is a symlink is refused outright.
    let elsewhere = data.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    let mut other = small(&data);
    other["name"] = json!("linked");
    std::os::unix::fs::symlink(&elsewhere, data.net("linked")).expect("symlink");
    let (_, msg) = Call::new(OURS, "ADD", "a", &other).err();
    assert!(msg.contains("is a symlink"), "{msg}");
    assert!(names(&elsewhere).is_empty());
}

#[test]
fn new_directories_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let data = DataDir::new("modes");
    let mut c = small(&data);
    let deep = data.path().join("a/b");
    c["ipam"]["dataDir"] = json!(deep.to_string_lossy());
    Call::new(OURS, "ADD", "x", &c).ok();
    for dir in [data.path().join("a"), deep.clone(), deep.join("net")] {
        let mode = std::fs::metadata(&dir).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", dir.display());
    }
}

/// What a machine crash can show of reservations that were never fsynced (see the store's
/// module docs): the name with no data, NUL bytes or a torn prefix, stamped with the crashed
/// boot, or (belt and braces) empty without a stamp, and a temporary file.
fn write_machine_crash_leftovers(dir: &std::path::Path) {
    let files: [(&str, &[u8], bool); 4] = [
        ("10.1.2.3", b"", true),
        ("10.1.2.4", b"\0\0\0\0\0\0\0\0\0\0\0", true),
        ("10.1.2.5", b"ol", true),
        ("10.1.2.6", b"", false),
    ];
    for (name, bytes, stamped) in files {
        std::fs::write(dir.join(name), bytes).expect("write");
        if stamped {
            set_boot_stamp(&dir.join(name), OTHER_BOOT);
        }
    }
    let temp = dir.join(".host-local.tmp.77.0");
    std::fs::write(&temp, b"old\r\neth0").expect("write");
    set_boot_stamp(&temp, OTHER_BOOT);
}

#[test]
fn what_a_machine_crash_leaves_is_reclaimed_and_breaks_nothing() {
    let data = DataDir::new("power-loss");
    let c = conf("1.1.0", &data, json!({ "subnet": "10.1.2.0/29" })); // .2 .. .6
    let dir = data.net("net");
    Call::new(OURS, "ADD", "now", &c).ok(); // .2, live
    let survivors = set_of(&["10.1.2.2", "last_reserved_ip.0", "lock"]);

    // ADD reclaims every leftover before allocating: the whole range is free again.
    write_machine_crash_leftovers(&dir);
    Call::new(OURS, "CHECK", "now", &c).ok();
    let mut got = BTreeSet::new();
    for i in 0..4 {
        got.extend(result_ips(
            &Call::new(OURS, "ADD", &format!("n{i}"), &c).ok(),
        ));
    }
    assert_eq!(
        got,
        set_of(&["10.1.2.3", "10.1.2.4", "10.1.2.5", "10.1.2.6"])
    );
    assert!(
        Call::new(OURS, "ADD", "full", &c)
            .err()
            .1
            .contains("no IP addresses available")
    );
    for i in 0..4 {
        Call::new(OURS, "DEL", &format!("n{i}"), &c).ok();
    }
    assert_eq!(names(&dir), survivors);

    // DEL (of anyone) and GC (even without a list) succeed and reclaim them too; CHECK of the
    // live attachment is not disturbed by them.
    for verb in ["DEL", "GC"] {
        write_machine_crash_leftovers(&dir);
        Call::new(OURS, "CHECK", "now", &c).ok();
        Call::new(OURS, verb, "zzz", &c).ok();
        assert_eq!(names(&dir), survivors, "{verb}");
        Call::new(OURS, "CHECK", "now", &c).ok();
    }
}
