//! A crash in the middle of a copy: the installer is frozen (SIGSTOP) while its temp file
//! exists, the final name is inspected, then the installer is killed (SIGKILL: no cleanup
//! runs, like a node losing power or the kubelet killing the container). The next run must
//! clean up and finish. A watcher also checks every state the final name passes through.

#![allow(clippy::unwrap_used)] // a panic is how a test fails

mod common;

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{Node, stderr, stdout};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const OLD_LEN: usize = 1 << 20;
const NEW_LEN: usize = 64 << 20;

/// What the final name may show: the complete old file or the complete new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Old,
    New,
}

/// Classifies the file at `path` by size and its first and last bytes; panics on anything
/// else (a partial or mixed file).
fn classify(path: &Path) -> Seen {
    let mut file = File::open(path).unwrap();
    let len = file.metadata().unwrap().len() as usize;
    assert!(
        len == OLD_LEN || len == NEW_LEN,
        "final name shows a partial file: {len} bytes"
    );
    let mut first = [0u8; 4096];
    file.read_exact(&mut first).unwrap();
    // The last byte from the same open file: the name may be renamed over meanwhile.
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len as u64 - 1)).unwrap();
    file.read_exact(&mut last).unwrap();
    let fill = if len == OLD_LEN { b'A' } else { b'B' };
    assert!(
        first.iter().all(|&b| b == fill) && last[0] == fill,
        "final name shows a mixed file"
    );
    if len == OLD_LEN { Seen::Old } else { Seen::New }
}

#[test]
fn a_killed_copy_never_shows_under_the_final_name_and_the_next_run_recovers() {
    let node = Node::new("crash");
    node.image_file("bridge", &vec![b'A'; OLD_LEN]);
    assert!(node.run("install", &[]).status.success());
    let final_path = node.bin.join("bridge");
    let temp_path = node.bin.join(".cni-install.bridge.tmp");
    node.image_file("bridge", &vec![b'B'; NEW_LEN]);

    // Freeze the installer while its temp file exists. The copy and fsync of 64 MiB take far
    // longer than this poll loop's turn, so one attempt is normally enough; retry if the
    // installer was faster (then the run must simply have completed correctly).
    let mut caught = false;
    for _attempt in 0..5 {
        let mut child = node.command("install", &[]).spawn().unwrap();
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
        let deadline = Instant::now() + Duration::from_secs(20);
        while fs::symlink_metadata(&temp_path).is_err() && Instant::now() < deadline {
            classify(&final_path);
            if child.try_wait().unwrap().is_some() {
                break;
            }
        }
        if kill(pid, Signal::SIGSTOP).is_ok() && fs::symlink_metadata(&temp_path).is_ok() {
            // Frozen mid-copy: the final name still shows the whole old file.
            assert_eq!(classify(&final_path), Seen::Old);
            kill(pid, Signal::SIGKILL).unwrap();
            child.wait().unwrap();
            caught = true;
            break;
        }
        child.wait().unwrap();
        assert_eq!(
            classify(&final_path),
            Seen::New,
            "an uninterrupted run completes"
        );
        // Put the old version back and try again.
        node.image_file("bridge", &vec![b'A'; OLD_LEN]);
        assert!(node.run("install", &[]).status.success());
        node.image_file("bridge", &vec![b'B'; NEW_LEN]);
    }
    assert!(caught, "never caught the installer mid-copy in 5 attempts");

    // After the crash: the leftover is there under its temp name only.
    assert!(
        fs::symlink_metadata(&temp_path).is_ok(),
        "the killed run left its temp file"
    );
    assert_eq!(classify(&final_path), Seen::Old);

    // The next run, watched: every state the final name shows is a whole file.
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let watcher = {
        let (stop, seen, path) = (stop.clone(), seen.clone(), final_path.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let state = classify(&path);
                let mut seen = seen.lock().unwrap();
                if seen.last() != Some(&state) {
                    seen.push(state);
                }
            }
        })
    };
    let out = node.run("install", &[]);
    stop.store(true, Ordering::SeqCst);
    watcher.join().expect("the watcher saw a partial file");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "removed-leftover {}\nupdated {}\n",
            temp_path.display(),
            final_path.display()
        )
    );
    assert_eq!(
        node.bin_names(),
        ["bridge"],
        "leftover swept, no new temp file"
    );
    assert_eq!(classify(&final_path), Seen::New);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.first(), Some(&Seen::Old));
    assert!(seen.len() <= 2, "old, then new, nothing between: {seen:?}");
}
