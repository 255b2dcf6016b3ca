//! The few file operations the store needs, all relative to the store's directory descriptor
//! and all refusing to follow symlinks.
//!
//! Not here: what the files mean (`store`, `entry`).

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use nix::dir::{Dir, Type};
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{FileStat, Mode, SFlag, fstatat, mkdirat};
use nix::unistd::UnlinkatFlags;

use super::entry::Holder;
use crate::boot::{self, BootId};
use crate::error::Error;

/// Reservations are a few dozen bytes; anything larger is not one of ours or the reference's.
const MAX_RESERVATION: usize = 4096;

/// `openat` that never follows a final symlink and never leaks the descriptor to children.
pub fn openat<Fd: AsFd>(dir: Fd, name: &str, flags: OFlag, mode: Mode) -> nix::Result<OwnedFd> {
    nix::fcntl::openat(
        dir,
        name,
        flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        mode,
    )
}

/// Creates the data directory and its missing parents with mode 0700 (existing ones keep
/// their mode) and opens it.
pub fn create_data_dir(path: &Path) -> Result<OwnedFd, Error> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|e| Error::io(format!("create data directory {path:?}"), e))?;
    nix::fcntl::open(
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::errno(format!("open data directory {path:?}"), e))
}

/// Creates (0700) and opens the network directory inside `parent`, refusing a symlink.
pub fn open_network_dir(parent: &OwnedFd, name: &str, path: &Path) -> Result<OwnedFd, Error> {
    match mkdirat(parent, name, Mode::from_bits_truncate(0o700)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(Error::errno(format!("create store directory {path:?}"), e)),
    }
    match openat(
        parent,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY,
        Mode::empty(),
    ) {
        Ok(fd) => Ok(fd),
        Err(Errno::ELOOP | Errno::ENOTDIR) => Err(Error::UnsafeStoreDir(path.to_owned())),
        Err(e) => Err(Error::errno(format!("open store directory {path:?}"), e)),
    }
}

/// What the directory listing (`d_type`) says an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    Regular,
    /// Anything else: symlink, directory, FIFO, device, socket.
    Other,
    /// The filesystem does not say (`DT_UNKNOWN`); a stat must tell.
    Unknown,
}

/// One entry of the directory.
#[derive(Clone, Debug)]
pub struct Listed {
    /// Its name.
    pub name: String,
    /// Its type as listed.
    pub kind: Kind,
    /// Its inode number as listed (`d_ino`).
    pub ino: u64,
}

/// The entries of the directory (without `.` and `..`), skipping names that are not UTF-8
/// (neither we nor the reference ever write such names).
pub fn list(dir: &OwnedFd, path: &Path) -> Result<Vec<Listed>, Error> {
    let what = || format!("list store directory {path:?}");
    let mut handle = Dir::openat(
        dir,
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::errno(what(), e))?;
    let mut listed = Vec::new();
    for entry in handle.iter() {
        let entry = entry.map_err(|e| Error::errno(what(), e))?;
        let Ok(name) = entry.file_name().to_str() else {
            continue;
        };
        if name == "." || name == ".." {
            continue;
        }
        let kind = match entry.file_type() {
            Some(Type::File) => Kind::Regular,
            Some(_) => Kind::Other,
            None => Kind::Unknown,
        };
        listed.push(Listed {
            name: name.to_owned(),
            kind,
            ino: entry.ino(),
        });
    }
    Ok(listed)
}

/// Reads a reservation file listed as `kind`: its holder, and whether its stamp names another
/// boot than `boot`. `None` if it vanished.
///
/// Per file this costs `openat`, one `read` and `close`, plus `fgetxattr` only where the stamp
/// decides something (owner text, with the current boot known: empty or garbled content is
/// stale whatever its stamp, and a foreign entry never is). Anything but a regular file is
/// [`Holder::Foreign`] and is never opened; the listing's `d_type` tells, so no stat is needed
/// except on filesystems that do not fill it.
pub fn read_reservation(
    dir: &OwnedFd,
    name: &str,
    kind: Kind,
    boot: Option<&BootId>,
) -> io::Result<Option<(Holder, bool)>> {
    const FOREIGN: Option<(Holder, bool)> = Some((Holder::Foreign, false));
    let regular = match kind {
        Kind::Regular => true,
        Kind::Other => false,
        Kind::Unknown => match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => is_regular(&st),
            Err(Errno::ENOENT) => return Ok(None),
            Err(e) => return Err(e.into()),
        },
    };
    if !regular {
        return Ok(FOREIGN);
    }
    // No fstat after the open: only root can swap a name in this 0700 directory between the
    // listing and the open, O_NOFOLLOW still refuses a symlink, O_NONBLOCK and O_NOCTTY keep a
    // FIFO or terminal from blocking or attaching, and what such a swap reads as is judged
    // below like any content (nothing is written through it).
    let fd = match openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(None),
        Err(Errno::ELOOP) => return Ok(FOREIGN),
        Err(e) => return Err(e.into()),
    };
    // One read: on a regular file Linux returns everything up to the buffer's size unless the
    // file ends first, so a count below the buffer's size is the whole file.
    let mut buf = [0u8; MAX_RESERVATION + 1];
    let len = loop {
        match nix::unistd::read(&fd, &mut buf) {
            Ok(len) => break len,
            Err(Errno::EINTR) => continue,
            // Not a regular file after all (swapped since the listing).
            Err(Errno::EISDIR | Errno::EAGAIN | Errno::EINVAL) => return Ok(FOREIGN),
            Err(e) => return Err(e.into()),
        }
    };
    if len > MAX_RESERVATION {
        return Ok(FOREIGN);
    }
    let holder = Holder::parse(&buf[..len]);
    let other_boot = match (&holder, boot) {
        (Holder::Text(_), Some(boot)) => boot::read_stamp(fd.as_fd())?.is_other_boot(boot),
        _ => false,
    };
    Ok(Some((holder, other_boot)))
}

/// Reads a small regular file (a cursor); `None` if it is absent, not regular, or a symlink.
pub fn read_small(dir: &OwnedFd, name: &str) -> io::Result<Option<Vec<u8>>> {
    let fd = match openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_NONBLOCK,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::ENOENT | Errno::ELOOP) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let file = File::from(fd);
    if !file.metadata()?.file_type().is_file() {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    file.take(MAX_RESERVATION as u64).read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

/// Creates a new file that did not exist, mode 0600.
pub fn create_exclusive(dir: &OwnedFd, name: &str) -> nix::Result<File> {
    openat(
        dir,
        name,
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL,
        Mode::from_bits_truncate(0o600),
    )
    .map(File::from)
}

/// Writes `content`, then lets `finish` act on the descriptor (the stamp).
pub fn write_all_then<F>(mut file: &File, content: &[u8], finish: F) -> io::Result<()>
where
    F: FnOnce(BorrowedFd<'_>) -> io::Result<()>,
{
    file.write_all(content)?;
    finish(file.as_fd())
}

/// `link(2)` inside the directory; the new name must not exist (EEXIST otherwise).
pub fn link(dir: &OwnedFd, from: &str, to: &str) -> nix::Result<()> {
    link_into(dir, from, dir, to)
}

/// `link(2)` from one directory into another (same filesystem, EXDEV otherwise).
pub fn link_into(from_dir: &OwnedFd, from: &str, to_dir: &OwnedFd, to: &str) -> nix::Result<()> {
    // No AT_SYMLINK_FOLLOW: a symlink source would be linked as the symlink itself, never its
    // target (and our sources are files we just created).
    nix::unistd::linkat(from_dir, from, to_dir, to, AtFlags::empty())
}

/// Opens directory `name` inside `parent`, creating it (0700) if absent; never a symlink.
/// Also says whether this call created it.
pub fn open_or_create_dir(parent: &OwnedFd, name: &str) -> nix::Result<(OwnedFd, bool)> {
    let open = || {
        openat(
            parent,
            name,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY,
            Mode::empty(),
        )
    };
    match open() {
        Err(Errno::ENOENT) => match mkdirat(parent, name, Mode::from_bits_truncate(0o700)) {
            Ok(()) => open().map(|fd| (fd, true)),
            Err(Errno::EEXIST) => open().map(|fd| (fd, false)),
            Err(e) => Err(e),
        },
        other => other.map(|fd| (fd, false)),
    }
}

/// Removes directory `name` inside `parent` with the files in it (one level: the index's
/// directories hold nothing else), or `name` itself if it is not a directory.
pub fn remove_flat_dir(parent: &OwnedFd, name: &str, path: &Path) -> Result<(), Error> {
    let what = || format!("remove {:?}", path.join(name));
    let dir = match openat(
        parent,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY,
        Mode::empty(),
    ) {
        Ok(dir) => dir,
        Err(Errno::ENOENT) => return Ok(()),
        Err(Errno::ELOOP | Errno::ENOTDIR) => {
            return unlink(parent, name).map_err(|e| Error::errno(what(), e));
        }
        Err(e) => return Err(Error::errno(what(), e)),
    };
    for entry in list(&dir, &path.join(name))? {
        match unlink(&dir, &entry.name) {
            Ok(()) | Err(Errno::ENOENT) => {}
            Err(e) => return Err(Error::errno(what(), e)),
        }
    }
    match nix::unistd::unlinkat(parent, name, UnlinkatFlags::RemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(Error::errno(what(), e)),
    }
}

/// True if `a` and `b` are on one filesystem whose listed inode numbers identify a file for as
/// long as it has a name: ext4, xfs and btrfs (never reused while in use, and the same number
/// in every directory). Not tmpfs (32-bit inode numbers can wrap), overlayfs (`d_ino` of a
/// lower layer is another filesystem's), FUSE or network filesystems (numbers are the
/// server's word).
pub fn same_trusted_fs(a: &OwnedFd, b: &OwnedFd) -> bool {
    use nix::sys::statfs::{BTRFS_SUPER_MAGIC, EXT4_SUPER_MAGIC, XFS_SUPER_MAGIC, fstatfs};
    let trusted = fstatfs(b).is_ok_and(|fs| {
        [EXT4_SUPER_MAGIC, XFS_SUPER_MAGIC, BTRFS_SUPER_MAGIC].contains(&fs.filesystem_type())
    });
    // btrfs subvolumes and bind mounts of other filesystems show as another device.
    let same = match (nix::sys::stat::fstat(a), nix::sys::stat::fstat(b)) {
        (Ok(x), Ok(y)) => x.st_dev == y.st_dev,
        _ => false,
    };
    trusted && same
}

/// `rename(2)` inside the directory, replacing `to` (even a symlink, which is not followed).
pub fn rename(dir: &OwnedFd, from: &str, to: &str) -> nix::Result<()> {
    nix::fcntl::renameat(dir, from, dir, to)
}

/// `unlink(2)` of a name inside the directory.
pub fn unlink(dir: &OwnedFd, name: &str) -> nix::Result<()> {
    nix::unistd::unlinkat(dir, name, UnlinkatFlags::NoRemoveDir)
}

fn is_regular(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG
}
