//! The audit log: who read or changed what, when, about which patient. Each entry's
//! SHA-256 covers the previous entry's hash, so an edited, deleted or reordered entry
//! breaks the chain at that point, and `audit_head` remembers the newest entry so cutting
//! off the end is noticed too.

use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::{Action, Session};
use crate::clock::{from_millis, to_millis};
use crate::{Result, Store};

/// The hash before the first entry.
const GENESIS: [u8; 32] = [0; 32];

/// One entry of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
    /// Who: a username, or the command that acted.
    pub actor: String,
    /// What, for example `visit.register` or `patient.history`.
    pub action: String,
    /// Which patient, if one.
    pub patient_number: Option<String>,
    /// Particulars.
    pub detail: String,
}

/// Which audit entries to show; every part optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// The facility's local day, `YYYY-MM-DD`.
    pub day: Option<String>,
    /// Who (a username).
    pub actor: Option<String>,
    /// Which patient.
    pub patient_number: Option<String>,
    /// What: an action or its beginning, for example `card.` or `visit.register`.
    pub action: Option<String>,
}

/// Where the chain first breaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditProblem {
    /// The entry's contents do not match its hash: it was edited, or moved here from
    /// another position.
    Changed {
        /// The entry.
        seq: i64,
    },
    /// Entries before this one are gone.
    Missing {
        /// The first missing position.
        seq: i64,
    },
    /// The entry does not link to the one before it: entries were removed, inserted or
    /// reordered here.
    Unlinked {
        /// The entry.
        seq: i64,
    },
    /// The newest entries were cut off: the log ends before the recorded head.
    Truncated {
        /// The last entry still present.
        last_present: i64,
        /// The last entry that was written.
        head: i64,
    },
}

impl std::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Changed { seq } => write!(f, "entry {seq} was changed or moved"),
            Self::Missing { seq } => write!(f, "entry {seq} is missing: it was deleted"),
            Self::Unlinked { seq } => write!(
                f,
                "entry {seq} does not follow the entry before it: entries were deleted, inserted or reordered"
            ),
            Self::Truncated { last_present, head } => write!(
                f,
                "the log ends at entry {last_present} but entry {head} was written: the newest entries were deleted"
            ),
        }
    }
}

/// The outcome of checking the whole chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// How many entries were checked.
    pub entries: i64,
    /// The first break, if any.
    pub problem: Option<AuditProblem>,
}

fn entry_hash(
    prev: &[u8],
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    patient: Option<&str>,
    detail: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    for field in [Some(actor), Some(action), patient, Some(detail)] {
        // Length-prefixed, with a presence byte, so no two entries hash the same bytes.
        match field {
            Some(text) => {
                h.update([1]);
                h.update((text.len() as u64).to_be_bytes());
                h.update(text.as_bytes());
            }
            None => h.update([0]),
        }
    }
    h.finalize().into()
}

/// Appends an entry inside the caller's transaction.
pub(crate) fn append(
    tx: &Transaction<'_>,
    at: i64,
    actor: &str,
    action: &str,
    patient_number: Option<&str>,
    detail: &str,
) -> Result<()> {
    let head: Option<(i64, Vec<u8>)> = tx
        .prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (prev_seq, prev_hash) = head.unwrap_or((0, GENESIS.to_vec()));
    let seq = prev_seq + 1;
    let hash = entry_hash(&prev_hash, seq, at, actor, action, patient_number, detail);
    tx.prepare_cached(
        "INSERT INTO audit_log (seq, at, actor, action, patient_number, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        seq,
        at,
        actor,
        action,
        patient_number,
        detail,
        prev_hash,
        hash
    ])?;
    tx.prepare_cached(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )?
    .execute(params![seq, hash])?;
    Ok(())
}

impl Store {
    /// Walks the whole chain and reports the first entry that was changed, deleted or
    /// reordered. Needs no login: it reveals nothing but where the chain breaks.
    pub fn verify_audit(&self) -> Result<AuditReport> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, at, actor, action, patient_number, detail, prev_hash, hash
             FROM audit_log ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        let mut expected_seq = 1;
        let mut prev_hash = GENESIS.to_vec();
        let mut entries = 0;
        let mut problem = None;
        while let Some(row) = rows.next()? {
            entries += 1;
            if problem.is_some() {
                continue;
            }
            let seq: i64 = row.get(0)?;
            let stored_prev: Vec<u8> = row.get(6)?;
            let stored_hash: Vec<u8> = row.get(7)?;
            let actor: String = row.get(2)?;
            let action: String = row.get(3)?;
            let patient: Option<String> = row.get(4)?;
            let detail: String = row.get(5)?;
            let computed = entry_hash(
                &stored_prev,
                seq,
                row.get(1)?,
                &actor,
                &action,
                patient.as_deref(),
                &detail,
            );
            problem = if seq != expected_seq {
                Some(AuditProblem::Missing { seq: expected_seq })
            } else if computed.as_slice() != stored_hash {
                Some(AuditProblem::Changed { seq })
            } else if stored_prev != prev_hash {
                Some(AuditProblem::Unlinked { seq })
            } else {
                None
            };
            prev_hash = stored_hash;
            expected_seq = seq + 1;
        }
        if problem.is_none() {
            let head: Option<(i64, Vec<u8>)> = self
                .conn
                .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let last_present = expected_seq - 1;
            problem = match head {
                Some((head, _)) if head > last_present => {
                    Some(AuditProblem::Truncated { last_present, head })
                }
                Some((head, hash)) if head == last_present && hash != prev_hash => {
                    Some(AuditProblem::Changed { seq: head })
                }
                _ => None,
            };
        }
        Ok(AuditReport { entries, problem })
    }

    /// The newest entries that match `filter` (admins only), at most `limit`. Reading the
    /// log is itself logged.
    pub fn audit_search(
        &mut self,
        session: &Session,
        filter: &AuditFilter,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        let limit = i64::try_from(limit.min(10_000)).unwrap_or(10_000);
        let blank = |t: &Option<String>| {
            t.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        let (actor, patient, action) = (
            blank(&filter.actor),
            blank(&filter.patient_number),
            blank(&filter.action),
        );
        let day = match blank(&filter.day) {
            Some(text) => {
                let date = kartika_card::model::parse_iso_date(&text, "date")?;
                let start = time::OffsetDateTime::new_in_offset(
                    date,
                    time::Time::MIDNIGHT,
                    self.facility.offset(),
                );
                Some((to_millis(start), to_millis(start + time::Duration::days(1))))
            }
            None => None,
        };
        self.write(session, Action::ReadAudit, |ctx| {
            let mut stmt = ctx.tx.prepare_cached(
                "SELECT seq, at, actor, action, patient_number, detail FROM audit_log
                 WHERE (?1 IS NULL OR actor = ?1) AND (?2 IS NULL OR patient_number = ?2)
                   AND (?3 IS NULL OR action LIKE ?3 || '%')
                   AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at < ?5)
                 ORDER BY seq DESC LIMIT ?6",
            )?;
            let rows = stmt.query_map(
                params![
                    actor,
                    patient,
                    action,
                    day.map(|d| d.0),
                    day.map(|d| d.1),
                    limit
                ],
                audit_entry,
            )?;
            let entries = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            ctx.audit(
                "audit.read",
                patient.as_deref(),
                &format!("{} found", entries.len()),
            )?;
            Ok(entries)
        })
    }

    /// The newest entries, optionally about one patient (admins only). Reading the log is
    /// itself logged.
    pub fn audit_trail(
        &mut self,
        session: &Session,
        patient_number: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        let limit = i64::try_from(limit.min(10_000)).unwrap_or(10_000);
        self.write(session, Action::ReadAudit, |ctx| {
            let mut stmt = ctx.tx.prepare(
                "SELECT seq, at, actor, action, patient_number, detail FROM audit_log
                 WHERE ?1 IS NULL OR patient_number = ?1 ORDER BY seq DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![patient_number, limit], audit_entry)?;
            let entries = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            ctx.audit("audit.read", patient_number, "")?;
            Ok(entries)
        })
    }
}

/// An entry from `SELECT seq, at, actor, action, patient_number, detail`.
fn audit_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get(0)?,
        at: from_millis(r.get(1)?),
        actor: r.get(2)?,
        action: r.get(3)?,
        patient_number: r.get(4)?,
        detail: r.get(5)?,
    })
}
