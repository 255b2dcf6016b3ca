//! SIGKILL during ADD, many times at varied instants: the store never holds a partial
//! reservation, and after GC every address is either held by a live attachment or free again.
//! "None lost" is proven by allocating the whole range afterwards.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

/// Rounds of concurrent ADDs; each process is killed after its own delay.
const ROUNDS: usize = 60;
/// Processes per round.
const PER_ROUND: usize = 4;
/// Delays are spread over 0..5 ms (an ADD of the debug build takes a few ms).
const MAX_DELAY_US: u64 = 5_000;
/// 10.1.0.0/23 minus network, gateway and broadcast.
const CAPACITY: usize = 509;

/// xorshift64: varied but reproducible delays without a dependency.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn sigkill_during_add_never_loses_an_address() {
    let data = DataDir::new("crash");
    let c = conf("1.1.0", &data, json!({ "subnet": "10.1.0.0/23" }));
    let dir = data.net("net");
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut live: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut killed: BTreeSet<String> = BTreeSet::new();

    for round in 0..ROUNDS {
        let mut batch: Vec<(Duration, String, std::process::Child)> = (0..PER_ROUND)
            .map(|k| {
                let id = format!("r{round}k{k}");
                let delay = Duration::from_micros(next(&mut seed) % MAX_DELAY_US);
                let child = Call::new(OURS, "ADD", &id, &c).spawn();
                (delay, id, child)
            })
            .collect();
        batch.sort_by_key(|(delay, _, _)| *delay);
        let start = Instant::now();
        for (delay, _, child) in &mut batch {
            std::thread::sleep(delay.saturating_sub(start.elapsed()));
            // Already exited is fine: then it finished before the kill.
            let _ = child.kill();
        }
        for (_, id, child) in batch {
            let out = Outcome::of(child);
            if out.success {
                live.insert(id, result_ips(&out.json));
            } else {
                assert!(out.signalled, "an ADD failed on its own: {out:?}");
                killed.insert(id);
            }
        }
        // Right after the kills: every reservation is complete and names one of our ADDs.
        for ip in reserved(&dir) {
            let text = content(&dir, &ip);
            let id = text
                .strip_suffix("\r\neth0")
                .unwrap_or_else(|| panic!("partial reservation {ip}: {text:?} (round {round})"));
            assert!(
                live.contains_key(id) || killed.contains(id),
                "{ip} held by unknown {id:?}"
            );
        }
    }
    assert!(
        !killed.is_empty(),
        "no ADD was ever killed: delays too long for this machine"
    );
    // Every completed ADD holds exactly what it was told.
    for (id, ips) in &live {
        for ip in ips {
            assert_eq!(content(&dir, ip), format!("{id}\r\neth0"));
        }
    }
    let killed_holding = reserved(&dir).len() - live.len();
    eprintln!(
        "{} completed, {} killed ({} of them after publishing)",
        live.len(),
        killed.len(),
        killed_holding
    );

    // The runtime GCs with the attachments it knows: the completed ones.
    let mut g = c.clone();
    g["cni.dev/valid-attachments"] = live
        .keys()
        .map(|id| json!({ "containerID": id, "ifname": "eth0" }))
        .collect();
    Call::new(OURS, "GC", "", &g).ok();
    let held: BTreeSet<String> = live.values().flatten().cloned().collect();
    assert_eq!(
        reserved(&dir),
        held,
        "after GC only live attachments hold addresses"
    );
    let mut expected_names = held.clone();
    expected_names.insert("lock".into());
    expected_names.insert("last_reserved_ip.0".into());
    assert_eq!(
        names(&dir),
        expected_names,
        "no temporary or stray files remain"
    );
    // The owner index names exactly the live reservations, each by its own inode: entries of
    // ADDs killed before they published are gone.
    if index_supported(&data) {
        use std::os::unix::fs::MetadataExt;
        let index = index_dir(&data, "net", &this_boot());
        let mut indexed = BTreeSet::new();
        for entry in std::fs::read_dir(&index).expect("index") {
            let entry = entry.expect("entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let (ip, _) = name.rsplit_once('_').expect("entry name");
            let ino = |p: &std::path::Path| std::fs::metadata(p).expect("stat").ino();
            assert_eq!(ino(&entry.path()), ino(&dir.join(ip)), "{name}");
            indexed.insert(ip.to_owned());
        }
        assert_eq!(indexed, held);
    }

    // None lost: every other address of the range can still be allocated, then it is full.
    let free = CAPACITY - held.len();
    let mut fresh = BTreeSet::new();
    for chunk in (0..free).collect::<Vec<_>>().chunks(25) {
        let children: Vec<_> = chunk
            .iter()
            .map(|i| Call::new(OURS, "ADD", &format!("fill{i}"), &c).spawn())
            .collect();
        for child in children {
            let out = Outcome::of(child);
            assert!(out.success, "{out:?}");
            fresh.extend(result_ips(&out.json));
        }
    }
    assert_eq!(fresh.len(), free);
    assert!(fresh.is_disjoint(&held));
    assert!(
        Call::new(OURS, "ADD", "one-too-many", &c)
            .err()
            .1
            .contains("no IP addresses available")
    );
}
