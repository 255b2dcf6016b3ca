//! Network sysctls (`/proc/sys/net/...`), read and written inside a chosen namespace.
//!
//! A `/proc/sys/net` path resolves against the network namespace of the thread that opens it,
//! so [`Netns::sysctl_write`] runs the write inside the namespace with [`Netns::run`] (in place
//! when the caller already is there, else on a short-lived thread); the functions without a
//! `Netns` act on the calling thread's namespace.
//! Only keys under `net/` are accepted: the others are not per-namespace, and writing one "in a
//! pod" would change the whole node.

use std::fs;
use std::io::{self, Write};

use crate::error::{Error, Result};
use crate::netns::Netns;

/// A key under `/proc/sys/net`, e.g. `net/ipv4/conf/eth0/arp_notify`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SysctlKey(String);

impl SysctlKey {
    /// A key from its slash-separated path relative to `/proc/sys`. It must start with `net/`
    /// and contain no empty, `.` or `..` components.
    pub fn new(path: &str) -> Result<SysctlKey> {
        let invalid = |detail: &str| Error::InvalidArgument {
            op: format!("use sysctl {path:?}"),
            detail: detail.to_string(),
        };
        if !path.starts_with("net/") {
            return Err(invalid("only keys under net/ are per network namespace"));
        }
        if path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(invalid("empty, '.' or '..' path component"));
        }
        Ok(SysctlKey(path.to_string()))
    }

    /// `net/ipv4/conf/<ifname>/<leaf>`, e.g. `arp_notify`.
    pub fn ipv4_conf(ifname: &str, leaf: &str) -> Result<SysctlKey> {
        Self::per_interface("ipv4", ifname, leaf)
    }

    /// `net/ipv6/conf/<ifname>/<leaf>`, e.g. `accept_dad`.
    pub fn ipv6_conf(ifname: &str, leaf: &str) -> Result<SysctlKey> {
        Self::per_interface("ipv6", ifname, leaf)
    }

    fn per_interface(family: &str, ifname: &str, leaf: &str) -> Result<SysctlKey> {
        // An interface name may contain '.' (br0.100) but not '/'; in /proc it appears as is.
        if ifname.contains('/') || leaf.contains('/') {
            return Err(Error::InvalidArgument {
                op: format!("use sysctl net/{family}/conf/{ifname}/{leaf}"),
                detail: "'/' in interface name or key".into(),
            });
        }
        Self::new(&format!("net/{family}/conf/{ifname}/{leaf}"))
    }

    /// The path relative to `/proc/sys`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn file(&self) -> String {
        format!("/proc/sys/{}", self.0)
    }
}

impl std::fmt::Display for SysctlKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads a key in the calling thread's namespace, without the trailing newline.
pub fn read(key: &SysctlKey) -> io::Result<String> {
    Ok(fs::read_to_string(key.file())?.trim_end().to_string())
}

/// Writes a key in the calling thread's namespace unless it already holds `value` (compared
/// ignoring whitespace runs, as multi-value keys are tab-separated). Returns whether it wrote.
pub fn write(key: &SysctlKey, value: &str) -> io::Result<bool> {
    let current = read(key)?;
    if current.split_whitespace().eq(value.split_whitespace()) {
        return Ok(false);
    }
    fs::write(key.file(), value)?;
    Ok(true)
}

/// Writes a key in the calling thread's namespace without reading it first. For keys of an
/// interface the caller just created, which hold the kernel's default: one `/proc/sys` open
/// instead of two (issue 8). Writing a value a key already holds is harmless but, for some
/// keys, not free, so keys that may already be set go through [`write()`].
pub fn set(key: &SysctlKey, value: &str) -> io::Result<()> {
    fs::OpenOptions::new()
        .write(true)
        .open(key.file())?
        .write_all(value.as_bytes())
}

impl Netns {
    /// Writes a key inside this namespace without reading it first (see [`set`]).
    pub fn sysctl_set(&self, key: &SysctlKey, value: &str) -> Result<()> {
        self.run(|| set(key, value))?
            .map_err(|source| self.sysctl_error("write", key, source))
    }

    /// Reads a key inside this namespace.
    pub fn sysctl_read(&self, key: &SysctlKey) -> Result<String> {
        self.run(|| read(key))?
            .map_err(|source| self.sysctl_error("read", key, source))
    }

    /// Writes a key inside this namespace unless it already holds `value`; returns whether it
    /// wrote.
    pub fn sysctl_write(&self, key: &SysctlKey, value: &str) -> Result<bool> {
        self.run(|| write(key, value))?
            .map_err(|source| self.sysctl_error("write", key, source))
    }

    /// Writes several keys on one helper thread, in order, stopping at the first failure.
    pub fn sysctl_write_all(&self, settings: &[(SysctlKey, &str)]) -> Result<()> {
        self.run(|| {
            for (key, value) in settings {
                write(key, value).map_err(|source| self.sysctl_error("write", key, source))?;
            }
            Ok(())
        })?
    }

    fn sysctl_error(&self, action: &'static str, key: &SysctlKey, source: io::Error) -> Error {
        Error::Sysctl {
            action,
            key: key.0.clone(),
            netns: self.path().to_string(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_under_net() {
        assert!(SysctlKey::new("net/ipv4/ip_forward").is_ok());
        assert_eq!(
            SysctlKey::ipv6_conf("br0.100", "accept_dad")
                .map(|k| k.0)
                .ok()
                .as_deref(),
            Some("net/ipv6/conf/br0.100/accept_dad")
        );
        for bad in [
            "kernel/hostname",
            "net/../kernel/x",
            "net//x",
            "/net/ipv4/ip_forward",
            "net/./x",
        ] {
            assert!(SysctlKey::new(bad).is_err(), "{bad}");
        }
        assert!(SysctlKey::ipv4_conf("../../kernel", "x").is_err());
    }
}
