//! Where a store may live: on the PC's own disk. SQLite's locks do not hold on network
//! filesystems (SMB shares, NFS), and WAL needs shared memory that only one machine can
//! give, so a store opened there by two PCs is damaged sooner or later. Such a file is
//! refused before it is opened.

use std::path::Path;

use crate::{Result, StoreError};

/// Refuses `path` when its folder is on a network filesystem (Linux) or a network drive
/// or share (Windows); elsewhere the check is not made.
pub(crate) fn refuse_network_path(path: &Path) -> Result<()> {
    match filesystem_of(path) {
        Some(filesystem) => Err(StoreError::NetworkPath {
            path: path.display().to_string(),
            filesystem,
        }),
        None => Ok(()),
    }
}

/// The network filesystem `path`'s folder is on, if it is on one.
#[cfg(target_os = "linux")]
fn filesystem_of(path: &Path) -> Option<&'static str> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    // A folder that cannot be examined is left to the open, which says what is wrong.
    let stat = rustix::fs::statfs(folder).ok()?;
    #[allow(clippy::unnecessary_cast)] // its width differs between targets
    network_filesystem(stat.f_type as i64)
}

/// On Windows: a share by its UNC name (`\\server\share`), or a drive letter Windows says
/// is a network drive (`GetDriveTypeW`).
#[cfg(windows)]
fn filesystem_of(path: &Path) -> Option<&'static str> {
    use std::os::windows::ffi::OsStrExt;
    use std::path::{Component, Prefix};
    use windows_sys::Win32::Storage::FileSystem::GetDriveTypeW;
    use windows_sys::Win32::System::WindowsProgramming::DRIVE_REMOTE;
    let absolute = std::path::absolute(path).ok()?;
    let Some(Component::Prefix(prefix)) = absolute.components().next() else {
        return None;
    };
    let letter = match prefix.kind() {
        Prefix::UNC(..) | Prefix::VerbatimUNC(..) => return Some("a Windows share (UNC path)"),
        Prefix::Disk(letter) | Prefix::VerbatimDisk(letter) => letter,
        _ => return None,
    };
    let root: Vec<u16> = std::ffi::OsStr::new(&format!("{}:\\", char::from(letter)))
        .encode_wide()
        .chain(Some(0))
        .collect();
    // SAFETY: a NUL-terminated UTF-16 string that lives across the call.
    let kind = unsafe { GetDriveTypeW(root.as_ptr()) };
    (kind == DRIVE_REMOTE).then_some("a network drive")
}

#[cfg(not(any(target_os = "linux", windows)))]
fn filesystem_of(_path: &Path) -> Option<&'static str> {
    None
}

/// Names the network filesystems among `statfs`'s filesystem types (linux/magic.h).
pub fn network_filesystem(f_type: i64) -> Option<&'static str> {
    match f_type {
        0x6969 => Some("NFS"),
        0x517B => Some("SMB"),
        0xFF53_4D42 => Some("CIFS (a Windows share)"),
        0xFE53_4D42 => Some("SMB2 (a Windows share)"),
        // WSL's Windows drives and virtual machines' shared folders.
        0x0102_1997 => Some("9P (a shared folder)"),
        0x5346_414F | 0x6B41_4653 => Some("AFS"),
        0x00C3_6400 => Some("Ceph"),
        0x7375_7245 => Some("Coda"),
        _ => None,
    }
}
