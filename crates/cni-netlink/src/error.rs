//! The crate's error type.
//!
//! Every failure keeps what a caller needs to decide (the errno, as a value) and what a human needs
//! to understand it (the operation, the namespace, and the kernel's own extended-ACK message when it
//! sent one), e.g. `create veth "eth0" in /run/netns/x: File exists (EEXIST)`.
//! Mapping these errors to CNI error codes is not done here; that happens once, in the plugins.

use std::io;

use nix::errno::Errno;

use crate::netns::NetnsError;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kernel refused a request (an `NLMSG_ERROR` with a negative code, or a failed dump).
    #[error("{op} in {netns}: {}", describe_errno(*errno, message.as_deref()))]
    Kernel {
        /// What was being done, e.g. `create veth "eth0"`.
        op: String,
        /// The namespace the socket lives in.
        netns: String,
        /// The positive errno the kernel returned.
        errno: i32,
        /// The kernel's extended-ACK text, when it gave one (e.g. "Nexthop device is not up").
        message: Option<String>,
    },
    /// A socket system call failed (socket, bind, send, receive).
    #[error("{op} in {netns}: {source}")]
    Io {
        /// What was being done.
        op: String,
        /// The namespace the socket lives in.
        netns: String,
        /// The system call's error.
        #[source]
        source: io::Error,
    },
    /// A reply from the kernel could not be decoded.
    #[error("{op} in {netns}: cannot decode the kernel's reply: {detail}")]
    Decode {
        /// What was being done.
        op: String,
        /// The namespace the socket lives in.
        netns: String,
        /// The decoder's explanation.
        detail: String,
    },
    /// The reply broke the request/reply protocol (truncated, overrun), or a dump stayed
    /// inconsistent (`NLM_F_DUMP_INTR`) through every retry.
    #[error("{op} in {netns}: {detail}")]
    Protocol {
        /// What was being done.
        op: String,
        /// The namespace the socket lives in.
        netns: String,
        /// What was wrong with the reply.
        detail: String,
    },
    /// A network namespace could not be opened or entered.
    #[error(transparent)]
    Netns(#[from] NetnsError),
    /// A key under `/proc/sys` could not be read or written.
    #[error("{action} sysctl {key} in {netns}: {source}")]
    Sysctl {
        /// `read` or `write`.
        action: &'static str,
        /// The key, relative to `/proc/sys` (e.g. `net/ipv4/conf/eth0/arp_notify`).
        key: String,
        /// The namespace the key was resolved in.
        netns: String,
        /// The file system error.
        #[source]
        source: io::Error,
    },
    /// The caller asked for something that cannot be expressed in a request (checked before
    /// anything is sent, so nothing changed).
    #[error("{op}: {detail}")]
    InvalidArgument {
        /// What was being attempted.
        op: String,
        /// Why it cannot be done.
        detail: String,
    },
}

impl Error {
    /// The errno behind this error, if there is one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel { errno, .. } => Some(*errno),
            Error::Io { source, .. } | Error::Sysctl { source, .. } => source.raw_os_error(),
            Error::Netns(e) => e.errno(),
            Error::Decode { .. } | Error::Protocol { .. } | Error::InvalidArgument { .. } => None,
        }
    }

    /// True when the object being created already exists (`EEXIST`): a bridge another ADD made
    /// a moment ago, an address already present.
    pub fn is_exists(&self) -> bool {
        self.errno() == Some(libc::EEXIST)
    }

    /// True when the object a get, set or delete named does not exist. The kernel says so with
    /// different errnos per object: `ENODEV` (link), `EADDRNOTAVAIL` (address), `ESRCH` (route),
    /// `ENOENT` (neighbour, FDB entry, sysctl file). Meant for DEL paths, which treat a missing
    /// object as already deleted; on a create, `EADDRNOTAVAIL` means something else (e.g. a
    /// multicast MAC), so do not ask this question there.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.errno(),
            Some(libc::ENODEV | libc::ENOENT | libc::ESRCH | libc::EADDRNOTAVAIL)
        ) || matches!(self, Error::Netns(NetnsError::NotFound { .. }))
    }
}

/// `File exists (EEXIST)`, plus the kernel's extended-ACK text when there is one.
pub(crate) fn describe_errno(errno: i32, message: Option<&str>) -> String {
    let e = Errno::from_raw(errno);
    let mut text = format!("{} ({e:?})", e.desc());
    if let Some(m) = message {
        text.push_str(": ");
        text.push_str(m);
    }
    text
}

/// Shorthand used by every module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_error_reads_like_the_brief() {
        let e = Error::Kernel {
            op: r#"create veth "eth0""#.into(),
            netns: "/run/netns/x".into(),
            errno: libc::EEXIST,
            message: None,
        };
        assert_eq!(
            e.to_string(),
            r#"create veth "eth0" in /run/netns/x: File exists (EEXIST)"#
        );
        assert!(e.is_exists());
        assert!(!e.is_not_found());
        assert_eq!(e.errno(), Some(libc::EEXIST));
    }

    #[test]
    fn extended_ack_text_is_appended() {
        let e = Error::Kernel {
            op: "add route 10.10.0.0/16".into(),
            netns: "/run/netns/x".into(),
            errno: libc::ENETDOWN,
            message: Some("Nexthop device is not up".into()),
        };
        assert_eq!(
            e.to_string(),
            "add route 10.10.0.0/16 in /run/netns/x: Network is down (ENETDOWN): Nexthop device is not up"
        );
    }

    #[test]
    fn not_found_covers_each_objects_errno() {
        for errno in [libc::ENODEV, libc::ENOENT, libc::ESRCH, libc::EADDRNOTAVAIL] {
            let e = Error::Kernel {
                op: "x".into(),
                netns: "y".into(),
                errno,
                message: None,
            };
            assert!(e.is_not_found(), "errno {errno}");
        }
    }
}
