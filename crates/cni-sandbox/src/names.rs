//! Names for the namespaces and directories a world creates.
//!
//! A name is `cnisb-<pid>-<serial>-<role>`: the pid keeps concurrent test processes apart
//! (nextest runs one process per test), the process-wide serial keeps threads and repeated
//! calls apart (cargo test runs tests on threads), and the role says what the thing is when
//! a human reads `ip netns list`. The pid also lets a later run recognise leftovers of a run
//! that was killed before its `Drop` could run.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Result, SandboxError};

/// Prefix of everything this crate creates; nothing else is ever swept.
pub(crate) const PREFIX: &str = "cnisb-";

/// Longest role kept in a name; longer roles are refused rather than cut, so two roles
/// cannot collapse into one name.
const MAX_ROLE: usize = 24;

static SERIAL: AtomicU64 = AtomicU64::new(0);

/// A fresh name for `role`, never returned before in this process.
pub(crate) fn unique(role: &str) -> Result<String> {
    check_role(role)?;
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    Ok(format!("{PREFIX}{}-{serial}-{role}", std::process::id()))
}

/// Roles become part of file names under /run/netns and /tmp: keep them tame.
fn check_role(role: &str) -> Result<()> {
    let tame = role
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if role.is_empty() || role.len() > MAX_ROLE || !tame {
        return Err(SandboxError::invalid(
            "role",
            format!("{role:?}: use 1..={MAX_ROLE} of [a-z0-9_-]"),
        ));
    }
    Ok(())
}

/// The pid a name of ours was made by, or `None` if it is not one of ours.
pub(crate) fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, _) = rest.split_once('-')?;
    pid.parse().ok()
}

/// Whether the process that made `name` is gone (so its leftovers may be swept).
pub(crate) fn owner_is_dead(name: &str) -> bool {
    match owner_pid(name) {
        Some(pid) => !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        None => false,
    }
}

/// Checks an interface name the way the kernel does (`dev_valid_name`): 1..=15 bytes,
/// not `.`/`..`, no `/`, `:` or whitespace.
pub(crate) fn check_ifname(name: &str) -> Result<()> {
    let bad_char = name
        .bytes()
        .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace());
    if name.is_empty() || name.len() > 15 || name == "." || name == ".." || bad_char {
        return Err(SandboxError::invalid(
            "interface name",
            format!("{name:?}: the kernel wants 1..=15 bytes without '/', ':' or spaces"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_carry_pid_and_role() {
        let a = unique("node").unwrap();
        let b = unique("node").unwrap();
        assert_ne!(a, b);
        assert!(a.ends_with("-node"));
        assert_eq!(owner_pid(&a), Some(std::process::id()));
        assert!(!owner_is_dead(&a));
    }

    #[test]
    fn bad_roles_are_refused() {
        for role in ["", "Node", "a/b", "a b", "x".repeat(25).as_str()] {
            assert!(unique(role).is_err(), "{role:?}");
        }
    }

    #[test]
    fn foreign_names_are_never_ours() {
        assert_eq!(owner_pid("cni-1234-abc"), None);
        assert_eq!(owner_pid("cnisb-x-1-node"), None);
        assert!(!owner_is_dead("some-other-ns"));
    }

    #[test]
    fn ifnames_follow_kernel_rules() {
        assert!(check_ifname("eth0").is_ok());
        assert!(check_ifname("abcdefghijklmno").is_ok());
        for bad in ["", ".", "..", "abcdefghijklmnop", "a/b", "a:b", "a b"] {
            assert!(check_ifname(bad).is_err(), "{bad:?}");
        }
    }
}
