//! Files a workstation or the server must not lose half of: written under a temporary
//! name, flushed to the disk, then renamed, so a power cut leaves the old file or the new.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` durably; `private` makes the file readable by its owner only
/// (a key).
pub fn write(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    let staging = path.with_extension("new");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(&staging)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&staging, path)
}
