//! Backups while the app runs, and restoring one. A backup is SQLite's online backup of the
//! whole file in one step (one read transaction, so it is one consistent moment even while
//! other windows register visits), written under a temporary name and moved into place only
//! when complete. A restore trusts a copy only after its integrity check and its audit
//! chain pass, and keeps the current file aside.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use crate::schema::SCHEMA_VERSION;
use crate::{Result, Store, StoreError};

/// What a backup wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupReport {
    /// The copy.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// How long it took.
    pub took: Duration,
    /// Older copies removed to keep the number asked for.
    pub removed: Vec<PathBuf>,
}

/// What a restore did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreReport {
    /// Where the file that was replaced now is.
    pub kept_aside: Option<PathBuf>,
    /// Audit entries checked in the restored copy.
    pub audit_entries: i64,
}

fn file_error(path: &Path, error: impl std::fmt::Display) -> StoreError {
    StoreError::File {
        path: path.display().to_string(),
        reason: format!("{error}; check the folder exists, is writable and has space"),
    }
}

/// The name backups get in a folder: `kartika-<facility>-YYYYMMDD-HHMMSS.sqlite`.
fn backup_name(facility: &str, at: time::OffsetDateTime) -> String {
    format!(
        "kartika-{facility}-{:04}{:02}{:02}-{:02}{:02}{:02}.sqlite",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

impl Store {
    /// Copies the whole store to `dest` as it is at one moment, while others keep working.
    pub fn backup_to(&self, dest: &Path) -> Result<BackupReport> {
        let started = Instant::now();
        let partial = dest.with_extension("partial");
        let _ = fs::remove_file(&partial);
        {
            let mut copy = Connection::open(&partial).map_err(|e| file_error(&partial, e))?;
            let backup = rusqlite::backup::Backup::new(&self.conn, &mut copy)?;
            // All pages in one step: one read transaction, so writers never restart it.
            backup.step(-1)?;
        }
        let bytes = fs::metadata(&partial)
            .map_err(|e| file_error(&partial, e))?
            .len();
        kartika_durable::publish(&partial, dest).map_err(|e| file_error(dest, e))?;
        Ok(BackupReport {
            path: dest.to_owned(),
            bytes,
            took: started.elapsed(),
            removed: Vec::new(),
        })
    }

    /// A dated backup in `folder`, keeping the newest `keep` of this facility's backups there.
    pub fn backup_into(&self, folder: &Path, keep: usize) -> Result<BackupReport> {
        fs::create_dir_all(folder).map_err(|e| file_error(folder, e))?;
        let facility = &self.facility.code;
        let name = backup_name(facility, self.clock.now());
        let mut report = self.backup_to(&folder.join(name))?;
        let mut copies = backups_in(folder, facility)?;
        copies.sort();
        let excess = copies.len().saturating_sub(keep.max(1));
        for old in copies.into_iter().take(excess) {
            if fs::remove_file(&old).is_ok() {
                report.removed.push(old);
            }
        }
        Ok(report)
    }

    /// Puts the copy at `from` in place of the store at `to`, after checking it: SQLite's
    /// integrity check, a schema this program understands, the same facility when `to`
    /// exists, and an intact audit chain. The file it replaces is kept beside it with
    /// `.before-restore-<time>`. No connection may be open on `to`.
    pub fn restore(from: &Path, to: &Path) -> Result<RestoreReport> {
        let bad = |reason: String| StoreError::BadBackup {
            path: from.display().to_string(),
            reason,
        };
        check_copy(from).map_err(bad)?;
        let staging = to.with_extension("restoring");
        let _ = fs::remove_file(&staging);
        fs::copy(from, &staging).map_err(|e| file_error(&staging, e))?;
        let checked = (|| -> Result<i64> {
            let store = Store::open(&staging)?;
            if to.exists() {
                let current = facility_code_of(to)?;
                if current != store.facility.code {
                    return Err(bad(format!(
                        "it belongs to facility {}, not {current}",
                        store.facility.code
                    )));
                }
            }
            let audit = store.verify_audit()?;
            if let Some(problem) = audit.problem {
                return Err(bad(format!("its audit log is broken ({problem:?})")));
            }
            // Leave one file: the copy's WAL folded in.
            store
                .conn
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
            Ok(audit.entries)
        })();
        let audit_entries = match checked {
            Ok(n) => n,
            Err(e) => {
                remove_with_sidecars(&staging);
                return Err(e);
            }
        };
        remove_sidecars(&staging);
        let kept_aside = if to.exists() {
            let now = time::OffsetDateTime::now_utc();
            let aside = PathBuf::from(format!(
                "{}.before-restore-{}",
                to.display(),
                now.unix_timestamp()
            ));
            fold_wal(to)?;
            fs::rename(to, &aside).map_err(|e| file_error(to, e))?;
            remove_sidecars(to);
            Some(aside)
        } else {
            None
        };
        kartika_durable::publish(&staging, to).map_err(|e| file_error(to, e))?;
        Ok(RestoreReport {
            kept_aside,
            audit_entries,
        })
    }
}

/// This facility's backups in `folder`.
pub fn backups_in(folder: &Path, facility: &str) -> Result<Vec<PathBuf>> {
    let prefix = format!("kartika-{facility}-");
    let entries = match fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(file_error(folder, e)),
    };
    Ok(entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".sqlite"))
        })
        .collect())
}

/// Read-only checks that need no migration: SQLite's integrity check and the version.
fn check_copy(path: &Path) -> std::result::Result<(), String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("it cannot be opened ({e})"))?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| format!("it is not a database ({e})"))?;
    if version > SCHEMA_VERSION {
        return Err(format!(
            "it was written by a newer Kartika (schema {version}, this one reads up to {SCHEMA_VERSION})"
        ));
    }
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| format!("its integrity check failed ({e})"))?;
    if verdict != "ok" {
        return Err(format!("SQLite's integrity check says: {verdict}"));
    }
    Ok(())
}

fn facility_code_of(path: &Path) -> Result<String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    Ok(conn.query_row("SELECT code FROM facility WHERE id = 1", [], |r| r.get(0))?)
}

/// Folds the WAL of a closed store into its file, so renaming the file moves everything.
fn fold_wal(path: &Path) -> Result<()> {
    let conn = Connection::open(path)?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(())
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_sidecars(path: &Path) {
    for suffix in ["-wal", "-shm"] {
        // Absent is what we want.
        let _ = fs::remove_file(sidecar(path, suffix));
    }
}

fn remove_with_sidecars(path: &Path) {
    let _ = fs::remove_file(path);
    remove_sidecars(path);
}
