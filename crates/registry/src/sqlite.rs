//! The SQLite backend: one file, WAL with `synchronous=FULL`, for a district or a demo.

use std::path::Path;

use kartika_protocol::{Change, ChangePage, Kind, PushOutcome};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::backend::{Backend, Node};
use crate::validate::ValidRecord;
use crate::{now_millis, RegistryError, Result};

const MIGRATIONS: &[&str] = &[include_str!("migrations/sqlite_0001.sql")];

/// The registry in one SQLite file.
pub struct SqliteBackend {
    conn: Connection,
}

impl SqliteBackend {
    /// How this connection writes (WAL, `synchronous=FULL`, foreign keys), or `None` when
    /// it cannot be read.
    pub fn durability(&self) -> Option<kartika_store::Durability> {
        kartika_store::durability_of(&self.conn).ok()
    }

    /// Opens or creates the file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(64);
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        let supported = MIGRATIONS.len() as i64;
        // Before anything is written (the journal mode goes into the file's header): a
        // file from a newer Kartika is left exactly as it was.
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > supported {
            return Err(RegistryError::NewerSchema { found, supported });
        }
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536;
             PRAGMA foreign_keys = ON;",
        )?;
        loop {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if version > supported {
                return Err(RegistryError::NewerSchema {
                    found: version,
                    supported,
                });
            }
            let Some(sql) = usize::try_from(version)
                .ok()
                .and_then(|v| MIGRATIONS.get(v))
            else {
                break;
            };
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", version + 1))?;
            tx.commit()?;
        }
        Ok(Self { conn })
    }
}

fn change_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

/// Builds a change from its stored columns; a row that does not parse is skipped, since
/// only validated JSON is ever stored.
pub(crate) fn to_change(
    (seq, facility, kind, record_id, payload): (i64, String, String, String, String),
) -> Option<Change> {
    Some(Change {
        seq,
        facility,
        kind: Kind::parse(&kind)?,
        record_id,
        payload: serde_json::from_str(&payload).ok()?,
    })
}

impl Backend for SqliteBackend {
    fn enroll(&mut self, node: &Node, token_hash: &[u8; 32], certificate: &[u8]) -> Result<()> {
        let inserted = self.conn.execute(
            "INSERT INTO node (id, roles, token_hash, certificate, enrolled_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
            params![
                node.id,
                node.roles,
                &token_hash[..],
                certificate,
                now_millis()
            ],
        )?;
        if inserted == 0 {
            return Err(RegistryError::AlreadyEnrolled(node.id.clone()));
        }
        Ok(())
    }

    fn node_for_token(&mut self, token_hash: &[u8; 32]) -> Result<Option<Node>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id, roles FROM node WHERE token_hash = ?1")?
            .query_row([&token_hash[..]], |r| {
                Ok(Node {
                    id: r.get(0)?,
                    roles: r.get(1)?,
                })
            })
            .optional()?)
    }

    fn push(
        &mut self,
        node: &Node,
        records: &[Result<ValidRecord, String>],
    ) -> Result<Vec<PushOutcome>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = now_millis();
        let mut outcomes = Vec::with_capacity(records.len());
        for record in records {
            let record = match record {
                Ok(r) => r,
                Err(reason) => {
                    outcomes.push(PushOutcome::Rejected {
                        reason: reason.clone(),
                    });
                    continue;
                }
            };
            if let Some(reason) = conflict(&tx, record)? {
                outcomes.push(PushOutcome::Rejected { reason });
                continue;
            }
            let stored = tx
                .prepare_cached(
                    "INSERT INTO change (change_id, facility, kind, record_id, patient_number,
                        payload, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (change_id) DO NOTHING",
                )?
                .execute(params![
                    &record.change_id[..],
                    record.facility,
                    record.kind.as_str(),
                    record.record_id,
                    record.patient_number,
                    record.payload,
                    now
                ])?;
            if stored == 0 {
                outcomes.push(PushOutcome::Duplicate);
                continue;
            }
            if record.kind == Kind::Patient {
                register_patient(&tx, record, now)?;
            }
            if !record.patient_number.is_empty() {
                tx.prepare_cached(
                    "INSERT INTO patient_seen (node, patient_number) VALUES (?1, ?2)
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![node.id, record.patient_number])?;
            }
            outcomes.push(PushOutcome::Stored);
        }
        tx.commit()?;
        Ok(outcomes)
    }

    fn changes(&mut self, node: &Node, after: i64, limit: usize) -> Result<ChangePage> {
        let limit = limit.clamp(1, kartika_protocol::MAX_PAGE);
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, facility, kind, record_id, payload FROM change
             WHERE seq > ?1 AND facility != ?2
               AND (kind = 'revocation' OR patient_number IN
                    (SELECT patient_number FROM patient_seen WHERE node = ?2))
             ORDER BY seq LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![after, node.id, limit as i64 + 1], change_row)?;
        let mut changes: Vec<Change> = rows
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter_map(to_change)
            .collect();
        let more = changes.len() > limit;
        changes.truncate(limit);
        let next_after = changes.last().map_or(after, |c| c.seq);
        Ok(ChangePage {
            changes,
            next_after,
            more,
        })
    }

    fn patient_history(&mut self, node: &Node, patient_number: &str) -> Result<Vec<Change>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changes: Vec<Change> = {
            let mut stmt = tx.prepare_cached(
                "SELECT seq, facility, kind, record_id, payload FROM change
                 WHERE patient_number = ?1 ORDER BY seq",
            )?;
            let rows = stmt.query_map([patient_number], change_row)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .filter_map(to_change)
                .collect()
        };
        if !changes.is_empty() {
            tx.execute(
                "INSERT INTO patient_seen (node, patient_number) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
                params![node.id, patient_number],
            )?;
        }
        tx.commit()?;
        Ok(changes)
    }

    fn patients_with_nik(&mut self, nik: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT patient_number FROM patient WHERE nik = ?1 ORDER BY 1")?;
        let rows = stmt.query_map([nik], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn patient_of_record(&mut self, record_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT patient_number FROM change WHERE record_id = ?1 AND patient_number != ''
                 LIMIT 1",
            )?
            .query_row([record_id], |r| r.get(0))
            .optional()?)
    }

    fn nik_conflicts(&mut self) -> Result<Vec<(String, String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT nik, patient_number, other_patient_number FROM nik_conflict ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn ready(&mut self) -> Result<()> {
        self.conn.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }
}

/// Why a record cannot be stored given what is stored already, if it cannot.
fn conflict(tx: &rusqlite::Transaction<'_>, record: &ValidRecord) -> Result<Option<String>> {
    match record.kind {
        Kind::Visit => {
            let owner: Option<String> = tx
                .prepare_cached(
                    "SELECT facility FROM change WHERE kind = 'visit' AND record_id = ?1 LIMIT 1",
                )?
                .query_row([&record.record_id], |r| r.get(0))
                .optional()?;
            if let Some(owner) = owner.filter(|o| *o != record.facility) {
                return Ok(Some(format!(
                    "visit {} belongs to facility {owner}; only it may change the visit",
                    record.record_id
                )));
            }
            unknown_patient(tx, record)
        }
        Kind::Card => unknown_patient(tx, record),
        Kind::Patient | Kind::Revocation => Ok(None),
    }
}

fn unknown_patient(tx: &rusqlite::Transaction<'_>, record: &ValidRecord) -> Result<Option<String>> {
    let known: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM patient WHERE patient_number = ?1)")?
        .query_row([&record.patient_number], |r| r.get(0))?;
    Ok((!known).then(|| {
        format!(
            "patient {} is unknown to the registry; push the patient first",
            record.patient_number
        )
    }))
}

/// Keeps the patient index and flags a NIK that another facility registered for another
/// patient.
fn register_patient(tx: &rusqlite::Transaction<'_>, record: &ValidRecord, now: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO patient (patient_number, nik, facility) VALUES (?1, ?2, ?3)
         ON CONFLICT (patient_number) DO UPDATE SET nik = excluded.nik",
    )?
    .execute(params![record.patient_number, record.nik, record.facility])?;
    if let Some(nik) = &record.nik {
        let twins: Vec<String> = tx
            .prepare_cached(
                "SELECT patient_number FROM patient WHERE nik = ?1 AND patient_number != ?2
                 AND facility != ?3",
            )?
            .query_map(params![nik, record.patient_number, record.facility], |r| {
                r.get(0)
            })?
            .collect::<rusqlite::Result<_>>()?;
        for other in twins {
            tx.prepare_cached(
                "INSERT INTO nik_conflict (nik, patient_number, other_patient_number, flagged_at)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )?
            .execute(params![nik, record.patient_number, other, now])?;
        }
    }
    Ok(())
}
