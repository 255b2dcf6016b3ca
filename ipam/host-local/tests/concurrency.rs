//! 100 ADDs launched at once on one network, then 100 DELs at once.

mod common;

use std::collections::BTreeSet;
use std::fs::File;
use std::os::unix::fs::DirBuilderExt;

use common::*;
use nix::fcntl::{Flock, FlockArg};
use serde_json::json;

const N: usize = 100;

/// Holds the store lock while `spawn` starts every process, then lets them all go at once, so
/// all of them contend for the lock at the same instant.
fn launch_together(dir: &std::path::Path, calls: &[Call]) -> Vec<Outcome> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .expect("store dir");
    let lock_file = File::create(dir.join("lock")).expect("lock file");
    let gate = Flock::lock(lock_file, FlockArg::LockExclusive).expect("hold the gate");
    let children: Vec<_> = calls.iter().map(Call::spawn).collect();
    drop(gate);
    children.into_iter().map(Outcome::of).collect()
}

#[test]
fn hundred_adds_then_hundred_dels_at_once() {
    let data = DataDir::new("hundred");
    let c = conf(
        "1.0.0",
        &data,
        json!({ "ranges": [[{ "subnet": "10.1.0.0/24" }], [{ "subnet": "fd00:1::/64" }]] }),
    );
    let dir = data.net("net");
    let adds: Vec<Call> = (0..N)
        .map(|i| Call::new(OURS, "ADD", &format!("pod{i}"), &c))
        .collect();
    let outcomes = launch_together(&dir, &adds);
    let failures: Vec<&Outcome> = outcomes.iter().filter(|o| !o.success).collect();
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        failures.first()
    );
    let mut v4 = BTreeSet::new();
    let mut v6 = BTreeSet::new();
    for (i, out) in outcomes.iter().enumerate() {
        let ips = result_ips(&out.json);
        assert_eq!(ips.len(), 2, "{out:?}");
        // Each reservation names its own pod.
        assert_eq!(content(&dir, &ips[0]), format!("pod{i}\r\neth0"));
        v4.insert(ips[0].clone());
        v6.insert(ips[1].clone());
    }
    assert_eq!((v4.len(), v6.len()), (N, N), "addresses are distinct");
    assert_eq!(reserved(&dir).len(), 2 * N);

    let dels: Vec<Call> = (0..N)
        .map(|i| Call::new(OURS, "DEL", &format!("pod{i}"), &c))
        .collect();
    let outcomes = launch_together(&dir, &dels);
    assert!(outcomes.iter().all(|o| o.success && o.stdout.is_empty()));
    let left: BTreeSet<String> = ["lock", "last_reserved_ip.0", "last_reserved_ip.1"]
        .map(String::from)
        .into();
    assert_eq!(names(&dir), left);
}
