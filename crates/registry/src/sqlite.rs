//! The SQLite backend: one file, WAL with `synchronous=FULL`, for a district or a demo.

mod merges;

use std::path::Path;

use kartika_protocol::{
    Change, ChangePage, Kind, MergeBoard, MergeProposal, ProposeMerge, PushOutcome,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::backend::{AccessEntry, Backend, Lookup, Node, OPERATOR};
use crate::rules::{self, Stored, StoredCard, StoredPatient};
use crate::validate::ValidRecord;
use crate::{now_millis, RegistryError, Result};

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/sqlite_0001.sql"),
    include_str!("migrations/sqlite_0002.sql"),
    include_str!("migrations/sqlite_0003.sql"),
];

/// A connection's settings that decide what survives a power cut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Durability {
    /// `wal`.
    pub journal_mode: String,
    /// 2 is FULL: a commit is on the disk when it returns.
    pub synchronous: i64,
    /// Whether foreign keys are enforced.
    pub foreign_keys: bool,
    /// The log is copied into the file once it holds this many pages.
    pub wal_autocheckpoint: i64,
}

/// The registry in one SQLite file.
pub struct SqliteBackend {
    conn: Connection,
}

impl SqliteBackend {
    /// How this connection writes (WAL, `synchronous=FULL`, foreign keys), or `None` when
    /// it cannot be read.
    pub fn durability(&self) -> Option<Durability> {
        let conn = &self.conn;
        let number = |pragma: &str| {
            conn.query_row(&format!("PRAGMA {pragma}"), [], |r| r.get::<_, i64>(0))
                .ok()
        };
        Some(Durability {
            journal_mode: conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .ok()?,
            synchronous: number("synchronous")?,
            foreign_keys: number("foreign_keys")? == 1,
            wal_autocheckpoint: number("wal_autocheckpoint")?,
        })
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
        payload: serde_json::value::RawValue::from_string(payload).ok()?,
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
            .prepare_cached("SELECT id, roles, revoked_at FROM node WHERE token_hash = ?1")?
            .query_row([&token_hash[..]], |r| {
                Ok(Node {
                    id: r.get(0)?,
                    roles: r.get(1)?,
                    revoked_at: r.get(2)?,
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
            let resent: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM change WHERE change_id = ?1)")?
                .query_row([&record.change_id[..]], |r| r.get(0))?;
            if resent {
                outcomes.push(PushOutcome::Duplicate);
                continue;
            }
            let stored = stored_facts(&tx, node, record)?;
            if let Some(reason) = rules::refusal(node, record, &stored, now) {
                outcomes.push(PushOutcome::Rejected { reason });
                continue;
            }
            if record.kind != Kind::Presence {
                tx.prepare_cached(
                    "INSERT INTO change (change_id, facility, kind, record_id, patient_number,
                        payload, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
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
            }
            match record.kind {
                Kind::Patient => register_patient(&tx, record, now)?,
                Kind::Card => {
                    tx.prepare_cached(
                        "INSERT INTO card (card_number, facility, patient_number, public_key)
                         VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (card_number) DO UPDATE
                         SET public_key = coalesce(excluded.public_key, card.public_key)",
                    )?
                    .execute(params![
                        record.record_id,
                        record.facility,
                        record.patient_number,
                        record.public_key
                    ])?;
                }
                Kind::Visit | Kind::Revocation | Kind::Presence | Kind::Link => {}
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
            "SELECT seq, facility, kind, record_id, payload, patient_number FROM change
             WHERE seq > ?1 AND facility != ?2
               AND (kind = 'revocation' OR patient_number IN
                    (SELECT patient_number FROM patient_seen WHERE node = ?2))
             ORDER BY seq LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![after, node.id, limit as i64 + 1], |r| {
            Ok((change_row(r)?, r.get::<_, String>(5)?))
        })?;
        let mut changes = Vec::new();
        let mut named = Vec::new();
        for row in rows {
            let (columns, patient) = row?;
            if let Some(change) = to_change(columns) {
                changes.push(change);
                named.push(patient);
            }
        }
        drop(stmt);
        let more = changes.len() > limit;
        changes.truncate(limit);
        named.truncate(limit);
        let next_after = changes.last().map_or(after, |c| c.seq);
        let patients = distinct_patients(&named);
        if !patients.is_empty() {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let said = format!("answered {} changes", changes.len());
            log_access(&tx, &node.id, "/v1/changes", &said, &patients, now_millis())?;
            tx.commit()?;
        }
        Ok(ChangePage {
            changes,
            next_after,
            more,
        })
    }

    fn patient_history(
        &mut self,
        node: &Node,
        patient_number: &str,
        lookup: Lookup<'_>,
    ) -> Result<Vec<Change>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = now_millis();
        let refusal = may_look(&tx, node, patient_number, lookup, now)?;
        let outcome = match refusal {
            Some(reason) => Err(reason),
            None => {
                let mut stmt = tx.prepare_cached(
                    "SELECT seq, facility, kind, record_id, payload FROM change
                     WHERE patient_number = ?1 ORDER BY seq",
                )?;
                let mut changes: Vec<Change> = Vec::new();
                for number in merges::one_person(&tx, patient_number)? {
                    let rows = stmt.query_map([&number], change_row)?;
                    for row in rows {
                        changes.extend(to_change(row?));
                    }
                }
                changes.sort_by_key(|c| c.seq);
                changes.dedup_by_key(|c| c.seq);
                Ok(changes)
            }
        };
        let said = match &outcome {
            Ok(changes) => format!("answered {} records", changes.len()),
            Err(reason) => format!("refused: {reason}"),
        };
        log_access(
            &tx,
            &node.id,
            lookup.endpoint(),
            &said,
            &[patient_number],
            now,
        )?;
        if let Ok(changes) = &outcome {
            if !changes.is_empty() {
                tx.execute(
                    "INSERT INTO patient_seen (node, patient_number) VALUES (?1, ?2)
                     ON CONFLICT DO NOTHING",
                    params![node.id, patient_number],
                )?;
            }
        }
        tx.commit()?;
        outcome.map_err(RegistryError::Forbidden)
    }

    fn access_log(&mut self, patient_number: &str) -> Result<Vec<AccessEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT l.at, l.node, l.endpoint, l.outcome FROM access_patient a
             JOIN access_log l ON l.id = a.access_id
             WHERE a.patient_number = ?1 ORDER BY l.id",
        )?;
        let rows = stmt.query_map([patient_number], |r| {
            Ok(AccessEntry {
                at: r.get(0)?,
                node: r.get(1)?,
                endpoint: r.get(2)?,
                outcome: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn operator_revocation(&mut self, card_number: &str, reason: &str, lifted: bool) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let known: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM card WHERE card_number = ?1)",
            [card_number],
            |r| r.get(0),
        )?;
        if !known {
            return Err(RegistryError::NotFound(rules::unknown_card(card_number)));
        }
        let now = now_millis();
        let payload = crate::operator_revocation_payload(card_number, reason, lifted, now);
        insert_operator_change(&tx, card_number, &payload, now)?;
        tx.commit()?;
        Ok(())
    }

    fn revoke_node(&mut self, node_id: &str, reason: &str) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = now_millis();
        let changed = tx.execute(
            "UPDATE node SET revoked_at = ?2, revoked_reason = ?3
             WHERE id = ?1 AND revoked_at IS NULL",
            params![node_id, now, reason],
        )?;
        if changed == 0 {
            return Err(RegistryError::NotFound(rules::no_such_node(node_id)));
        }
        let payload = crate::node_revocation_payload(node_id, reason, now);
        insert_operator_change(&tx, &format!("node:{node_id}"), &payload, now)?;
        tx.commit()?;
        Ok(())
    }

    fn forget_audit_heads(&mut self, node_id: &str) -> Result<usize> {
        Ok(self
            .conn
            .execute("DELETE FROM audit_head WHERE node = ?1", [node_id])?)
    }

    fn rotate_token(&mut self, node_id: &str, token_hash: &[u8; 32]) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE node SET token_hash = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            params![node_id, &token_hash[..]],
        )?;
        if changed == 0 {
            return Err(RegistryError::NotFound(rules::no_such_node(node_id)));
        }
        Ok(())
    }

    fn last_audit_head(&mut self, node: &Node) -> Result<Option<(i64, Vec<u8>)>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT seq, hash FROM audit_head WHERE node = ?1 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row([&node.id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn keep_audit_head(&mut self, node: &Node, seq: i64, hash: &[u8; 32]) -> Result<i64> {
        let now = now_millis();
        self.conn.execute(
            "INSERT INTO audit_head (node, seq, hash, received_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (node, seq) DO NOTHING",
            params![node.id, seq, &hash[..], now],
        )?;
        let (kept, at): (Vec<u8>, i64) = self.conn.query_row(
            "SELECT hash, received_at FROM audit_head WHERE node = ?1 AND seq = ?2",
            params![node.id, seq],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if kept != hash[..] {
            return Err(RegistryError::Forbidden(rules::audit_rewritten(
                seq, &node.id,
            )));
        }
        Ok(at)
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

    fn merge_board(&mut self, node: &Node) -> Result<MergeBoard> {
        merges::board(&mut self.conn, node)
    }

    fn propose_merge(&mut self, node: &Node, ask: &ProposeMerge) -> Result<MergeProposal> {
        merges::propose(&mut self.conn, node, ask)
    }

    fn decide_merge(
        &mut self,
        node: &Node,
        proposal: &str,
        decision: crate::merges::Decision,
    ) -> Result<MergeProposal> {
        merges::decide(&mut self.conn, node, proposal, decision)
    }

    fn links_of(&mut self, patient_number: &str) -> Result<Vec<(String, String)>> {
        merges::links_of(&self.conn, patient_number)
    }

    fn ready(&mut self) -> Result<()> {
        self.conn.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }
}

/// Keeps the patient index and flags a NIK that another facility registered for another
/// patient.
fn register_patient(tx: &rusqlite::Transaction<'_>, record: &ValidRecord, now: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO patient (patient_number, nik, facility, patient_id, person_key)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (patient_number) DO UPDATE
         SET nik = excluded.nik, patient_id = coalesce(patient.patient_id, excluded.patient_id),
             person_key = excluded.person_key",
    )?
    .execute(params![
        record.patient_number,
        record.nik,
        record.facility,
        record.patient_id,
        record.person_key
    ])?;
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

/// What is stored that bears on `record`.
fn stored_facts(
    tx: &rusqlite::Transaction<'_>,
    node: &Node,
    record: &ValidRecord,
) -> Result<Stored> {
    let patient = tx
        .prepare_cached("SELECT facility, patient_id FROM patient WHERE patient_number = ?1")?
        .query_row([&record.patient_number], |r| {
            Ok(StoredPatient {
                facility: r.get(0)?,
                patient_id: r.get(1)?,
            })
        })
        .optional()?;
    let id_holder = match &record.patient_id {
        Some(id) => tx
            .prepare_cached(
                "SELECT patient_number FROM patient WHERE patient_id = ?1 AND patient_number != ?2
                 LIMIT 1",
            )?
            .query_row(params![id, record.patient_number], |r| r.get(0))
            .optional()?,
        None => None,
    };
    let visit_owner = match record.kind {
        Kind::Visit => tx
            .prepare_cached(
                "SELECT facility FROM change WHERE kind = 'visit' AND record_id = ?1 LIMIT 1",
            )?
            .query_row([&record.record_id], |r| r.get(0))
            .optional()?,
        _ => None,
    };
    let card = match record.kind {
        Kind::Card | Kind::Revocation | Kind::Presence => stored_card(tx, &record.record_id)?,
        Kind::Patient | Kind::Visit | Kind::Link => None,
    };
    let present: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM patient_seen WHERE node = ?1 AND patient_number = ?2)",
        )?
        .query_row(params![node.id, record.patient_number], |r| r.get(0))?;
    Ok(Stored {
        patient,
        id_holder,
        visit_owner,
        card,
        present,
    })
}

fn stored_card(tx: &rusqlite::Transaction<'_>, card_number: &str) -> Result<Option<StoredCard>> {
    Ok(tx
        .prepare_cached(
            "SELECT facility, patient_number, public_key FROM card WHERE card_number = ?1",
        )?
        .query_row([card_number], |r| {
            Ok(StoredCard {
                facility: r.get(0)?,
                patient_number: r.get(1)?,
                public_key: r.get(2)?,
            })
        })
        .optional()?)
}

/// Why `node` may not see the patient's records, if it may not. A proof of presence is
/// checked and, when it holds, used up.
fn may_look(
    tx: &rusqlite::Transaction<'_>,
    node: &Node,
    patient_number: &str,
    lookup: Lookup<'_>,
    now: i64,
) -> Result<Option<String>> {
    let owner: Option<String> = tx
        .prepare_cached("SELECT facility FROM patient WHERE patient_number = ?1")?
        .query_row([patient_number], |r| r.get(0))
        .optional()?;
    if owner.is_none() || owner.as_deref() == Some(node.id.as_str()) {
        // Unknown (an empty answer) or its own.
        return Ok(None);
    }
    let refusal = match lookup {
        Lookup::OwnOnly => Some(rules::no_presence(patient_number)),
        Lookup::OwnOrSubscribed => {
            let subscribed: bool = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM patient_seen
                     WHERE node = ?1 AND patient_number = ?2)",
                )?
                .query_row(params![node.id, patient_number], |r| r.get(0))?;
            (!subscribed).then(|| rules::no_presence(patient_number))
        }
        Lookup::Presence(proof) if proof.patient_number != patient_number => Some(format!(
            "the proof of presence is for patient {}, not {patient_number}",
            proof.patient_number
        )),
        Lookup::Presence(proof) => {
            let card = stored_card(tx, &proof.card_number)?;
            match rules::presence_refusal(
                &node.id,
                proof,
                card.as_ref(),
                now,
                Some(rules::LOOKUP_WINDOW_MS),
            ) {
                Some(reason) => Some(reason),
                None => {
                    let fresh = tx
                        .prepare_cached(
                            "INSERT INTO presence_used (signature_hash, node, received_at)
                             VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                        )?
                        .execute(params![
                            &rules::proof_key(&node.id, proof)[..],
                            node.id,
                            now
                        ])?;
                    (fresh == 0).then(rules::replayed_proof)
                }
            }
        }
    };
    Ok(refusal)
}

/// The patient numbers a page of changes names, once each (revocations name none).
pub(crate) fn distinct_patients(named: &[String]) -> Vec<&str> {
    let mut numbers: Vec<&str> = named
        .iter()
        .map(String::as_str)
        .filter(|n| !n.is_empty())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

fn log_access(
    tx: &rusqlite::Transaction<'_>,
    node: &str,
    endpoint: &str,
    outcome: &str,
    patients: &[&str],
    now: i64,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO access_log (at, node, endpoint, outcome) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![now, node, endpoint, outcome])?;
    let id = tx.last_insert_rowid();
    let mut insert = tx.prepare_cached(
        "INSERT INTO access_patient (access_id, patient_number) VALUES (?1, ?2)
         ON CONFLICT DO NOTHING",
    )?;
    for patient in patients {
        insert.execute(params![id, patient])?;
    }
    Ok(())
}

fn insert_operator_change(
    tx: &rusqlite::Transaction<'_>,
    record_id: &str,
    payload: &str,
    now: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO change (change_id, facility, kind, record_id, patient_number, payload,
            received_at)
         VALUES (?1, ?2, 'revocation', ?3, '', ?4, ?5)",
        params![
            &uuid::Uuid::now_v7().as_bytes()[..],
            OPERATOR,
            record_id,
            payload,
            now
        ],
    )?;
    Ok(())
}
