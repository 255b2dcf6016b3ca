//! The owner index (`store::index`) next to the reference plugin: it vouches only for the very
//! files we published, whatever the reference does to the same names, and it cleans up after
//! kills and reboots.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::*;
use serde_json::{Value, json};

/// One allocatable address: 10.1.2.2.
fn one_address(data: &DataDir) -> Value {
    conf("1.0.0", data, json!({ "subnet": "10.1.2.0/30" }))
}

/// The entries of this boot's index of network "net": name -> (inode, link count).
fn entries(data: &DataDir) -> BTreeMap<String, (u64, u64)> {
    let dir = index_dir(data, "net", &this_boot());
    std::fs::read_dir(&dir)
        .map(|rd| {
            rd.map(|e| {
                let e = e.expect("entry");
                let md = std::fs::symlink_metadata(e.path()).expect("stat");
                (
                    e.file_name().to_string_lossy().into_owned(),
                    (md.ino(), md.nlink()),
                )
            })
            .collect()
        })
        .unwrap_or_default()
}

fn ino(path: &Path) -> u64 {
    std::fs::symlink_metadata(path).expect("stat").ino()
}

#[test]
fn our_reservations_are_indexed_by_a_hard_link() {
    let data = DataDir::new("index-link");
    if !index_supported(&data) {
        return;
    }
    let c = conf(
        "1.0.0",
        &data,
        json!({ "ranges": [[{ "subnet": "10.1.2.0/24" }], [{ "subnet": "2001:db8:1::/64" }]] }),
    );
    Call::new(OURS, "ADD", "a", &c).ok();
    let dir = data.net("net");
    let found = entries(&data);
    assert_eq!(found.len(), 2, "{found:?}");
    for ip in ["10.1.2.2", "2001:db8:1::2"] {
        let (name, (entry_ino, links)) = found
            .iter()
            .find(|(name, _)| name.starts_with(&format!("{ip}_")))
            .unwrap_or_else(|| panic!("no entry for {ip}: {found:?}"));
        assert_eq!(*entry_ino, ino(&dir.join(ip)), "{name}");
        assert_eq!(*links, 2, "{name}");
    }
    Call::new(OURS, "CHECK", "a", &c).ok();
    Call::new(OURS, "DEL", "a", &c).ok();
    assert!(reserved(&dir).is_empty());
    assert!(entries(&data).is_empty());
}

#[test]
fn a_name_the_reference_released_and_made_again_is_read_not_trusted() {
    let data = DataDir::new("index-reused");
    if !index_supported(&data) {
        return;
    }
    let c = one_address(&data);
    let ip = data.net("net").join("10.1.2.2");
    Call::new(OURS, "ADD", "a", &c).ok();
    // The reference releases our reservation (it knows nothing of the index)...
    Call::new(REFERENCE, "DEL", "a", &c).ok();
    assert!(!ip.exists());
    let orphan = entries(&data);
    assert_eq!(orphan.len(), 1);
    let (orphan_ino, links) = *orphan.values().next().expect("entry");
    assert_eq!(links, 1, "the entry alone keeps the old inode");
    // ...and hands the same name to someone else. The old inode is still in use, so the new
    // file cannot have its number (ext4 would otherwise reuse it at once).
    Call::new(REFERENCE, "ADD", "b", &c).ok();
    assert_eq!(content(&data.net("net"), "10.1.2.2"), "b\r\neth0");
    assert_ne!(ino(&ip), orphan_ino);
    // We see b's reservation, not a's: b may not allocate twice, a holds nothing.
    let (_, msg) = Call::new(OURS, "ADD", "b", &c).err();
    assert!(msg.contains("duplicate allocation is not allowed"), "{msg}");
    Call::new(OURS, "CHECK", "b", &c).ok();
    Call::new(OURS, "CHECK", "a", &c).err();
    let (_, msg) = Call::new(OURS, "ADD", "a", &c).err();
    assert!(msg.contains("no IP addresses available"), "{msg}");
    // That repair removed the orphan; b's reservation is released by us.
    assert!(entries(&data).is_empty());
    Call::new(OURS, "DEL", "b", &c).ok();
    assert!(reserved(&data.net("net")).is_empty());
}

#[test]
fn leftover_entries_and_earlier_boots_are_removed() {
    let data = DataDir::new("index-orphans");
    if !index_supported(&data) {
        return;
    }
    let c = conf("1.0.0", &data, json!({ "subnet": "10.1.2.0/24" }));
    // What the last boot left: its index, and another network's.
    let old = index_dir(&data, "net", OTHER_BOOT);
    std::fs::create_dir_all(&old).expect("old index");
    std::fs::write(old.join("10.1.2.3_00000000000000cc"), b"o\r\neth0").expect("write");
    let other_net = index_dir(&data, "net2", OTHER_BOOT);
    std::fs::create_dir_all(&other_net).expect("other network");
    // The first use in this boot (even a STATUS) makes this boot's index and removes the
    // last boot's; another network's is not this one's to clean.
    let status = conf("1.1.0", &data, json!({ "subnet": "10.1.2.0/24" }));
    Call::new(OURS, "STATUS", "", &status).ok();
    let current = index_dir(&data, "net", &this_boot());
    assert!(current.is_dir());
    assert!(!old.exists());
    assert!(other_net.exists());

    // An entry whose reservation was never published (ADD killed between the two links), one
    // that names no address, and one of a reservation of the reference.
    std::fs::write(current.join("10.1.2.7_00000000000000aa"), b"k\r\neth0").expect("write");
    std::fs::write(current.join("junk"), b"").expect("write");
    std::fs::write(data.net("net").join("10.1.2.9"), b"r\r\neth0").expect("write");
    std::fs::write(current.join("10.1.2.9_00000000000000bb"), b"r\r\neth0").expect("write");
    let got = result_ips(&Call::new(OURS, "ADD", "a", &c).ok());
    assert_eq!(got, ["10.1.2.2"]);
    let left: Vec<String> = entries(&data).into_keys().collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with("10.1.2.2_"), "{left:?}");
    // The reference's reservation is still read as its: r may not allocate twice.
    let (_, msg) = Call::new(OURS, "ADD", "r", &c).err();
    assert!(msg.contains("duplicate allocation is not allowed"), "{msg}");
}

#[test]
fn mixed_concurrent_adds_and_dels_leave_no_entries() {
    let data = DataDir::new("index-mixed");
    if !index_supported(&data) {
        return;
    }
    let c = conf("1.0.0", &data, json!({ "subnet": "10.1.0.0/24" }));
    let run_all = |calls: Vec<Call>| {
        let children: Vec<_> = calls.iter().map(Call::spawn).collect();
        for child in children {
            let out = Outcome::of(child);
            assert!(out.success, "{out:?}");
        }
    };
    let bin = |i: usize, flip: bool| if (i % 2 == 0) ^ flip { OURS } else { REFERENCE };
    run_all(
        (0..40)
            .map(|i| Call::new(bin(i, false), "ADD", &format!("m{i}"), &c))
            .collect(),
    );
    // Each of our reservations is indexed, and nothing else is.
    let dir = data.net("net");
    let ours: BTreeMap<u64, String> = entries(&data)
        .into_iter()
        .map(|(name, (ino, _))| (ino, name))
        .collect();
    assert_eq!(ours.len(), 20);
    for ip in reserved(&dir) {
        let holder = content(&dir, &ip);
        let id: usize = holder[1..holder.len() - "\r\neth0".len()]
            .parse()
            .expect("id");
        assert_eq!(ours.contains_key(&ino(&dir.join(&ip))), id % 2 == 0, "{ip}");
    }
    // Each releases the other's.
    run_all(
        (0..40)
            .map(|i| Call::new(bin(i, true), "DEL", &format!("m{i}"), &c))
            .collect(),
    );
    assert!(reserved(&dir).is_empty());
    // The reference's DELs left our entries behind; the next repair removes them.
    Call::new(OURS, "DEL", "nobody", &c).ok();
    assert!(entries(&data).is_empty());
}
