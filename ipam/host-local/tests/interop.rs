//! One store, two plugins: the reference `/usr/lib/cni/host-local` (v1.1.1 here, which speaks
//! up to 1.0.0) and ours release each other's reservations and share the round-robin cursor.

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::{Value, json};

fn dual(data: &DataDir) -> Value {
    conf(
        "1.0.0",
        data,
        json!({ "ranges": [[{ "subnet": "10.1.2.0/24" }], [{ "subnet": "2001:db8:1::/64" }]] }),
    )
}

#[test]
fn ours_written_released_by_the_reference() {
    let data = DataDir::new("interop-a");
    let c = dual(&data);
    let dir = data.net("net");
    let got = Call::new(OURS, "ADD", "ours", &c).ok();
    assert_eq!(result_ips(&got), ["10.1.2.2", "2001:db8:1::2"]);
    // The reference sees it (CHECK) and refuses a second ADD of the same attachment.
    Call::new(REFERENCE, "CHECK", "ours", &c).ok();
    assert!(
        Call::new(REFERENCE, "ADD", "ours", &c)
            .err()
            .1
            .contains("duplicate allocation is not allowed")
    );
    Call::new(REFERENCE, "DEL", "ours", &c).ok();
    assert!(reserved(&dir).is_empty());
}

#[test]
fn reference_written_released_by_ours() {
    let data = DataDir::new("interop-b");
    let c = dual(&data);
    let dir = data.net("net");
    let got = Call::new(REFERENCE, "ADD", "theirs", &c).ok();
    assert_eq!(result_ips(&got), ["10.1.2.2", "2001:db8:1::2"]);
    assert_eq!(content(&dir, "10.1.2.2"), "theirs\r\neth0");
    Call::new(OURS, "CHECK", "theirs", &c).ok();
    assert!(
        Call::new(OURS, "ADD", "theirs", &c)
            .err()
            .1
            .contains("duplicate allocation is not allowed")
    );
    Call::new(OURS, "DEL", "theirs", &c).ok();
    assert!(reserved(&dir).is_empty());
}

#[test]
fn both_allocate_round_robin_from_the_shared_cursor() {
    let data = DataDir::new("interop-rr");
    let c = conf("1.0.0", &data, json!({ "subnet": "10.1.2.0/24" }));
    let dir = data.net("net");
    let mut seen = Vec::new();
    for (i, bin) in [OURS, REFERENCE, OURS, REFERENCE, OURS].iter().enumerate() {
        let id = format!("c{i}");
        let ip = result_ips(&Call::new(bin, "ADD", &id, &c).ok()).remove(0);
        assert_eq!(
            content(&dir, "last_reserved_ip.0"),
            ip,
            "cursor after {bin}"
        );
        seen.push(ip);
    }
    assert_eq!(
        seen,
        ["10.1.2.2", "10.1.2.3", "10.1.2.4", "10.1.2.5", "10.1.2.6"]
    );
    // Releasing .3 does not make either plugin reuse it before the range wraps.
    Call::new(OURS, "DEL", "c1", &c).ok();
    assert_eq!(
        result_ips(&Call::new(REFERENCE, "ADD", "d", &c).ok()),
        ["10.1.2.7"]
    );
    assert_eq!(
        result_ips(&Call::new(OURS, "ADD", "e", &c).ok()),
        ["10.1.2.8"]
    );
}

#[test]
fn each_skips_the_others_reservations() {
    let data = DataDir::new("interop-skip");
    let c = conf("1.0.0", &data, json!({ "subnet": "10.1.2.0/29" })); // .2 .. .6
    let dir = data.net("net");
    // Requested addresses by one plugin, then the other walks around them.
    Call::new(REFERENCE, "ADD", "r", &c)
        .args("IP=10.1.2.3")
        .ok();
    Call::new(OURS, "ADD", "o", &c).args("IP=10.1.2.5").ok();
    // The reference's cursor now says .3 then ours says .5; the walk continues from .5.
    let mut got = BTreeSet::new();
    for (i, bin) in [OURS, REFERENCE, OURS].iter().enumerate() {
        got.extend(result_ips(
            &Call::new(bin, "ADD", &format!("w{i}"), &c).ok(),
        ));
    }
    assert_eq!(
        got,
        ["10.1.2.2", "10.1.2.4", "10.1.2.6"]
            .map(String::from)
            .into()
    );
    // Full for both.
    assert!(
        Call::new(OURS, "ADD", "x", &c)
            .err()
            .1
            .contains("no IP addresses available")
    );
    assert!(
        Call::new(REFERENCE, "ADD", "y", &c)
            .err()
            .1
            .contains("no IP addresses available")
    );
    assert_eq!(reserved(&dir).len(), 5);
}

#[test]
fn our_gc_cleans_reference_reservations_too() {
    let data = DataDir::new("interop-gc");
    let c = conf("1.0.0", &data, json!({ "subnet": "10.1.2.0/24" }));
    Call::new(REFERENCE, "ADD", "keep", &c).ok();
    Call::new(REFERENCE, "ADD", "gone", &c).ok();
    // GC needs a 1.1.0 config; the store is the same.
    let mut g = conf("1.1.0", &data, json!({ "subnet": "10.1.2.0/24" }));
    g["cni.dev/valid-attachments"] = json!([{ "containerID": "keep", "ifname": "eth0" }]);
    Call::new(OURS, "GC", "", &g).ok();
    assert_eq!(reserved(&data.net("net")), ["10.1.2.2".to_owned()].into());
    Call::new(REFERENCE, "DEL", "keep", &c).ok();
}

#[test]
fn concurrent_adds_of_both_plugins_never_collide() {
    // Both take the same flock on `<dir>/lock`, so interleaved writers never double-book.
    let data = DataDir::new("interop-conc");
    let c = conf("1.0.0", &data, json!({ "subnet": "10.1.0.0/24" }));
    let children: Vec<_> = (0..40)
        .map(|i| {
            let bin = if i % 2 == 0 { OURS } else { REFERENCE };
            Call::new(bin, "ADD", &format!("m{i}"), &c).spawn()
        })
        .collect();
    let mut ips = BTreeSet::new();
    for child in children {
        let out = Outcome::of(child);
        assert!(out.success, "{out:?}");
        ips.extend(result_ips(&out.json));
    }
    assert_eq!(ips.len(), 40);
    assert_eq!(reserved(&data.net("net")), ips);
    let dels: Vec<_> = (0..40)
        .map(|i| {
            let bin = if i % 2 == 0 { REFERENCE } else { OURS };
            Call::new(bin, "DEL", &format!("m{i}"), &c).spawn()
        })
        .collect();
    for child in dels {
        let out = Outcome::of(child);
        assert!(out.success, "{out:?}");
    }
    assert!(reserved(&data.net("net")).is_empty());
}
