//! Where Kartika keeps its data when not told: this user's folder for the desktop app, the
//! machine's for the clinic server.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The desktop app's folder for this user: `%LOCALAPPDATA%\Kartika` on Windows,
/// `$XDG_DATA_HOME/kartika` (`~/.local/share/kartika`) elsewhere.
pub fn user_data() -> PathBuf {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if cfg!(windows) {
        if let Some(local) = var("LOCALAPPDATA") {
            return local.join("Kartika");
        }
    }
    var("XDG_DATA_HOME")
        .or_else(|| var("HOME").map(|home| home.join(".local").join("share")))
        .unwrap_or_else(std::env::temp_dir)
        .join("kartika")
}

/// The clinic server's folder for the whole PC: `%PROGRAMDATA%\Kartika` on Windows (the
/// service runs as no one's user), `/var/lib/kartika` elsewhere (systemd's StateDirectory).
pub fn machine_data() -> PathBuf {
    if cfg!(windows) {
        let data = std::env::var_os("PROGRAMDATA")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(r"C:\ProgramData"));
        return data.join("Kartika");
    }
    PathBuf::from("/var/lib/kartika")
}

/// Makes `folder` if it is not there, closed to other users of the PC from the start (on
/// Windows what is made in it later inherits that). An existing folder is left as it is:
/// its owner may have opened it on purpose.
pub fn private_folder(folder: &Path) -> Result<()> {
    if folder.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create the data folder {}", folder.display()))?;
    kartika_durable::restrict_to_owner(folder).with_context(|| {
        format!(
            "cannot close the data folder {} to other users",
            folder.display()
        )
    })
}
