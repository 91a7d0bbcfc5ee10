//! Files that must not be lost half-written: a card's file, a key, the workstation's
//! journal, a backup. Each is written whole under another name, flushed to the disk, and
//! moved into place in one step that is itself made durable, so a power cut leaves the old
//! file or the new one, never a mix.
//!
//! Linux makes a rename durable by flushing the folder that holds it; Windows refuses to
//! open a folder as a file ("Access denied", os error 5), and instead moves with
//! `MoveFileExW(MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)` after
//! `FlushFileBuffers` (what `File::sync_all` does there). Every durable write of Kartika
//! goes through here, so the difference is written once.
//!
//! **Invariant:** no I/O beyond the files named; no folder is ever opened as a file on
//! Windows.
#![deny(missing_docs)]

mod access;

pub use access::{is_owner_only, restrict_to_owner};

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Who may read a file written here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readers {
    /// Its owner only (a key, a secret, health data): mode 0600 on Unix, an access list of
    /// its own on Windows ([`restrict_to_owner`]).
    Owner,
    /// Whoever may read the folder.
    Anyone,
}

fn options(readers: Readers) -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    if readers == Readers::Owner {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = readers;
    options
}

/// Unix gave the file its mode as it was made; Windows needs its access list set after.
fn close_to_others(path: &Path, readers: Readers) -> io::Result<()> {
    if cfg!(windows) && readers == Readers::Owner {
        restrict_to_owner(path)?;
    }
    Ok(())
}

/// The name a file is written under before it is moved into place: beside it, so the
/// move never crosses a disk, and named for this process, so two never share it.
fn staging_for(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.new", std::process::id()))
}

/// Replaces (or creates) `path` with `bytes`, durably: the old content or the new survives
/// a power cut, never part of either.
pub fn replace(path: &Path, bytes: &[u8], readers: Readers) -> io::Result<()> {
    let staging = staging_for(path);
    let written = options(readers)
        .create(true)
        .truncate(true)
        .open(&staging)
        .and_then(|mut file| {
            close_to_others(&staging, readers)?;
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| move_into_place(&staging, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&staging);
    }
    written
}

/// Creates `path`, which must not exist yet (a key is never overwritten), with `bytes`,
/// durably.
pub fn create_new(path: &Path, bytes: &[u8], readers: Readers) -> io::Result<()> {
    let mut file = options(readers).create_new(true).open(path)?;
    close_to_others(path, readers)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    flush_folder_of(path)
}

/// Moves `staging`, a whole file written by the caller, to `path` durably: the file is
/// flushed first, then moved in one step (replacing what was there).
pub fn publish(staging: &Path, path: &Path) -> io::Result<()> {
    File::options().write(true).open(staging)?.sync_all()?;
    move_into_place(staging, path)
}

#[cfg(not(windows))]
fn move_into_place(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::rename(from, to)?;
    flush_folder_of(to)
}

/// The folder's entry for `path` reaches the disk (a rename, a new file).
#[cfg(not(windows))]
fn flush_folder_of(path: &Path) -> io::Result<()> {
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    File::open(folder)?.sync_all()
}

#[cfg(windows)]
fn move_into_place(from: &Path, to: &Path) -> io::Result<()> {
    use std::os::windows::ffi::OsStrExt;
    use windows_sys::Win32::Storage::FileSystem::{
        MoveFileExW, MOVEFILE_REPLACE_EXISTING, MOVEFILE_WRITE_THROUGH,
    };
    let wide = |p: &Path| -> Vec<u16> { p.as_os_str().encode_wide().chain(Some(0)).collect() };
    let (from, to) = (wide(from), wide(to));
    // SAFETY: both are NUL-terminated UTF-16 strings that live across the call.
    let moved = unsafe {
        MoveFileExW(
            from.as_ptr(),
            to.as_ptr(),
            MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH,
        )
    };
    if moved == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// NTFS journals a new folder entry itself; the file was flushed before.
#[cfg(windows)]
fn flush_folder_of(_path: &Path) -> io::Result<()> {
    Ok(())
}
