//! Store tests on real files in a per-test temporary directory.

use std::net::IpAddr;
use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use super::*;
use crate::boot::Stamp;
use crate::testutil::{TempDir, set_boot_xattr};
use entry::Holder;

fn ip(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

fn owner() -> Owner {
    Owner::new("ctr1", "eth0")
}

fn boot() -> BootId {
    BootId::current().expect("boot id")
}

const OTHER_BOOT: &str = "00000000-1111-2222-3333-444444444444";

#[test]
fn reservation_bytes_mode_and_stamp() {
    let tmp = TempDir::new("store");
    let store = Store::open(&tmp.path().join("data"), "net1").expect("open");
    let locked = store.lock().expect("lock");
    assert!(
        locked
            .reserve(ip("10.1.2.2"), &owner(), Some(&boot()))
            .expect("reserve")
    );
    let file = store.path().join("10.1.2.2");
    assert_eq!(std::fs::read(&file).expect("read"), b"ctr1\r\neth0");
    assert_eq!(
        std::fs::metadata(&file).expect("stat").permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(store.path()).expect("stat").mode() & 0o777,
        0o700
    );
    assert_eq!(
        std::fs::metadata(tmp.path().join("data"))
            .expect("stat")
            .mode()
            & 0o777,
        0o700
    );
    let stamp = boot::read_stamp(std::fs::File::open(&file).expect("open").as_fd());
    assert_eq!(stamp.expect("stamp"), Stamp::Boot(boot()));
    let scan = locked
        .scan(Some(&boot()), Interest::Everyone)
        .expect("scan");
    assert_eq!(scan.reservations.len(), 1);
    assert!(!scan.reservations[0].other_boot);
    assert_eq!(scan.held_by(&owner()), [ip("10.1.2.2")]);
    // Taken: the second claim fails like O_EXCL, and no temporary file is left behind.
    assert!(
        !locked
            .reserve(ip("10.1.2.2"), &Owner::new("x", "eth0"), None)
            .expect("reserve")
    );
    let names: Vec<String> = std::fs::read_dir(store.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, ["10.1.2.2", "lock"]);
}

#[test]
fn network_name_never_leaves_the_data_dir() {
    let tmp = TempDir::new("store");
    for bad in ["", ".", "..", "a/b", "../x"] {
        assert!(
            matches!(
                Store::open(tmp.path(), bad),
                Err(Error::UnsafeNetworkName(_))
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn symlinked_network_dir_is_refused() {
    let tmp = TempDir::new("store");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    std::os::unix::fs::symlink(&elsewhere, tmp.path().join("net1")).expect("symlink");
    let err = Store::open(tmp.path(), "net1").expect_err("must refuse");
    assert!(matches!(err, Error::UnsafeStoreDir(_)), "{err}");
    assert_eq!(std::fs::read_dir(&elsewhere).expect("list").count(), 0);
}

#[test]
fn planted_symlinks_are_never_followed() {
    let tmp = TempDir::new("store");
    let store = Store::open(tmp.path(), "net1").expect("open");
    let target = tmp.path().join("target");
    std::fs::write(&target, b"precious").expect("write");
    std::os::unix::fs::symlink(&target, store.path().join("10.1.2.2")).expect("symlink");
    std::os::unix::fs::symlink(&target, store.path().join("last_reserved_ip.0")).expect("symlink");
    let locked = store.lock().expect("lock");
    let scan = locked
        .scan(Some(&boot()), Interest::Everyone)
        .expect("scan");
    assert_eq!(scan.reservations[0].holder, Holder::Foreign);
    // The address counts as taken; repair leaves the link alone.
    assert!(
        !locked
            .reserve(ip("10.1.2.2"), &owner(), None)
            .expect("reserve")
    );
    let repaired = locked.repair(scan);
    assert!(repaired.reclaimed.is_empty());
    // The cursor symlink is not read through, and writing the cursor replaces the link.
    assert_eq!(locked.last_reserved(0), None);
    locked
        .set_last_reserved(0, ip("10.1.2.3"))
        .expect("write cursor");
    assert_eq!(locked.last_reserved(0), Some(ip("10.1.2.3")));
    assert_eq!(std::fs::read(&target).expect("read"), b"precious");
    assert!(
        std::fs::symlink_metadata(store.path().join("10.1.2.2"))
            .expect("stat")
            .file_type()
            .is_symlink()
    );
}

#[test]
fn repair_removes_crash_leftovers_and_other_boots_only() {
    let tmp = TempDir::new("store");
    let store = Store::open(tmp.path(), "net1").expect("open");
    let dir = store.path().to_owned();
    // A reservation of the reference (no stamp), one of ours this boot, one of another boot,
    // an empty one (writer killed after create), a leftover temporary file.
    std::fs::write(dir.join("10.1.2.2"), b"ref\r\neth0").expect("write");
    std::fs::write(dir.join("10.1.2.5"), b"old\r\neth0").expect("write");
    set_boot_xattr(&dir.join("10.1.2.5"), OTHER_BOOT);
    std::fs::write(dir.join("10.1.2.6"), b"").expect("write");
    std::fs::write(dir.join(".host-local.tmp.1.0"), b"x\r\neth0").expect("write");
    std::fs::write(dir.join("last_reserved_ip.0"), b"10.1.2.6").expect("write");
    let locked = store.lock().expect("lock");
    assert!(
        locked
            .reserve(ip("10.1.2.3"), &owner(), Some(&boot()))
            .expect("reserve")
    );
    let repaired = locked.repair(
        locked
            .scan(Some(&boot()), Interest::Everyone)
            .expect("scan"),
    );
    assert!(repaired.errors.is_empty());
    let mut reclaimed = repaired.reclaimed.clone();
    reclaimed.sort();
    assert_eq!(reclaimed, [ip("10.1.2.5"), ip("10.1.2.6")]);
    let mut kept: Vec<IpAddr> = repaired.scan.reservations.iter().map(|r| r.ip).collect();
    kept.sort();
    assert_eq!(kept, [ip("10.1.2.2"), ip("10.1.2.3")]);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["10.1.2.2", "10.1.2.3", "last_reserved_ip.0", "lock"]
    );
    // Without a known boot id nothing is judged by boot.
    std::fs::write(dir.join("10.1.2.7"), b"old\r\neth0").expect("write");
    set_boot_xattr(&dir.join("10.1.2.7"), OTHER_BOOT);
    let repaired = locked.repair(locked.scan(None, Interest::Everyone).expect("scan"));
    assert!(repaired.reclaimed.is_empty());
}

#[test]
fn release_and_legacy_matching() {
    let tmp = TempDir::new("store");
    let store = Store::open(tmp.path(), "net1").expect("open");
    std::fs::write(store.path().join("10.1.2.9"), b"ctr1").expect("write");
    let locked = store.lock().expect("lock");
    let o = owner();
    let ips = |rs: Vec<&Reservation>| rs.iter().map(|r| r.ip).collect::<Vec<_>>();
    let scan = locked.scan(None, Interest::Owner(&o)).expect("scan");
    // Only a legacy file: DEL releases it, and it counts as held.
    assert_eq!(ips(scan.releasable_by(&o)), [ip("10.1.2.9")]);
    assert_eq!(scan.held_by(&o), [ip("10.1.2.9")]);
    assert!(locked.reserve(ip("10.1.2.2"), &o, None).expect("reserve"));
    let scan = locked.scan(None, Interest::Owner(&o)).expect("scan");
    // With a current-format file, DEL releases that one only, like the reference.
    let releasable = scan.releasable_by(&o);
    assert_eq!(ips(releasable.clone()), [ip("10.1.2.2")]);
    locked.release(releasable[0]).expect("release");
    locked
        .release(releasable[0])
        .expect("release twice is fine");
    assert!(
        !locked
            .scan(None, Interest::Nobody)
            .expect("scan")
            .taken()
            .contains(&ip("10.1.2.2"))
    );
}

#[test]
fn cursor_round_trip() {
    let tmp = TempDir::new("store");
    let store = Store::open(tmp.path(), "net1").expect("open");
    let locked = store.lock().expect("lock");
    assert_eq!(locked.last_reserved(1), None);
    locked
        .set_last_reserved(1, ip("2001:db8:1::2"))
        .expect("write");
    assert_eq!(locked.last_reserved(1), Some(ip("2001:db8:1::2")));
    assert_eq!(
        std::fs::read(store.path().join("last_reserved_ip.1")).expect("read"),
        b"2001:db8:1::2"
    );
    std::fs::write(store.path().join("last_reserved_ip.2"), b"garbage").expect("write");
    assert_eq!(locked.last_reserved(2), None);
    locked.probe_writable().expect("writable");
}

#[test]
fn entries_that_are_not_regular_files_are_foreign_and_kept() {
    let tmp = TempDir::new("store");
    let store = Store::open(tmp.path(), "net1").expect("open");
    let dir = store.path().to_owned();
    nix::unistd::mkfifo(&dir.join("10.1.2.2"), Mode::from_bits_truncate(0o600)).expect("fifo");
    std::fs::create_dir(dir.join("10.1.2.3")).expect("mkdir");
    std::fs::write(dir.join("10.1.2.4"), vec![b'x'; 5000]).expect("write");
    let locked = store.lock().expect("lock");
    let repaired = locked.repair(
        locked
            .scan(Some(&boot()), Interest::Everyone)
            .expect("scan"),
    );
    assert!(repaired.reclaimed.is_empty() && repaired.errors.is_empty());
    let holders: Vec<(IpAddr, Holder)> = sorted(&repaired.scan)
        .into_iter()
        .map(|r| (r.ip, r.holder))
        .collect();
    assert_eq!(
        holders,
        [
            (ip("10.1.2.2"), Holder::Foreign),
            (ip("10.1.2.3"), Holder::Foreign),
            (ip("10.1.2.4"), Holder::Foreign),
        ]
    );
}

#[test]
fn stamps_are_judged_only_against_a_given_boot() {
    let tmp = TempDir::new("store");
    let store = Store::open(tmp.path(), "net1").expect("open");
    let dir = store.path().to_owned();
    for (name, bytes) in [("10.1.2.2", &b"old\r\neth0"[..]), ("10.1.2.3", b"")] {
        std::fs::write(dir.join(name), bytes).expect("write");
        set_boot_xattr(&dir.join(name), OTHER_BOOT);
    }
    let locked = store.lock().expect("lock");
    let judged = |boot: Option<&BootId>| -> Vec<(bool, bool)> {
        sorted(&locked.scan(boot, Interest::Everyone).expect("scan"))
            .iter()
            .map(|r| (r.other_boot, r.is_stale()))
            .collect()
    };
    // Empty content is stale whatever the stamp says; owner text by its stamp only.
    assert_eq!(judged(Some(&boot())), [(true, true), (false, true)]);
    assert_eq!(judged(None), [(false, false), (false, true)]);
}

fn sorted(scan: &Scan) -> Vec<Reservation> {
    let mut all = scan.reservations.clone();
    all.sort_by_key(|r| r.ip);
    all
}

#[test]
fn the_index_spares_reads_only_of_owners_that_do_not_matter() {
    let tmp = TempDir::new("store");
    let store = Store::open(tmp.path(), "net1").expect("open");
    let (a, b) = (Owner::new("a", "eth0"), Owner::new("b", "eth0"));
    let locked = store.lock().expect("lock");
    let b_now = Some(&boot());
    assert!(locked.reserve(ip("10.1.2.2"), &a, b_now).expect("reserve"));
    assert!(locked.reserve(ip("10.1.2.3"), &b, b_now).expect("reserve"));
    if locked.index(&boot()).is_none() {
        eprintln!("owner index not usable on this filesystem: skipped");
        return;
    }
    let holders = |interest: Interest<'_>| -> Vec<Holder> {
        let scan = locked.scan(b_now, interest).expect("scan");
        sorted(&scan).into_iter().map(|r| r.holder).collect()
    };
    let text = |o: &Owner| Holder::Text(o.content());
    assert_eq!(
        holders(Interest::Owner(&a)),
        [text(&a), Holder::Indexed(b.key())]
    );
    assert_eq!(
        holders(Interest::Nobody),
        [Holder::Indexed(a.key()), Holder::Indexed(b.key())]
    );
    assert_eq!(holders(Interest::Everyone), [text(&a), text(&b)]);
    let scan = locked.scan(b_now, Interest::Owner(&a)).expect("scan");
    assert_eq!(scan.held_by(&a), [ip("10.1.2.2")]);
    // Without a boot there is no index: everything is read.
    assert_eq!(
        sorted(&locked.scan(None, Interest::Nobody).expect("scan"))
            .into_iter()
            .map(|r| r.holder)
            .collect::<Vec<_>>(),
        [text(&a), text(&b)]
    );
    // A file put in place of b's under the same name is read, and the entry is an orphan.
    std::fs::remove_file(store.path().join("10.1.2.3")).expect("rm");
    std::fs::write(store.path().join("10.1.2.3"), b"c\r\neth0").expect("write");
    let scan = locked.scan(b_now, Interest::Nobody).expect("scan");
    assert_eq!(
        sorted(&scan)
            .into_iter()
            .map(|r| r.holder)
            .collect::<Vec<_>>(),
        [Holder::Indexed(a.key()), Holder::Text("c\r\neth0".into())]
    );
    assert_eq!(scan.orphans.len(), 1);
    let repaired = locked.repair(scan);
    assert!(repaired.errors.is_empty());
    let scan = locked.scan(b_now, Interest::Nobody).expect("scan");
    assert!(scan.orphans.is_empty());
}
