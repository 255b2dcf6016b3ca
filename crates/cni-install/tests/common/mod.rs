//! Shared test helpers: temp directories removed on drop, the binary under test, file facts.

#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // test helpers: a panic is how a test fails

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system temp dir, removed (with everything in it) on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("cni-install-test-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A world for one test: an image dir, the node's bin and conf dirs.
pub struct Node {
    pub root: TempDir,
    pub from: PathBuf,
    pub bin: PathBuf,
    pub conf: PathBuf,
}

impl Node {
    pub fn new(tag: &str) -> Node {
        let root = TempDir::new(tag);
        let from = root.join("image-bin");
        fs::create_dir(&from).unwrap();
        Node {
            from,
            bin: root.join("host/opt/cni/bin"),
            conf: root.join("host/etc/cni/net.d"),
            root,
        }
    }

    /// Puts `bytes` into the image dir as plugin `name`.
    pub fn image_file(&self, name: &str, bytes: &[u8]) {
        let path = self.from.join(name);
        fs::write(&path, bytes).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Runs the real binary with `verb` and this node's dirs, plus `extra` flags.
    pub fn run(&self, verb: &str, extra: &[&str]) -> Output {
        self.command(verb, extra).output().unwrap()
    }

    pub fn command(&self, verb: &str, extra: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cni-install"));
        cmd.arg(verb)
            .arg("--from")
            .arg(&self.from)
            .arg("--bin-dir")
            .arg(&self.bin)
            .arg("--conf-dir")
            .arg(&self.conf)
            .args(extra);
        cmd
    }

    /// Names in the bin dir, sorted (dotted temp files included).
    pub fn bin_names(&self) -> Vec<String> {
        names(&self.bin)
    }
}

pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The facts that change when anything writes a file or a directory entry.
#[derive(Debug, PartialEq, Eq)]
pub struct Stamp {
    ino: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    mode: u32,
}

pub fn stamp(path: &Path) -> Stamp {
    let m = fs::symlink_metadata(path).unwrap();
    Stamp {
        ino: m.ino(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
        mode: m.mode(),
    }
}

pub fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}
