//! The audit log: who read or changed what, when, about which patient. Each entry's
//! SHA-256 covers the previous entry's hash, so an edited, deleted or reordered entry
//! breaks the chain at that point, and `audit_head` remembers the newest entry so cutting
//! off the end is noticed too.

use kartika_card::crypto::{NodeCertificate, TrustAnchors};
use kartika_protocol::AuditReceipt;
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::{Action, Session};
use crate::clock::{from_millis, to_millis};
use crate::{Result, Store, StoreError};

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
    /// The entry differs from what the registry signed a receipt for: the log was
    /// rewritten after it was handed over (even if consistently, chain and head included).
    Rewritten {
        /// The entry the receipt names.
        seq: i64,
    },
    /// A receipt that the registry did not sign: receipts were forged with the log.
    ForgedReceipt {
        /// The entry it names.
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
            Self::Rewritten { seq } => write!(
                f,
                "entry {seq} is not the entry the registry signed a receipt for: the log was rewritten after it was handed over"
            ),
            Self::ForgedReceipt { seq } => write!(
                f,
                "the receipt for entry {seq} was not signed by the registry: the receipts were forged"
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
    /// Receipts of the registry checked against the chain.
    #[serde(default)]
    pub receipts: i64,
    /// The newest entry a receipt covers: up to it, even a consistent rewrite is caught.
    #[serde(default)]
    pub covered_to: Option<i64>,
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
        self.verify_audit_with(None)
    }

    /// As [`Self::verify_audit`], and checks the chain against the registry's receipts:
    /// each receipted entry must hash as the registry saw it. With the trusted roots the
    /// receipts' signatures are checked too, so receipts forged with the log are caught.
    pub fn verify_audit_with(&self, trust: Option<&TrustAnchors>) -> Result<AuditReport> {
        let receipts: std::collections::BTreeMap<i64, (Vec<u8>, String)> = self
            .conn
            .prepare("SELECT seq, hash, receipt FROM audit_receipt ORDER BY seq")?
            .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
            .collect::<rusqlite::Result<_>>()?;
        let mut report = self.walk_chain(&receipts)?;
        report.receipts = receipts.len() as i64;
        report.covered_to = receipts.keys().next_back().copied();
        if report.problem.is_none() {
            if let Some(trust) = trust {
                report.problem = receipts
                    .iter()
                    .find(|(seq, (hash, receipt))| !receipt_verifies(trust, **seq, hash, receipt))
                    .map(|(seq, _)| AuditProblem::ForgedReceipt { seq: *seq });
            }
        }
        Ok(report)
    }

    /// The newest entry and its hash: what a sync hands to the registry.
    pub fn audit_head(&self) -> Result<Option<(i64, [u8; 32])>> {
        let head: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        Ok(head.and_then(|(seq, hash)| Some((seq, hash.try_into().ok()?))))
    }

    /// The hash of entry `seq` as the log holds it now.
    pub fn audit_hash_at(&self, seq: i64) -> Result<Option<[u8; 32]>> {
        let hash: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT hash FROM audit_log WHERE seq = ?1", [seq], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(hash.and_then(|h| h.try_into().ok()))
    }

    /// Keeps the registry's receipt for an audit head.
    pub fn keep_audit_receipt(&mut self, receipt: &AuditReceipt) -> Result<()> {
        let hash = hex::decode(&receipt.hash)
            .map_err(|_| StoreError::invalid("audit receipt", "its hash is not hex"))?;
        let text = serde_json::to_string(receipt)
            .map_err(|e| StoreError::invalid("audit receipt", e.to_string()))?;
        self.conn.execute(
            "INSERT INTO audit_receipt (seq, hash, received_at, receipt) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (seq) DO NOTHING",
            params![receipt.seq, hash, receipt.received_at, text],
        )?;
        Ok(())
    }

    fn walk_chain(
        &self,
        receipts: &std::collections::BTreeMap<i64, (Vec<u8>, String)>,
    ) -> Result<AuditReport> {
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
            } else if receipts
                .get(&seq)
                .is_some_and(|(receipted, _)| *receipted != stored_hash)
            {
                Some(AuditProblem::Rewritten { seq })
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
            if problem.is_none() {
                // A receipt for an entry the log no longer has.
                problem = receipts
                    .range(last_present + 1..)
                    .next()
                    .map(|(seq, _)| AuditProblem::Rewritten { seq: *seq });
            }
        }
        Ok(AuditReport {
            entries,
            problem,
            receipts: 0,
            covered_to: None,
        })
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
                 WHERE (?1 IS NULL OR actor = ?1)
                   AND (?2 IS NULL OR patient_number = ?2
                        OR (action IN ('patient.search', 'patient.pulled')
                            AND instr(detail, ?2) > 0))
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
                 WHERE ?1 IS NULL OR patient_number = ?1
                    OR (action IN ('patient.search', 'patient.pulled') AND instr(detail, ?1) > 0)
                 ORDER BY seq DESC LIMIT ?2",
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

/// Whether a kept receipt is the registry's: its certificate chains to a trusted root and
/// names the registry, and its signature covers this entry's hash.
fn receipt_verifies(trust: &TrustAnchors, seq: i64, hash: &[u8], text: &str) -> bool {
    let Ok(receipt) = serde_json::from_str::<AuditReceipt>(text) else {
        return false;
    };
    let certificate = hex::decode(&receipt.certificate)
        .ok()
        .and_then(|tlv| NodeCertificate::from_tlv(&tlv).ok());
    let (Some(certificate), Ok(signature), Ok(hash)) = (
        certificate,
        hex::decode(&receipt.signature),
        <[u8; 32]>::try_from(hash),
    ) else {
        return false;
    };
    receipt.seq == seq
        && certificate.node_id() == RECEIPT_SIGNER
        && trust.certifies(&certificate)
        && certificate.public_key().verifies(
            &AuditReceipt::signed_message(&receipt.node, seq, &hash, receipt.received_at),
            &signature,
        )
}

/// The node id of the registry's receipt certificate.
pub const RECEIPT_SIGNER: &str = "registry";
