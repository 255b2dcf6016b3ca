//! Shared helpers for the integration tests: run a host-local binary (ours or the reference)
//! as a runtime would, in a per-test data directory removed on drop.

#![allow(dead_code)] // each test file uses a different subset

use std::collections::BTreeSet;
use std::ffi::CString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};

/// Our binary, built by cargo for this test run.
pub const OURS: &str = env!("CARGO_BIN_EXE_host-local");
/// The reference plugin (Debian containernetworking-plugins).
pub const REFERENCE: &str = "/usr/lib/cni/host-local";
/// A boot id that is not this boot's.
pub const OTHER_BOOT: &str = "00000000-1111-2222-3333-444444444444";

/// A data directory for one test; removed with everything in it on drop, pass or fail.
pub struct DataDir {
    path: PathBuf,
}

impl DataDir {
    /// `/tmp/host-local-it-<tag>-<pid>-<n>`, created empty.
    pub fn new(tag: &str) -> DataDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "host-local-it-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create data dir");
        DataDir { path }
    }

    /// The data directory (`ipam.dataDir`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The store directory of network `net`.
    pub fn net(&self, net: &str) -> PathBuf {
        self.path.join(net)
    }

    /// `dataDir` as a JSON string.
    pub fn json(&self) -> Value {
        Value::from(self.path.to_string_lossy().into_owned())
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A network config (`name` "net") with the given `ipam` keys plus `type` and `dataDir`.
pub fn conf(version: &str, data: &DataDir, mut ipam: Value) -> Value {
    ipam["type"] = json!("host-local");
    ipam["dataDir"] = data.json();
    json!({ "cniVersion": version, "name": "net", "type": "bridge", "ipam": ipam })
}

/// One invocation.
#[derive(Clone, Debug)]
pub struct Call {
    /// The binary.
    pub bin: String,
    /// `CNI_COMMAND`.
    pub command: String,
    /// `CNI_CONTAINERID`.
    pub id: String,
    /// `CNI_IFNAME`.
    pub ifname: String,
    /// `CNI_ARGS`.
    pub args: String,
    /// `CNI_NETNS` (host-local never opens it; empty as libcni sends when there is none).
    pub netns: String,
    /// stdin.
    pub conf: Value,
}

impl Call {
    /// `command` by `bin` for container `id` on `eth0`.
    pub fn new(bin: &str, command: &str, id: &str, conf: &Value) -> Call {
        Call {
            bin: bin.to_owned(),
            command: command.to_owned(),
            id: id.to_owned(),
            ifname: "eth0".to_owned(),
            args: String::new(),
            netns: "/var/run/netns/host-local-test".to_owned(),
            conf: conf.clone(),
        }
    }

    /// Same call on another interface.
    pub fn ifname(mut self, ifname: &str) -> Call {
        self.ifname = ifname.to_owned();
        self
    }

    /// Same call with `CNI_ARGS`.
    pub fn args(mut self, args: &str) -> Call {
        self.args = args.to_owned();
        self
    }

    /// Same call with another `CNI_NETNS`.
    pub fn netns(mut self, netns: &str) -> Call {
        self.netns = netns.to_owned();
        self
    }

    /// Starts the process with stdin written and closed.
    pub fn spawn(&self) -> Child {
        let mut child = Command::new(&self.bin)
            .env_clear()
            .env("CNI_COMMAND", &self.command)
            .env("CNI_CONTAINERID", &self.id)
            .env("CNI_NETNS", &self.netns)
            .env("CNI_IFNAME", &self.ifname)
            .env("CNI_PATH", "/usr/lib/cni")
            .env("CNI_ARGS", &self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn plugin");
        let stdin = serde_json::to_vec(&self.conf).expect("encode config");
        if let Some(mut pipe) = child.stdin.take() {
            // A killed child may close the pipe early; that is the point of some tests.
            let _ = pipe.write_all(&stdin);
        }
        child
    }

    /// Runs to completion.
    pub fn run(&self) -> Outcome {
        Outcome::of(self.spawn())
    }

    /// Runs and requires success; returns the parsed stdout (`Null` if empty).
    pub fn ok(&self) -> Value {
        let out = self.run();
        assert!(
            out.success,
            "{} {} {} failed: {out:?}",
            self.bin, self.command, self.id
        );
        out.json
    }

    /// Runs and requires failure; returns (code, msg) of the printed error.
    pub fn err(&self) -> (u64, String) {
        let out = self.run();
        assert!(
            !out.success,
            "{} {} {} succeeded: {out:?}",
            self.bin, self.command, self.id
        );
        let code = out.json["code"].as_u64().expect("error code");
        let msg = out.json["msg"].as_str().expect("error msg").to_owned();
        (code, msg)
    }
}

/// What a finished plugin process did.
#[derive(Debug)]
pub struct Outcome {
    /// Exit status 0.
    pub success: bool,
    /// Killed by a signal (no exit status).
    pub signalled: bool,
    /// stdout as JSON (`Null` when empty).
    pub json: Value,
    /// stdout as text.
    pub stdout: String,
    /// stderr as text.
    pub stderr: String,
}

impl Outcome {
    /// Waits for `child` and collects its output.
    pub fn of(child: Child) -> Outcome {
        let out = child.wait_with_output().expect("wait plugin");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let json = if stdout.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&stdout).unwrap_or(Value::Null)
        };
        Outcome {
            success: out.status.success(),
            signalled: out.status.code().is_none(),
            json,
            stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// The addresses (without prefix) of a result of version 0.3.0 or later.
pub fn result_ips(result: &Value) -> Vec<String> {
    result["ips"]
        .as_array()
        .map(|ips| {
            ips.iter()
                .filter_map(|ip| ip["address"].as_str())
                .map(|a| a.split('/').next().unwrap_or(a).to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The names in a store directory.
pub fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
        })
        .unwrap_or_default()
}

/// The address-named files in a store directory.
pub fn reserved(dir: &Path) -> BTreeSet<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.parse::<std::net::IpAddr>().is_ok())
        .collect()
}

/// The content of a store file as text.
pub fn content(dir: &Path, name: &str) -> String {
    String::from_utf8_lossy(&std::fs::read(dir.join(name)).expect("read store file")).into_owned()
}

/// Sets `user.cni.boot_id` on a file, as a plugin running in another boot would have.
pub fn set_boot_stamp(path: &Path, value: &str) {
    let c = CString::new(path.as_os_str().as_bytes()).expect("no NUL in path");
    // SAFETY: both pointers are to live NUL-terminated/initialised buffers for the call.
    let rc = unsafe {
        libc::lsetxattr(
            c.as_ptr(),
            c"user.cni.boot_id".as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    assert_eq!(rc, 0, "setxattr: {}", std::io::Error::last_os_error());
}

/// Reads `user.cni.boot_id` of a file, if set.
pub fn boot_stamp(path: &Path) -> Option<String> {
    let c = CString::new(path.as_os_str().as_bytes()).expect("no NUL in path");
    let mut buf = [0u8; 64];
    // SAFETY: `c` is NUL-terminated; the kernel writes at most `buf.len()` bytes into `buf`.
    let n = unsafe {
        libc::lgetxattr(
            c.as_ptr(),
            c"user.cni.boot_id".as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let len = usize::try_from(n).ok()?;
    Some(String::from_utf8_lossy(&buf[..len]).into_owned())
}

/// This boot's id.
pub fn this_boot() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .expect("boot id")
        .trim()
        .to_owned()
}

/// The owner-index directory of network `net` for boot `boot` (see `store::index`).
pub fn index_dir(data: &DataDir, net: &str, boot: &str) -> PathBuf {
    data.path()
        .join(".host-local-index")
        .join(format!("{net}@{boot}"))
}

/// True if the data directory's filesystem is one our owner index runs on (ext4, xfs, btrfs);
/// tests of the index itself say so and pass vacuously elsewhere.
pub fn index_supported(data: &DataDir) -> bool {
    use nix::sys::statfs::{BTRFS_SUPER_MAGIC, EXT4_SUPER_MAGIC, XFS_SUPER_MAGIC, statfs};
    let fs = statfs(data.path()).expect("statfs").filesystem_type();
    let ok = [EXT4_SUPER_MAGIC, XFS_SUPER_MAGIC, BTRFS_SUPER_MAGIC].contains(&fs);
    if !ok {
        eprintln!("owner index not used on this filesystem ({fs:?}): index checks skipped");
    }
    ok
}

/// Makes our reservation `ip` of network `net` look as a reboot leaves it: stamped with
/// another boot, and its owner-index entry in that boot's index directory, not this boot's.
pub fn made_in_earlier_boot(data: &DataDir, net: &str, ip: &str) {
    set_boot_stamp(&data.net(net).join(ip), OTHER_BOOT);
    let old = index_dir(data, net, OTHER_BOOT);
    let current = index_dir(data, net, &this_boot());
    let Ok(entries) = std::fs::read_dir(&current) else {
        return; // no index here
    };
    std::fs::create_dir_all(&old).expect("old index dir");
    for entry in entries {
        let name = entry.expect("index entry").file_name();
        if name.to_string_lossy().starts_with(&format!("{ip}_")) {
            std::fs::rename(current.join(&name), old.join(&name)).expect("move entry");
        }
    }
}
