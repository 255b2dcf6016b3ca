//! One named network namespace of a test world, and the ways to act inside it.
//!
//! An [`Ns`] is a plain handle (name + path under /run/netns); the [`crate::World`] that made
//! it owns its lifetime and deletes it on drop. Commands run inside it by entering it between
//! fork and exec (see [`crate::process`]); in-process work (sysctl files) runs on a short-lived
//! thread that enters it and then exits, so no thread of the test ever changes namespace.
//! Probes that parse iproute2 JSON live in [`crate::probe`]; this module only runs things.

use std::ffi::OsString;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Mutex;
use std::thread;

use serde::de::DeserializeOwned;

use crate::background::Background;
use crate::error::{Result, SandboxError};
use crate::names;
use crate::process::{self, Spec};

/// Where iproute2 keeps named namespaces (bind mounts of nsfs files).
pub(crate) const NETNS_DIR: &str = "/run/netns";

/// Serialises `ip netns add/del` within this process. The first `ip netns add` on a machine
/// turns /run/netns into a shared bind mount of itself; two racing first calls can stack two
/// such mounts and hide each other's namespaces (iproute2 `netns_add`, mount-then-retry loop).
static NETNS_LOCK: Mutex<()> = Mutex::new(());

/// A named network namespace created by a [`crate::World`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ns {
    name: String,
    path: PathBuf,
}

impl Ns {
    /// Creates a fresh namespace for `role` with loopback up.
    pub(crate) fn create(name: String) -> Result<Self> {
        {
            let _serial = NETNS_LOCK.lock().unwrap_or_else(|p| p.into_inner());
            root_tool(&["ip", "netns", "add", &name])?;
        }
        let ns = Self::handle(name);
        ns.link_up("lo")?;
        Ok(ns)
    }

    /// A handle to an existing namespace called `name` (no check that it exists).
    pub(crate) fn handle(name: String) -> Self {
        let path = Path::new(NETNS_DIR).join(&name);
        Self { name, path }
    }

    /// Removes the namespace name; the kernel frees it (and destroys its links) once no
    /// process or fd holds it. Deleting an already gone namespace succeeds.
    pub(crate) fn delete(&self) -> Result<()> {
        let _serial = NETNS_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        if !self.path.exists() {
            return Ok(());
        }
        root_tool(&["ip", "netns", "delete", &self.name]).map(drop)
    }

    /// The namespace name, as `ip netns list` shows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `/run/netns/<name>`: what a runtime passes as `CNI_NETNS`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The namespace's inode number, as `readlink /proc/<pid>/ns/net` shows it (`net:[N]`).
    pub fn inode(&self) -> Result<u64> {
        std::fs::metadata(&self.path)
            .map(|m| m.ino())
            .map_err(|e| SandboxError::io("stat netns", &self.path, e))
    }

    /// An open fd on the namespace, e.g. for `setns` or `IFLA_NET_NS_FD` in netlink tests.
    pub fn file(&self) -> Result<File> {
        File::open(&self.path).map_err(|e| SandboxError::io("open netns", &self.path, e))
    }

    /// Runs `argv` inside the namespace (30 s bound) and returns its output whatever its exit
    /// status; `Err` only if it could not start or hung.
    pub fn exec(&self, argv: &[&str]) -> Result<Output> {
        process::run(&self.tool_spec(argv))
    }

    /// Runs `argv` inside the namespace and returns its stdout; a non-zero exit is an error
    /// that carries stderr.
    pub fn exec_ok(&self, argv: &[&str]) -> Result<String> {
        let spec = self.tool_spec(argv);
        checked(&spec, process::run(&spec)?)
    }

    /// Starts `argv` inside the namespace in the background (a listener, a tcpdump). It is
    /// stopped when the returned guard is dropped or [`Background::stop`]ped.
    pub fn spawn(&self, argv: &[&str]) -> Result<Background> {
        Background::start(&self.tool_spec(argv))
    }

    /// `ip ARGS` inside the namespace: the raw escape hatch. Returns stdout.
    pub fn ip(&self, args: &[&str]) -> Result<String> {
        self.exec_ok(&self.iproute_argv("ip", None, args))
    }

    /// `bridge ARGS` inside the namespace. Returns stdout.
    pub fn bridge(&self, args: &[&str]) -> Result<String> {
        self.exec_ok(&self.iproute_argv("bridge", None, args))
    }

    /// `nft ARGS` inside the namespace. Returns stdout.
    pub fn nft(&self, args: &[&str]) -> Result<String> {
        let mut argv = vec!["nft"];
        argv.extend_from_slice(args);
        self.exec_ok(&argv)
    }

    /// Runs `tool -j ARGS` and parses its JSON. iproute2 prints nothing at all (not `[]`) for
    /// some empty dumps, so empty output parses as an empty array.
    pub(crate) fn json<T: DeserializeOwned>(&self, tool: &str, args: &[&str]) -> Result<T> {
        let argv = self.iproute_argv(tool, Some("-j"), args);
        let spec = self.tool_spec(&argv);
        let out = checked(&spec, process::run(&spec)?)?;
        let text = if out.trim().is_empty() { "[]" } else { &out };
        serde_json::from_str(text).map_err(|e| SandboxError::Parse {
            cmd: spec.display(),
            detail: format!("{e}; output was: {out}"),
        })
    }

    /// Runs `f` on a fresh thread that has entered this namespace, and returns its value. The
    /// thread exits afterwards, so the namespace never leaks into other work. A panic in `f`
    /// is propagated.
    pub fn run_on_thread<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T> {
        let file = self.file()?;
        let joined = thread::scope(|s| {
            s.spawn(|| {
                process::enter_netns(file.as_raw_fd())
                    .map_err(|e| SandboxError::io("setns into", &self.path, e))?;
                Ok(f())
            })
            .join()
        });
        joined.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    /// Reads a sysctl as seen inside this namespace, trimmed. `key` is dotted
    /// (`net.ipv4.ip_forward`) or slashed (`net/ipv4/conf/br0.100/forwarding`, for names
    /// with dots).
    pub fn sysctl(&self, key: &str) -> Result<String> {
        let path = sysctl_path(key)?;
        // /proc/sys/net resolves against the *reading thread's* namespace, hence the thread.
        self.run_on_thread(|| std::fs::read_to_string(&path))?
            .map(|s| s.trim().to_owned())
            .map_err(|e| SandboxError::io("read sysctl", sysctl_display(key, self), e))
    }

    /// Writes a sysctl inside this namespace only (never the root namespace).
    pub fn set_sysctl(&self, key: &str, value: &str) -> Result<()> {
        let path = sysctl_path(key)?;
        self.run_on_thread(|| std::fs::write(&path, value))?
            .map_err(|e| SandboxError::io("write sysctl", sysctl_display(key, self), e))
    }

    /// `ip link set DEV up`.
    pub fn link_up(&self, dev: &str) -> Result<()> {
        self.ip(&["link", "set", "dev", dev, "up"]).map(drop)
    }

    /// `ip addr add CIDR dev DEV`. IPv6 addresses get `nodad`: harness addresses must be usable
    /// at once, and DAD would keep them tentative (unusable as a source) for about a second.
    pub fn add_addr(&self, dev: &str, cidr: &str) -> Result<()> {
        let net: ipnetwork::IpNetwork = cidr
            .parse()
            .map_err(|e| SandboxError::invalid("address", format!("{cidr:?}: {e}")))?;
        let mut args = vec!["addr", "add", cidr, "dev", dev];
        if net.is_ipv6() {
            args.push("nodad");
        }
        self.ip(&args).map(drop)
    }

    /// Sets or clears hairpin (reflective relay) on bridge port `port`, as `bridge link set`
    /// does; VEPA macvlan tests need it on the switch port.
    pub fn set_hairpin(&self, port: &str, on: bool) -> Result<()> {
        let flag = if on { "on" } else { "off" };
        self.bridge(&["link", "set", "dev", port, "hairpin", flag])
            .map(drop)
    }

    /// `TOOL -n NAME [OPT] ARGS`. The child already runs inside the namespace; naming it to
    /// iproute2 as well is belt and braces: if entering ever broke, `ip link add` and
    /// `ip addr add` would otherwise land in the root namespace, on the machine's own eth0.
    fn iproute_argv<'a>(
        &'a self,
        tool: &'a str,
        opt: Option<&'a str>,
        args: &[&'a str],
    ) -> Vec<&'a str> {
        let mut argv = vec![tool, "-n", self.name.as_str()];
        argv.extend(opt);
        argv.extend_from_slice(args);
        argv
    }

    fn tool_spec<'a>(&'a self, argv: &[&str]) -> Spec<'a> {
        Spec {
            argv: argv.iter().map(OsString::from).collect(),
            netns: Some(&self.path),
            env: Spec::tool_env(),
            stdin: &[],
            timeout: process::TOOL_TIMEOUT,
        }
    }
}

/// Turns a finished run into its stdout, or an error carrying stderr.
fn checked(spec: &Spec<'_>, out: Output) -> Result<String> {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        return Ok(stdout);
    }
    Err(SandboxError::Command {
        cmd: spec.display(),
        status: out.status.to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        stdout: stdout.trim().to_owned(),
    })
}

/// Runs a tool in the caller's (root) namespace. Only `ip netns add/delete` use this.
fn root_tool(argv: &[&str]) -> Result<String> {
    let spec = Spec {
        argv: argv.iter().map(OsString::from).collect(),
        netns: None,
        env: Spec::tool_env(),
        stdin: &[],
        timeout: process::TOOL_TIMEOUT,
    };
    checked(&spec, process::run(&spec)?)
}

/// `/proc/sys/<key>`, refusing keys that could climb out of /proc/sys.
fn sysctl_path(key: &str) -> Result<PathBuf> {
    let rel = if key.contains('/') {
        key.to_owned()
    } else {
        key.replace('.', "/")
    };
    let climbs = rel
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..");
    if climbs {
        return Err(SandboxError::invalid("sysctl key", format!("{key:?}")));
    }
    Ok(Path::new("/proc/sys").join(rel))
}

fn sysctl_display(key: &str, ns: &Ns) -> PathBuf {
    PathBuf::from(format!("{key} in {}", ns.name))
}

/// Names of namespaces under /run/netns left by test processes that no longer exist.
pub(crate) fn stale_namespaces() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(NETNS_DIR) else {
        return Vec::new(); // no /run/netns yet: nothing can be stale
    };
    entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| names::owner_is_dead(n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_keys_map_into_proc_sys_only() {
        assert_eq!(
            sysctl_path("net.ipv4.ip_forward").unwrap(),
            Path::new("/proc/sys/net/ipv4/ip_forward")
        );
        assert_eq!(
            sysctl_path("net/ipv4/conf/br0.100/forwarding").unwrap(),
            Path::new("/proc/sys/net/ipv4/conf/br0.100/forwarding")
        );
        for bad in ["", "net/../../etc", "/etc/passwd", "net..x"] {
            assert!(sysctl_path(bad).is_err(), "{bad:?}");
        }
    }
}
