//! The outbox: every change the registry must learn of, written in the transaction of the
//! change itself, with an id of its own so a resend is recognised. The sync worker (a later
//! crate) drains it; here it is only written and read.

use rusqlite::{params, Transaction};
use serde::{Deserialize, Serialize};

use crate::enums::stored_enum;

use crate::{new_uuid, Result, Store, StoreError};

stored_enum!(
    /// What an outbox row carries.
    OutboxKind, "outbox kind" {
        /// A patient's details, whole.
        Patient = "patient",
        /// A card and its status.
        Card = "card",
        /// A visit, whole, with its diagnoses.
        Visit = "visit",
        /// A card that must no longer be accepted.
        Revocation = "revocation",
        /// Proof that a patient's card was at this Puskesmas's reader.
        Presence = "presence",
        /// Two Puskesmas's records linked as one person by the registry: only ever pulled
        /// (kept when a pulled one waits for an upgrade), never in the outbox.
        Link = "link",
    }
);

/// One pending change.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutboxRecord {
    /// Local order.
    pub seq: i64,
    /// The change's own id (UUID), stable across resends.
    pub id: String,
    /// What it carries.
    pub kind: OutboxKind,
    /// The id of the record it describes (a patient's or visit's uuid, a card number).
    pub record_id: String,
    /// The record as JSON text, passed on as it is (never parsed and written again).
    pub payload: Box<serde_json::value::RawValue>,
}

pub(crate) fn enqueue(
    tx: &Transaction<'_>,
    now: i64,
    kind: OutboxKind,
    record_id: &str,
    payload: &impl Serialize,
) -> Result<()> {
    let json = serde_json::to_string(payload)
        .map_err(|e| StoreError::Damaged(format!("outbox payload: {e}")))?;
    tx.prepare_cached(
        "INSERT INTO outbox (id, kind, record_id, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![new_uuid(), kind, record_id, json, now])?;
    Ok(())
}

impl Store {
    /// The oldest changes not yet sent nor set aside, at most `limit`.
    pub fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, id, kind, record_id, payload FROM outbox
             WHERE sent_at IS NULL AND rejected_at IS NULL ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, uuid::Uuid>(1)?.to_string(),
                r.get::<_, OutboxKind>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (seq, id, kind, record_id, payload) = row?;
            Ok(OutboxRecord {
                seq,
                id,
                kind,
                record_id,
                payload: serde_json::value::RawValue::from_string(payload)
                    .map_err(|e| StoreError::Damaged(format!("outbox row {seq}: {e}")))?,
            })
        })
        .collect()
    }

    /// How many changes wait to be sent.
    pub fn outbox_pending_count(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND rejected_at IS NULL",
            [],
            |r| r.get(0),
        )?)
    }
}

impl From<OutboxKind> for kartika_protocol::Kind {
    fn from(kind: OutboxKind) -> Self {
        match kind {
            OutboxKind::Patient => Self::Patient,
            OutboxKind::Card => Self::Card,
            OutboxKind::Visit => Self::Visit,
            OutboxKind::Revocation => Self::Revocation,
            OutboxKind::Presence => Self::Presence,
            OutboxKind::Link => Self::Link,
        }
    }
}

impl From<kartika_protocol::Kind> for OutboxKind {
    fn from(kind: kartika_protocol::Kind) -> Self {
        use kartika_protocol::Kind;
        match kind {
            Kind::Patient => Self::Patient,
            Kind::Card => Self::Card,
            Kind::Visit => Self::Visit,
            Kind::Revocation => Self::Revocation,
            Kind::Presence => Self::Presence,
            Kind::Link => Self::Link,
        }
    }
}

impl From<OutboxRecord> for kartika_protocol::PushRecord {
    /// The row as the registry takes it; the payload travels as the stored text.
    fn from(row: OutboxRecord) -> Self {
        Self {
            id: row.id,
            kind: row.kind.into(),
            record_id: row.record_id,
            payload: row.payload,
        }
    }
}
