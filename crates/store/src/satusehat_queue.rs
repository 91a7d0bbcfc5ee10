//! The queue of finished visits to SATUSEHAT: which are due, and what became of each
//! attempt. A visit's state decides: a finished or referred visit of this Puskesmas
//! without a delivery is due, whenever it finished; one that waits or is retried is due
//! again at its next try; a refused one waits for an admin's "Kirim ulang".

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::access::{Action, Session};
use crate::diagnoses::diagnoses_of_visit;
use crate::enums::stored_enum;
use crate::patients::{patient_row_at, Patient, PATIENT_COLUMNS};
use crate::visits::{visit_row, VisitDetail, VISIT_COLUMNS, VISIT_COLUMN_COUNT};
use crate::{Result, Store, StoreError};

/// The name the sender writes under in the audit log.
const SENDER: &str = "satusehat";

stored_enum!(
    /// Where a visit's delivery to SATUSEHAT stands.
    DeliveryState, "delivery state" {
        /// Not sent yet: never tried, or waiting for something it needs (an IHS number).
        Waiting = "waiting",
        /// At SATUSEHAT.
        Sent = "sent",
        /// Tried and failed for a reason that passes (the network, SATUSEHAT busy or down).
        Retrying = "retrying",
        /// SATUSEHAT refused it: waits until an admin sends it again.
        Refused = "refused",
    }
);

/// The id SATUSEHAT gave each resource of a visit, by the resource's key in the mapping
/// (`Encounter`, `Condition/I10`, `Observation/8480-6`).
pub type SentIds = BTreeMap<String, String>;

/// A visit due at SATUSEHAT, with what its Bundle is made from.
#[derive(Clone, Debug, PartialEq)]
pub struct DueVisit {
    /// The visit, with its diagnoses.
    pub visit: VisitDetail,
    /// Its patient.
    pub patient: Patient,
    /// Attempts made so far.
    pub attempts: i64,
    /// What was sent before, when the visit changed since.
    pub sent: Option<SentIds>,
}

/// What became of one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// SATUSEHAT holds the visit at this version, under these ids.
    Sent {
        /// The visit's version sent.
        version: i64,
        /// SATUSEHAT's ids.
        ids: SentIds,
    },
    /// To be tried again `after_ms` from now (the store's clock), for `reason`.
    Again {
        /// Waiting (something the visit needs) or retrying (the link failed).
        state: DeliveryState,
        /// Why, in SATUSEHAT's words where it gave them.
        reason: String,
        /// How long from now.
        after_ms: i64,
    },
    /// Refused by SATUSEHAT, for `reason`.
    Refused {
        /// SATUSEHAT's words, with its rule number.
        reason: String,
    },
}

/// One visit not at SATUSEHAT, as the status lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDelivery {
    /// The visit's id.
    pub visit_id: String,
    /// Its patient.
    pub patient_number: String,
    /// `waiting`, `retrying` or `refused`.
    pub state: DeliveryState,
    /// Why it is not sent, when known.
    pub reason: Option<String>,
    /// Attempts so far.
    pub attempts: i64,
    /// When the visit ended (ms since 1970); for a BPJS step not yet finished, when it
    /// arrived.
    pub ended_at: i64,
    /// For BPJS, which of the visit's calls (`pendaftaran`, `antrean`, `kunjungan`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<crate::BpjsStep>,
}

/// The queue at a glance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryStatus {
    /// Visits per state.
    pub counts: BTreeMap<String, i64>,
    /// The newest delivery (ms since 1970).
    pub last_sent_at: Option<i64>,
    /// Every visit not sent, oldest first (refused ones before the rest).
    pub visits: Vec<PendingDelivery>,
    /// The link as set up, for the admin's form (with the list only).
    #[serde(default)]
    pub link: Option<SatusehatLink>,
}

/// The visits a queue query sees: finished or referred, of this Puskesmas.
const DELIVERABLE: &str = "v.facility_code = (SELECT code FROM facility) \
    AND v.status IN ('finished', 'referred')";

impl Store {
    /// Up to `limit` visits due now, in the order they finished.
    pub fn satusehat_due(&mut self, limit: usize) -> Result<Vec<DueVisit>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read_as_system(SENDER, |ctx| {
            let mut stmt = ctx.tx.prepare_cached(&format!(
                "SELECT {VISIT_COLUMNS}, p.patient_number, d.attempts, d.resource_ids, p.id
                 FROM visit v JOIN service_unit u ON u.code = v.unit_code
                 JOIN patient p ON p.id = v.patient_id
                 LEFT JOIN satusehat_delivery d ON d.visit_id = v.id
                 WHERE {DELIVERABLE}
                   AND (d.visit_id IS NULL
                        OR (d.state IN ('waiting', 'retrying') AND d.next_try_at <= ?1)
                        OR (d.state = 'sent' AND d.sent_version < v.version))
                 ORDER BY v.ended_at, v.id LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![ctx.now_ms, limit], |r| {
                let number: String = r.get(VISIT_COLUMN_COUNT)?;
                let (row, visit) = visit_row(r, &number)?;
                let attempts: Option<i64> = r.get(VISIT_COLUMN_COUNT + 1)?;
                let sent: Option<String> = r.get(VISIT_COLUMN_COUNT + 2)?;
                let patient_row: i64 = r.get(VISIT_COLUMN_COUNT + 3)?;
                Ok((row, visit, attempts.unwrap_or(0), sent, patient_row))
            })?;
            let mut due = Vec::new();
            for row in rows {
                let (row, mut visit, attempts, sent, patient_row) = row?;
                visit.diagnoses = diagnoses_of_visit(ctx, row)?;
                // A record merged or linked into another is sent as the one that stands
                // for both: SATUSEHAT knows one person once.
                let patient_row = crate::patients::survivor_of(ctx.tx, patient_row)?;
                let patient = ctx
                    .tx
                    .prepare_cached(&format!(
                        "SELECT p.id, {PATIENT_COLUMNS} FROM patient p WHERE p.id = ?1"
                    ))?
                    .query_row([patient_row], |r| patient_row_at(r, 1))?;
                let sent = sent.and_then(|text| serde_json::from_str(&text).ok());
                due.push(DueVisit {
                    visit,
                    patient,
                    attempts,
                    sent,
                });
            }
            Ok(due)
        })
    }

    /// Records what became of an attempt to deliver visit `visit_id`.
    pub fn record_satusehat_delivery(
        &mut self,
        visit_id: &str,
        outcome: &DeliveryOutcome,
    ) -> Result<()> {
        self.write_as_system(SENDER, |ctx| {
            let row = visit_row_id(ctx, visit_id)?;
            let (state, reason, next_try, version, ids) = match outcome {
                DeliveryOutcome::Sent { version, ids } => (
                    DeliveryState::Sent,
                    None,
                    0,
                    Some(*version),
                    Some(serde_json::to_string(ids).map_err(|e| StoreError::Damaged(e.to_string()))?),
                ),
                DeliveryOutcome::Again {
                    state,
                    reason,
                    after_ms,
                } => (
                    *state,
                    Some(reason.as_str()),
                    ctx.now_ms.saturating_add(*after_ms),
                    None,
                    None,
                ),
                DeliveryOutcome::Refused { reason } => {
                    (DeliveryState::Refused, Some(reason.as_str()), 0, None, None)
                }
            };
            ctx.tx.execute(
                "INSERT INTO satusehat_delivery
                     (visit_id, state, attempts, next_try_at, reason, sent_version, sent_at, resource_ids)
                 VALUES (?1, ?2, 1, ?3, ?4, ?5, CASE WHEN ?5 IS NULL THEN NULL ELSE ?6 END, ?7)
                 ON CONFLICT (visit_id) DO UPDATE SET
                     state = excluded.state,
                     attempts = CASE WHEN excluded.state = 'sent' THEN 0 ELSE attempts + 1 END,
                     next_try_at = excluded.next_try_at,
                     reason = excluded.reason,
                     sent_version = coalesce(excluded.sent_version, sent_version),
                     sent_at = coalesce(excluded.sent_at, sent_at),
                     resource_ids = coalesce(excluded.resource_ids, resource_ids)",
                params![row, state, next_try, reason, version, ctx.now_ms, ids],
            )?;
            if let DeliveryOutcome::Refused { reason } = outcome {
                let patient: String = ctx.tx.query_row(
                    "SELECT p.patient_number FROM visit v JOIN patient p ON p.id = v.patient_id
                     WHERE v.id = ?1",
                    [row],
                    |r| r.get(0),
                )?;
                ctx.audit("satusehat.refused", Some(&patient), reason)?;
            }
            Ok(())
        })
    }

    /// Keeps the IHS number SATUSEHAT gave a patient, found by their NIK.
    pub fn record_patient_ihs_found(&mut self, patient_number: &str, ihs: &str) -> Result<()> {
        self.write_as_system(SENDER, |ctx| {
            ctx.tx.execute(
                "UPDATE patient SET ihs_number = ?2 WHERE patient_number = ?1",
                params![patient_number, ihs],
            )?;
            Ok(())
        })
    }

    /// The queue: counts per state, the last delivery, and the oldest `list` visits not
    /// sent (for the sender's own command line).
    pub fn satusehat_status(&mut self, list: usize) -> Result<DeliveryStatus> {
        self.read_as_system(SENDER, |ctx| delivery_status(ctx, list))
    }

    /// [`Store::satusehat_status`] for a person: the counts for anyone (the top bar shows
    /// them), the visits not sent for admins only (they name patients and reasons).
    pub fn satusehat_status_for(
        &mut self,
        session: &Session,
        list: usize,
    ) -> Result<DeliveryStatus> {
        let action = if list > 0 {
            Action::ManageFacility
        } else {
            Action::ReadPatients
        };
        let mut status = self.read(session, action, |ctx| delivery_status(ctx, list))?;
        if list > 0 {
            status.link = self.satusehat_link()?;
        }
        Ok(status)
    }

    /// "Kirim ulang": the refused visit `visit_id`, or with `None` every refused visit,
    /// is due again now (admins only, audited). Returns how many.
    pub fn retry_satusehat(&mut self, session: &Session, visit_id: Option<&str>) -> Result<usize> {
        self.write(session, Action::ManageFacility, |ctx| {
            let count = match visit_id {
                Some(visit_id) => {
                    let row = visit_row_id(ctx, visit_id)?;
                    ctx.tx.execute(
                        "UPDATE satusehat_delivery SET state = 'waiting', next_try_at = 0
                         WHERE visit_id = ?1 AND state = 'refused'",
                        [row],
                    )?
                }
                None => ctx.tx.execute(
                    "UPDATE satusehat_delivery SET state = 'waiting', next_try_at = 0
                     WHERE state = 'refused'",
                    [],
                )?,
            };
            ctx.audit(
                "satusehat.retry",
                None,
                &format!("{} ({count})", visit_id.unwrap_or("all refused")),
            )?;
            Ok(count)
        })
    }
}

/// Where each finished visit of this Puskesmas of one patient stands with SATUSEHAT.
pub(crate) fn states_of_patient(
    ctx: &crate::Ctx<'_>,
    patient_id: i64,
) -> Result<BTreeMap<String, DeliveryState>> {
    let mut stmt = ctx.tx.prepare_cached(&format!(
        "SELECT v.uuid, coalesce(d.state, 'waiting') FROM visit v
         LEFT JOIN satusehat_delivery d ON d.visit_id = v.id
         WHERE {DELIVERABLE} AND v.patient_id = ?1"
    ))?;
    let rows = stmt.query_map([patient_id], |r| {
        Ok((r.get::<_, uuid::Uuid>(0)?.to_string(), r.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn delivery_status(ctx: &crate::Ctx<'_>, list: usize) -> Result<DeliveryStatus> {
    let mut status = DeliveryStatus::default();
    for state in ["waiting", "sent", "retrying", "refused"] {
        status.counts.insert(state.to_owned(), 0);
    }
    let mut stmt = ctx.tx.prepare_cached(&format!(
        "SELECT coalesce(d.state, 'waiting'), count(*) FROM visit v
         LEFT JOIN satusehat_delivery d ON d.visit_id = v.id
         WHERE {DELIVERABLE} GROUP BY 1"
    ))?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))? {
        let (state, count) = row?;
        status.counts.insert(state, count);
    }
    status.last_sent_at = ctx
        .tx
        .query_row("SELECT max(sent_at) FROM satusehat_delivery", [], |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    let limit = i64::try_from(list).unwrap_or(i64::MAX);
    let mut stmt = ctx.tx.prepare_cached(&format!(
        "SELECT v.uuid, p.patient_number, coalesce(d.state, 'waiting'), d.reason,
                coalesce(d.attempts, 0), v.ended_at
         FROM visit v JOIN patient p ON p.id = v.patient_id
         LEFT JOIN satusehat_delivery d ON d.visit_id = v.id
         WHERE {DELIVERABLE} AND (d.state IS NULL OR d.state != 'sent')
         ORDER BY d.state = 'refused' DESC, v.ended_at, v.id LIMIT ?1"
    ))?;
    let rows = stmt.query_map([limit], |r| {
        Ok(PendingDelivery {
            visit_id: r.get::<_, uuid::Uuid>(0)?.to_string(),
            patient_number: r.get(1)?,
            state: r.get(2)?,
            reason: r.get(3)?,
            attempts: r.get(4)?,
            ended_at: r.get(5)?,
            step: None,
        })
    })?;
    status.visits = rows.collect::<rusqlite::Result<_>>()?;
    Ok(status)
}

pub(crate) fn visit_row_id(ctx: &crate::Ctx<'_>, visit_id: &str) -> Result<i64> {
    let uuid = uuid::Uuid::parse_str(visit_id.trim())
        .map_err(|_| StoreError::invalid("visit", format!("\"{visit_id}\" is not a visit id")))?;
    ctx.tx
        .query_row("SELECT id FROM visit WHERE uuid = ?1", [uuid], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::not_found("visit", visit_id))
}

/// Where SATUSEHAT is and who this Puskesmas is to it: all but the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SatusehatLink {
    /// The token's base, `https://HOST/oauth2/v1`.
    pub auth_url: String,
    /// The FHIR base, `https://HOST/fhir-r4/v1`.
    pub fhir_url: String,
    /// The client id SATUSEHAT issued.
    pub client_id: String,
    /// The Organization id it serves.
    pub organization_id: String,
    /// Requests per second at most (0: unpaced).
    pub pace: u32,
}

impl Store {
    /// The link to SATUSEHAT, once an admin has set it up.
    pub fn satusehat_link(&mut self) -> Result<Option<SatusehatLink>> {
        self.read_as_system(SENDER, |ctx| {
            let row: (
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
                i64,
            ) = ctx.tx.query_row(
                "SELECT satusehat_auth_url, satusehat_fhir_url, satusehat_client_id,
                            satusehat_organization_id, satusehat_pace FROM facility",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
            Ok(match row {
                (Some(auth_url), Some(fhir_url), Some(client_id), Some(organization_id), pace) => {
                    Some(SatusehatLink {
                        auth_url,
                        fhir_url,
                        client_id,
                        organization_id,
                        pace: u32::try_from(pace).unwrap_or(0),
                    })
                }
                _ => None,
            })
        })
    }

    /// Sets the link to SATUSEHAT up (admins only, audited, the secret aside).
    pub fn set_satusehat_link(&mut self, session: &Session, link: &SatusehatLink) -> Result<()> {
        for (field, url) in [("auth URL", &link.auth_url), ("FHIR URL", &link.fhir_url)] {
            let loopback =
                url.starts_with("http://127.0.0.1") || url.starts_with("http://localhost");
            if !url.starts_with("https://") && !loopback {
                return Err(StoreError::invalid(
                    field,
                    format!("\"{url}\" is not an https:// address"),
                ));
            }
        }
        let client_id = link.client_id.trim();
        if client_id.is_empty() || client_id.len() > 200 {
            return Err(StoreError::invalid(
                "client id",
                "give the client id SATUSEHAT issued",
            ));
        }
        self.write(session, Action::ManageFacility, |ctx| {
            ctx.tx.execute(
                "UPDATE facility SET satusehat_auth_url = ?1, satusehat_fhir_url = ?2,
                     satusehat_client_id = ?3, satusehat_organization_id = ?4, satusehat_pace = ?5",
                params![
                    link.auth_url.trim_end_matches('/'),
                    link.fhir_url.trim_end_matches('/'),
                    client_id,
                    link.organization_id.trim(),
                    link.pace
                ],
            )?;
            ctx.audit("satusehat.setup", None, &link.fhir_url)
        })
    }

    /// Takes (or keeps) the sender's turn for `holder` for `turn_ms` from now: false while
    /// another sender's turn has not run out, so two PCs never send the same store's visits.
    pub fn take_satusehat_turn(&mut self, holder: &str, turn_ms: i64) -> Result<bool> {
        self.write_as_system(SENDER, |ctx| {
            take_turn(ctx, "satusehat_sender", holder, turn_ms)
        })
    }

    /// Who holds the sender's turn now, if anyone.
    pub fn satusehat_sender(&mut self) -> Result<Option<String>> {
        self.read_as_system(SENDER, |ctx| turn_holder(ctx, "satusehat_sender"))
    }

    /// Gives the sender's turn back.
    pub fn end_satusehat_turn(&mut self, holder: &str) -> Result<()> {
        self.write_as_system(SENDER, |ctx| end_turn(ctx, "satusehat_sender", holder))
    }
}

/// Takes or keeps the turn kept in `table` (a sender's turn: one row, its holder and until
/// when) for `holder`: false while another holder's turn has not run out. A holder's own
/// turn is renewed only once half of it is spent, so an idle sender's look writes nothing
/// (every write wakes the screens that follow the store).
pub(crate) fn take_turn(
    ctx: &crate::Ctx<'_>,
    table: &'static str,
    holder: &str,
    turn_ms: i64,
) -> Result<bool> {
    let until_ms = ctx.now_ms.saturating_add(turn_ms);
    let renew_before = ctx.now_ms.saturating_add(turn_ms / 2);
    ctx.tx.execute(
        &format!(
            "INSERT INTO {table} (id, holder, until) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, until = excluded.until
             WHERE ({table}.holder = excluded.holder AND {table}.until < ?4)
                OR {table}.until < ?3"
        ),
        params![holder, until_ms, ctx.now_ms, renew_before],
    )?;
    Ok(turn_holder(ctx, table)?.as_deref() == Some(holder))
}

/// Who holds the turn kept in `table` now.
pub(crate) fn turn_holder(ctx: &crate::Ctx<'_>, table: &'static str) -> Result<Option<String>> {
    Ok(ctx
        .tx
        .query_row(
            &format!("SELECT holder FROM {table} WHERE until >= ?1"),
            [ctx.now_ms],
            |r| r.get(0),
        )
        .optional()?)
}

/// Gives `holder`'s turn kept in `table` back.
pub(crate) fn end_turn(ctx: &crate::Ctx<'_>, table: &'static str, holder: &str) -> Result<()> {
    ctx.tx
        .execute(&format!("DELETE FROM {table} WHERE holder = ?1"), [holder])?;
    Ok(())
}
