//! Opening the file: pragmas that make it durable and shareable, and migrations that run
//! once each, in order, inside the transaction that records them.

use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::{Result, StoreError};

/// `PRAGMA application_id`: "KART", so another program's SQLite file is never mistaken for ours.
const APPLICATION_ID: i64 = 0x4B41_5254;

/// How long a writer waits for another window's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 128;

/// Each entry moves the schema from version `index` to `index + 1`. Append only: a
/// released migration is never edited, since files in clinics already ran it.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_sync.sql"),
    include_str!("migrations/0003_satusehat.sql"),
    include_str!("migrations/0004_login_lockout.sql"),
    include_str!("migrations/0005_referral.sql"),
    include_str!("migrations/0006_card_numbers.sql"),
    include_str!("migrations/0007_every_node_a_stranger.sql"),
    include_str!("migrations/0008_pulled_names_indexed_per_page.sql"),
    include_str!("migrations/0009_request_answers.sql"),
    include_str!("migrations/0010_workstation_sessions.sql"),
    include_str!("migrations/0011_workstations.sql"),
    include_str!("migrations/0012_generation.sql"),
    include_str!("migrations/0013_emergency_series.sql"),
    include_str!("migrations/0014_names_indexed_by_the_store.sql"),
    include_str!("migrations/0015_remote_visits_in_arrival_order.sql"),
    include_str!("migrations/0016_login_failures_per_source.sql"),
    include_str!("migrations/0017_sessions_bound_to_their_pc.sql"),
    include_str!("migrations/0018_workstation_requested_from.sql"),
    include_str!("migrations/0019_workstation_taps_seen.sql"),
    include_str!("migrations/0020_satusehat_delivery.sql"),
    include_str!("migrations/0021_patient_merge.sql"),
    include_str!("migrations/0022_bpjs_codes.sql"),
    include_str!("migrations/0023_bpjs_delivery.sql"),
    include_str!("migrations/0024_patient_link.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Opens (or with `create`, creates) the file and brings its schema up to date.
/// Health data is for the store's own user: the file is closed to others (mode 0600 on
/// Unix, which SQLite gives its log files too; its own access list on Windows), whatever
/// the umask, and an existing file found open to others is closed to them. A file this
/// user may not change is left as it is.
fn owner_only(path: &Path) {
    if !kartika_durable::is_owner_only(path).unwrap_or(true) {
        let _ = kartika_durable::restrict_to_owner(path);
    }
}

pub(crate) fn open(path: &Path, create: bool) -> Result<Connection> {
    let shown = path.display().to_string();
    if create && path.exists() {
        return Err(StoreError::AlreadyExists { path: shown });
    }
    if !create && !path.exists() {
        return Err(StoreError::Missing { path: shown });
    }
    crate::location::refuse_network_path(path)?;
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let mut conn = Connection::open_with_flags(path, flags)?;
    owner_only(path);
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Every operation's statements stay prepared; the default of 16 is fewer than one
    // visit registration uses with its audit entry and outbox row.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Plan each query once, from the schema, not from the values bound to it: otherwise
    // SQLite re-prepares a statement whenever a parameter it peeked at changes (LIMIT ?,
    // partial indexes), which cost a third of a visit registration.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    check_identity(&conn, &shown, create)?;
    // Before anything is written (the journal mode is written into the file's header): a
    // file from a newer Kartika is left exactly as it was.
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    // WAL lets a nurse's window read while the desk writes; FULL makes every commit
    // durable (one fdatasync of the WAL), so a registered visit survives a power cut.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NotAStore {
            path: shown,
            detail: format!("it cannot use write-ahead logging (journal mode {mode})"),
        });
    }
    // 64 MB of page cache (also in `generate`): the indexes a desk touches stay in memory
    // on a 4 GB PC.
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA cache_size = -65536;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn check_identity(conn: &Connection, path: &str, create: bool) -> Result<()> {
    let not_ours = |detail: String| StoreError::NotAStore {
        path: path.to_owned(),
        detail,
    };
    let app_id: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => not_ours("it is not an SQLite file".into()),
            _ => StoreError::from(e),
        })?;
    if app_id == APPLICATION_ID || create {
        return Ok(());
    }
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    Err(not_ours(if tables == 0 {
        "it is empty; create a clinic database with `kartika db init`".into()
    } else {
        "another program's SQLite file".into()
    }))
}

fn migrate(conn: &mut Connection) -> Result<()> {
    loop {
        // IMMEDIATE takes the write lock before reading the version, so two programs
        // opening an old file at once cannot both run the same migration.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        let Some(sql) = usize::try_from(version)
            .ok()
            .and_then(|index| MIGRATIONS.get(index))
        else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!(
            "PRAGMA user_version = {}; PRAGMA application_id = {APPLICATION_ID};",
            version + 1
        ))?;
        tx.commit()?;
    }
}

/// Applies only the first `version` migrations to a new file: lets tests build a file as an
/// older Kartika left it.
#[doc(hidden)]
pub fn create_at_version(path: &Path, version: i64) -> Result<()> {
    let conn = Connection::open(path)?;
    conn.execute_batch("PRAGMA journal_mode = WAL;")?;
    let count = usize::try_from(version).unwrap_or(0).min(MIGRATIONS.len());
    for (index, sql) in MIGRATIONS.iter().take(count).enumerate() {
        conn.execute_batch(&format!(
            "BEGIN; {sql}; PRAGMA user_version = {}; PRAGMA application_id = {APPLICATION_ID}; COMMIT;",
            index + 1
        ))?;
    }
    Ok(())
}
