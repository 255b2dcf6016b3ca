//! The validated names in the `CNI_*` environment: container ID, interface name, netns path.
//!
//! A value of these types is valid by construction; the rules and messages are libcni's
//! (`ValidateContainerID`, `ValidateInterfaceName`).

use std::fmt;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use crate::CniError;
use crate::error::Error;

/// A container ID matching `^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$` (libcni's regex; uppercase allowed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerId(String);

impl ContainerId {
    /// Validates `s`; bad characters -> code 4 `invalid characters in containerID`.
    pub fn parse(s: &str) -> Result<ContainerId, CniError> {
        if is_cni_name(s) {
            Ok(ContainerId(s.to_owned()))
        } else {
            Err(Error::InvalidContainerId(s.to_owned()).into())
        }
    }

    /// The ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The character rule shared by container IDs and network names.
pub(crate) fn is_cni_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
    first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// An interface name the kernel accepts: 1-15 bytes, not `.`/`..`, no `/`, `:` or whitespace
/// (`dev_valid_name()` in net/core/dev.c; Go's `ValidateInterfaceName`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfName(String);

/// `IFNAMSIZ` (16) minus the terminating NUL.
const MAX_IFNAME_LEN: usize = 15;

impl IfName {
    /// Validates `s`; every problem is code 4 with Go's message.
    pub fn parse(s: &str) -> Result<IfName, CniError> {
        let bad = |reason: &'static str, details: String| -> CniError {
            Error::InvalidIfName { reason, details }.into()
        };
        if s.is_empty() {
            return Err(bad("interface name is empty", String::new()));
        }
        if s.len() > MAX_IFNAME_LEN {
            let details = format!(
                "interface name should be less than {} characters",
                MAX_IFNAME_LEN + 1
            );
            return Err(bad("interface name is too long", details));
        }
        if s == "." || s == ".." {
            return Err(bad("interface name is . or ..", String::new()));
        }
        if s.chars().any(|c| c == '/' || c == ':' || c.is_whitespace()) {
            let reason = "interface name contains / or : or whitespace characters";
            return Err(bad(reason, String::new()));
        }
        Ok(IfName(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A non-empty `CNI_NETNS` path. Whether it is really a netns is the netlink crate's question.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NetnsPath(PathBuf);

impl NetnsPath {
    /// `None` for an empty path (libcni sends `CNI_NETNS=` when it has none).
    pub fn new(path: impl Into<PathBuf>) -> Option<NetnsPath> {
        let path = path.into();
        (!path.as_os_str().is_empty()).then_some(NetnsPath(path))
    }
}

impl Deref for NetnsPath {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for NetnsPath {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
display_as_str!(ContainerId, IfName);
