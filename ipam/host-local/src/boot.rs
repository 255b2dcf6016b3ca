//! Boot stamps: which boot of the kernel a reservation was made in.
//!
//! No pod survives a reboot, yet the reference's store does, so every reservation made before
//! a crash or reboot whose DEL never ran blocks its address forever (plugins #252, k3s #5885,
//! multus #1087). The kernel gives each boot a random UUID (`/proc/sys/kernel/random/boot_id`).
//! We stamp it on each reservation as the user xattr `user.cni.boot_id`, set on the temporary
//! file before it is published, so a reservation is either absent or complete with its stamp.
//!
//! The rule built on it (applied in `store`): a stamp that differs from the current boot id
//! marks a reservation of an earlier boot, which is stale. No stamp (the reference wrote it, or
//! the filesystem has no user xattrs) means "unknown", never stale: a reservation of the current
//! boot is never reclaimed by this rule.
//!
//! Not here: when the rule runs (`store::Locked::repair`).

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The xattr holding the stamp. `user.` xattrs need no privilege and are copied by `link(2)`
/// (same inode), which is what makes the stamp part of the atomic publish.
pub const XATTR: &CStr = c"user.cni.boot_id";

/// Where the kernel publishes the current boot's id.
const BOOT_ID_PATH: &str = "/proc/sys/kernel/random/boot_id";

/// A boot id: the 36-character UUID text the kernel prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootId(String);

impl BootId {
    /// The running kernel's boot id; `None` if `/proc` does not provide one (then nothing is
    /// stamped and nothing is reclaimed as stale).
    pub fn current() -> Option<BootId> {
        std::fs::read_to_string(BOOT_ID_PATH)
            .ok()
            .and_then(|text| BootId::parse(text.trim()))
    }

    /// Accepts only UUID-shaped text, so a damaged stamp is never mistaken for a boot.
    pub fn parse(text: &str) -> Option<BootId> {
        let ok = text.len() == 36
            && text.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_hexdigit(),
            });
        ok.then(|| BootId(text.to_ascii_lowercase()))
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Stamps an open file. Returns false (and stamps nothing) if the filesystem does not support
/// user xattrs: such reservations then behave exactly like the reference's.
pub fn stamp(fd: BorrowedFd<'_>, boot: &BootId) -> io::Result<bool> {
    let value = boot.as_str().as_bytes();
    // SAFETY: `fd` is a live descriptor for the duration of the call; XATTR is NUL-terminated;
    // `value` points to `value.len()` initialised bytes that the kernel only reads.
    let rc = unsafe {
        libc::fsetxattr(
            fd.as_raw_fd(),
            XATTR.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    if unsupported(&err) {
        Ok(false)
    } else {
        Err(err)
    }
}

/// What the stamp of a reservation says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// No stamp (reference-made, or no xattr support): never stale by boot.
    Missing,
    /// A well-formed boot id.
    Boot(BootId),
    /// An xattr that is not a boot id: treated like a missing stamp, never reclaimed.
    Garbled,
}

impl Stamp {
    /// True if the reservation was certainly made in another boot than `current`.
    pub fn is_other_boot(&self, current: &BootId) -> bool {
        matches!(self, Stamp::Boot(b) if b != current)
    }
}

/// Reads the stamp of an open file.
pub fn read_stamp(fd: BorrowedFd<'_>) -> io::Result<Stamp> {
    let mut buf = [0u8; 64];
    // SAFETY: `fd` is live; XATTR is NUL-terminated; the kernel writes at most `buf.len()`
    // bytes into `buf`, which we own for the duration of the call.
    let n = unsafe {
        libc::fgetxattr(
            fd.as_raw_fd(),
            XATTR.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    let Ok(len) = usize::try_from(n) else {
        let err = io::Error::last_os_error();
        return match err.raw_os_error() {
            Some(libc::ENODATA) => Ok(Stamp::Missing),
            Some(libc::ERANGE) => Ok(Stamp::Garbled),
            _ if unsupported(&err) => Ok(Stamp::Missing),
            _ => Err(err),
        };
    };
    let parsed = std::str::from_utf8(&buf[..len])
        .ok()
        .and_then(BootId::parse);
    Ok(parsed.map_or(Stamp::Garbled, Stamp::Boot))
}

/// True for the errors a filesystem without user xattrs returns.
fn unsupported(err: &io::Error) -> bool {
    // ENOTSUP and EOPNOTSUPP are the same number on Linux.
    err.raw_os_error() == Some(libc::EOPNOTSUPP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_boot_id_is_readable_here() {
        let id = BootId::current().expect("Linux provides a boot id");
        assert_eq!(id.as_str().len(), 36);
    }

    #[test]
    fn only_uuid_text_is_a_boot_id() {
        assert!(BootId::parse("98335292-eac5-4a35-b10e-bd15e7f4fea7").is_some());
        assert_eq!(
            BootId::parse("98335292-EAC5-4a35-b10e-bd15e7f4fea7").map(|b| b.0),
            Some("98335292-eac5-4a35-b10e-bd15e7f4fea7".to_owned())
        );
        for bad in [
            "",
            "x",
            "98335292eac54a35b10ebd15e7f4fea7",
            "98335292-eac5-4a35-b10e-bd15e7f4fea",
            "g8335292-eac5-4a35-b10e-bd15e7f4fea7",
        ] {
            assert!(BootId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn stamp_round_trips_on_a_real_file() {
        let dir = crate::testutil::TempDir::new("boot");
        let path = dir.path().join("f");
        let file = std::fs::File::create(&path).expect("file");
        use std::os::fd::AsFd;
        assert_eq!(read_stamp(file.as_fd()).expect("read"), Stamp::Missing);
        let boot = BootId::parse("11111111-2222-3333-4444-555555555555").expect("id");
        let stamped = stamp(file.as_fd(), &boot).expect("stamp");
        if stamped {
            let got = read_stamp(file.as_fd()).expect("read");
            assert_eq!(got, Stamp::Boot(boot.clone()));
            assert!(!got.is_other_boot(&boot));
            let now = BootId::current().expect("boot id");
            assert!(got.is_other_boot(&now));
            assert!(!Stamp::Missing.is_other_boot(&now));
            assert!(!Stamp::Garbled.is_other_boot(&now));
        }
    }
}
