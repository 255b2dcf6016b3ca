//! Putting one file into a locked directory so that its final name only ever shows a whole
//! file: the old one, or the new one.
//!
//! How: the new content goes to a temp file in the same directory (same filesystem, so the
//! rename is atomic), is given its mode, fsync'ed, then renamed over the final name, and the
//! directory is fsync'ed. Never an in-place copy: opening a running binary for writing fails
//! with `ETXTBSY` ("text file busy", calico #8932), and a half-written binary would be exec'ed
//! by the next pod (multus PR #242). A rename leaves a running process on the old inode,
//! untouched. Identical files are not rewritten at all, so a re-run changes nothing on disk.
//! Not here: which files to publish (`install`).

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::dir::LockedDir;
use crate::error::{Error, Result};

/// What publishing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The name did not exist.
    Installed,
    /// The name held exactly this content and mode; nothing was written.
    Unchanged,
    /// The name held something else (other bytes, another mode, a symlink); it was replaced.
    Updated,
}

/// Publishes the content of `src` as `name` in `dir`, with `mode`.
pub fn publish(dir: &LockedDir, name: &str, src: &Path, mode: u32) -> Result<Outcome> {
    let dest = dir.path().join(name);
    let existed = match same_content(src, &dest, mode)? {
        Existing::Same => return Ok(Outcome::Unchanged),
        Existing::Absent => false,
        Existing::Different => true,
    };
    let temp = write_temp(dir, name, src, mode)?;
    fs::rename(&temp.path, &dest).map_err(|e| Error::io("rename into place", &dest, e))?;
    temp.disarm();
    dir.sync()?;
    Ok(if existed {
        Outcome::Updated
    } else {
        Outcome::Installed
    })
}

/// What is at the destination now.
enum Existing {
    Absent,
    Same,
    Different,
}

/// Compares without writing. A symlink at the destination counts as different: it is
/// replaced by a file rather than written through (it may point into a package's files).
fn same_content(src: &Path, dest: &Path, mode: u32) -> Result<Existing> {
    let meta = match fs::symlink_metadata(dest) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Existing::Absent),
        Err(e) => return Err(Error::io("stat", dest, e)),
    };
    let src_len = fs::metadata(src)
        .map_err(|e| Error::io("stat", src, e))?
        .len();
    if !meta.is_file() || meta.len() != src_len || meta.permissions().mode() & 0o7777 != mode {
        return Ok(Existing::Different);
    }
    let mut a = File::open(src).map_err(|e| Error::io("read", src, e))?;
    let mut b = File::open(dest).map_err(|e| Error::io("read", dest, e))?;
    let (mut buf_a, mut buf_b) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = read_full(&mut a, &mut buf_a).map_err(|e| Error::io("read", src, e))?;
        let m = read_full(&mut b, &mut buf_b).map_err(|e| Error::io("read", dest, e))?;
        if n != m || buf_a[..n] != buf_b[..m] {
            return Ok(Existing::Different);
        }
        if n == 0 {
            return Ok(Existing::Same);
        }
    }
}

/// Reads until `buf` is full or the file ends.
fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A temp file that is removed unless it was renamed into place.
struct TempFile {
    path: std::path::PathBuf,
    armed: bool,
}

impl TempFile {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: if this fails too, the next run's sweep removes it.
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Writes the complete new content, with its final mode, durably, under the temp name.
fn write_temp(dir: &LockedDir, name: &str, src: &Path, mode: u32) -> Result<TempFile> {
    let path = dir.temp_path(name);
    // 0600 until complete, so nothing can exec or read a partial file even by its temp name.
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| Error::io("create", &path, e))?;
    let temp = TempFile { path, armed: true };
    let mut input = File::open(src).map_err(|e| Error::io("read", src, e))?;
    io::copy(&mut input, &mut out).map_err(|e| Error::io("copy to", &temp.path, e))?;
    out.set_permissions(Permissions::from_mode(mode))
        .map_err(|e| Error::io("chmod", &temp.path, e))?;
    out.sync_all()
        .map_err(|e| Error::io("fsync", &temp.path, e))?;
    Ok(temp)
}
