//! Where a store may live: on the PC's own disk. SQLite's locks do not hold on network
//! filesystems (SMB shares, NFS), and WAL needs shared memory that only one machine can
//! give, so a store opened there by two PCs is damaged sooner or later. Such a file is
//! refused before it is opened.

use std::path::Path;

use crate::{Result, StoreError};

/// Refuses `path` when its folder is on a network filesystem. Linux only: elsewhere the
/// check is not made yet.
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

#[cfg(not(target_os = "linux"))]
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
