//! The queue of BPJS visits to P-Care and Antrean FKTP: which steps are due, and what
//! became of each attempt. As for SATUSEHAT, a visit's state decides, not when BPJS was set
//! up: a BPJS visit of this Puskesmas (paid by JKN, its patient holding a BPJS number)
//! needs its pendaftaran and antrean once registered, antrean/panggil once called, its
//! kunjungan once finished or referred (again after a change), antrean/batal and the
//! pendaftaran's deletion once cancelled. A step that needs another's answer (the
//! kunjungan the pendaftaran's) waits for it; the same states (`waiting`, `retrying`,
//! `refused`, `sent`) and the same "Kirim ulang" as SATUSEHAT's.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension};

use crate::access::{Action, Session};
use crate::diagnoses::diagnoses_of_visit;
use crate::enums::stored_enum;
use crate::patients::{patient_row_at, Patient, PATIENT_COLUMNS, PATIENT_COLUMN_COUNT};
use crate::satusehat_queue::{DeliveryState, DeliveryStatus, PendingDelivery};
use crate::visits::{visit_row, VisitDetail, VISIT_COLUMNS, VISIT_COLUMN_COUNT};
use crate::{Result, Store};

/// The name the sender writes under in the audit log.
const SENDER: &str = "bpjs";

stored_enum!(
    /// One call to BPJS a visit needs.
    BpjsStep, "BPJS step" {
        /// P-Care `POST /pendaftaran`: its answer is the noUrut.
        Pendaftaran = "pendaftaran",
        /// Antrean FKTP `POST /antrean/add`.
        Antrean = "antrean",
        /// Antrean FKTP `POST /antrean/panggil`: the patient was called in.
        Panggil = "panggil",
        /// P-Care `POST /kunjungan/V1` (`PUT` once it has a noKunjungan).
        Kunjungan = "kunjungan",
        /// Antrean FKTP `POST /antrean/batal`.
        Batal = "batal",
        /// P-Care `DELETE /pendaftaran/…`: the registration of a cancelled visit withdrawn.
        Hapus = "hapus",
    }
);

/// One step due at BPJS, with what its request is made from.
#[derive(Clone, Debug, PartialEq)]
pub struct BpjsDue {
    /// Which call.
    pub step: BpjsStep,
    /// Attempts of this step so far (more than none: the last answer may have been lost).
    pub attempts: i64,
    /// The visit, with its diagnoses (primary first).
    pub visit: VisitDetail,
    /// Its patient.
    pub patient: Patient,
    /// The unit's name here.
    pub unit_name: String,
    /// The unit's kdPoli, when an admin mapped it.
    pub kd_poli: Option<String>,
    /// The examiner's kdDokter and name, else the first doctor mapped (Antrean names one
    /// before anyone examines).
    pub dokter: Option<(String, String)>,
    /// The pendaftaran's noUrut, once P-Care gave it.
    pub no_urut: Option<String>,
    /// The kunjungan's noKunjungan, once P-Care gave it.
    pub no_kunjungan: Option<String>,
}

/// Where one BPJS visit stands with P-Care and Antrean.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BpjsVisitState {
    /// Its least advanced step's state (`sent` once every call it needs went).
    pub state: DeliveryState,
    /// The pendaftaran's noUrut.
    pub no_urut: Option<String>,
    /// The kunjungan's noKunjungan.
    pub no_kunjungan: Option<String>,
    /// Why a step is not sent, in BPJS's words where it gave them.
    pub reason: Option<String>,
}

/// What became of one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// BPJS holds it; with what it answered (the noUrut, the noKunjungan).
    Sent {
        /// BPJS's answer worth keeping.
        answer: Option<String>,
    },
    /// To be tried again `after_ms` from now, for `reason`.
    Again {
        /// Waiting (something the step needs) or retrying (the link failed).
        state: DeliveryState,
        /// Why.
        reason: String,
        /// How long from now.
        after_ms: i64,
    },
    /// Refused by BPJS, in its own words (with its field messages).
    Refused {
        /// BPJS's words.
        reason: String,
    },
}

/// The steps each BPJS visit of this Puskesmas needs (`ready`: what it waits for is
/// sent), with the visit's row, version and time; `{VISITS}` narrows the visits looked at.
const NEEDED_OF: &str = "
WITH bv AS (
    SELECT v.id, v.status, v.started_at, v.version, v.arrived_at,
           coalesce(v.ended_at, v.arrived_at) AS at, p.patient_number,
           pd.state AS p_state, an.state AS a_state
    FROM visit v JOIN patient p ON p.id = v.patient_id
    LEFT JOIN bpjs_delivery pd ON pd.visit_id = v.id AND pd.step = 'pendaftaran'
    LEFT JOIN bpjs_delivery an ON an.visit_id = v.id AND an.step = 'antrean'
    WHERE v.facility_code = (SELECT code FROM facility)
      AND v.payer IN ('bpjs_pbi', 'bpjs_non_pbi') AND p.bpjs_number IS NOT NULL {VISITS}
),
needed AS (
    SELECT id, 'pendaftaran' AS step, 1 AS ord, 1 AS ready FROM bv
        WHERE status != 'cancelled' OR p_state IS NOT NULL
    UNION ALL SELECT id, 'antrean', 2, 1 FROM bv
        WHERE status != 'cancelled' OR a_state IS NOT NULL
    UNION ALL SELECT id, 'panggil', 3, a_state IS 'sent' FROM bv
        WHERE started_at IS NOT NULL
    UNION ALL SELECT id, 'kunjungan', 4, p_state IS 'sent' FROM bv
        WHERE status IN ('finished', 'referred')
    UNION ALL SELECT id, 'batal', 5, 1 FROM bv WHERE status = 'cancelled' AND a_state IS 'sent'
    UNION ALL SELECT id, 'hapus', 6, 1 FROM bv WHERE status = 'cancelled' AND p_state IS 'sent'
)";

/// [`NEEDED_OF`] over the BPJS visits that may have a call to make (`bpjs_todo`).
fn needed() -> String {
    NEEDED_OF.replace("{VISITS}", "AND v.id IN (SELECT visit_id FROM bpjs_todo)")
}

/// The visits of `needed` with a call not at BPJS (or changed since, for a kunjungan).
const UNSENT: &str = "d.state IS NULL OR d.state != 'sent'
    OR (n.step = 'kunjungan' AND d.sent_version < bv.version)";

/// [`NEEDED_OF`] over the visits of the patient numbered `?1`.
fn needed_of_patient() -> String {
    NEEDED_OF.replace(
        "{VISITS}",
        "AND v.patient_id = (SELECT id FROM patient WHERE patient_number = ?1)",
    )
}

impl Store {
    /// Up to `limit` steps due now, in the order visits arrived and each visit's steps go.
    pub fn bpjs_due(&mut self, limit: usize) -> Result<Vec<BpjsDue>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read_as_system(SENDER, |ctx| {
            let mut stmt = ctx.tx.prepare_cached(&format!(
                "{}
                 SELECT n.id, n.step, coalesce(d.attempts, 0) FROM needed n
                 JOIN bv ON bv.id = n.id
                 LEFT JOIN bpjs_delivery d ON d.visit_id = n.id AND d.step = n.step
                 WHERE n.ready AND (d.state IS NULL
                     OR (d.state IN ('waiting', 'retrying') AND d.next_try_at <= ?1)
                     OR (n.step = 'kunjungan' AND d.state = 'sent' AND d.sent_version < bv.version))
                 ORDER BY bv.arrived_at, bv.id, n.ord LIMIT ?2",
                needed()
            ))?;
            let rows = stmt
                .query_map(params![ctx.now_ms, limit], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, BpjsStep>(1)?, r.get(2)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(row, step, attempts)| due_step(ctx, row, step, attempts))
                .collect()
        })
    }

    /// Forgets the visits whose every call is at BPJS (a change to one brings it back):
    /// the sender does this before each round, so a look costs what is unsettled.
    pub fn prune_bpjs_todo(&mut self) -> Result<usize> {
        self.write_as_system(SENDER, prune)
    }

    /// Records what became of an attempt at `step` of visit `visit_id`, read at `version`.
    pub fn record_bpjs_step(
        &mut self,
        visit_id: &str,
        step: BpjsStep,
        version: i64,
        outcome: &StepOutcome,
    ) -> Result<()> {
        self.write_as_system(SENDER, |ctx| {
            let row = crate::satusehat_queue::visit_row_id(ctx, visit_id)?;
            let (state, reason, next_try, answer) = match outcome {
                StepOutcome::Sent { answer } => (DeliveryState::Sent, None, 0, answer.as_deref()),
                StepOutcome::Again {
                    state,
                    reason,
                    after_ms,
                } => (
                    *state,
                    Some(reason.as_str()),
                    ctx.now_ms.saturating_add(*after_ms),
                    None,
                ),
                StepOutcome::Refused { reason } => {
                    (DeliveryState::Refused, Some(reason.as_str()), 0, None)
                }
            };
            let sent = matches!(outcome, StepOutcome::Sent { .. });
            ctx.tx.execute(
                "INSERT INTO bpjs_delivery
                     (visit_id, step, state, attempts, next_try_at, reason, answer, sent_version, sent_at)
                 VALUES (?1, ?2, ?3, CASE WHEN ?8 THEN 0 ELSE 1 END, ?4, ?5, ?6,
                         CASE WHEN ?8 THEN ?7 END, CASE WHEN ?8 THEN ?9 END)
                 ON CONFLICT (visit_id, step) DO UPDATE SET
                     state = excluded.state,
                     attempts = CASE WHEN ?8 THEN 0 ELSE attempts + 1 END,
                     next_try_at = excluded.next_try_at,
                     reason = excluded.reason,
                     answer = coalesce(excluded.answer, answer),
                     sent_version = coalesce(excluded.sent_version, sent_version),
                     sent_at = coalesce(excluded.sent_at, sent_at)",
                params![row, step, state, next_try, reason, answer, version, sent, ctx.now_ms],
            )?;
            if let StepOutcome::Refused { reason } = outcome {
                let patient: String = ctx.tx.query_row(
                    "SELECT p.patient_number FROM visit v JOIN patient p ON p.id = v.patient_id
                     WHERE v.id = ?1",
                    [row],
                    |r| r.get(0),
                )?;
                ctx.audit("bpjs.refused", Some(&patient), &format!("{step}: {reason}"))?;
            }
            Ok(())
        })
    }

    /// The queue: counts per state (of the steps visits need), the last call BPJS took,
    /// and the oldest `list` steps not at BPJS (for the sender's own command line).
    pub fn bpjs_status(&mut self, list: usize) -> Result<DeliveryStatus> {
        self.read_as_system(SENDER, |ctx| status(ctx, list))
    }

    /// [`Store::bpjs_status`] for a person: the counts for anyone, the steps not sent for
    /// admins only (they name patients and BPJS's reasons).
    pub fn bpjs_status_for(&mut self, session: &Session, list: usize) -> Result<DeliveryStatus> {
        let action = if list > 0 {
            Action::ManageFacility
        } else {
            Action::ReadPatients
        };
        self.read(session, action, |ctx| status(ctx, list))
    }

    /// "Kirim ulang": the refused or waiting steps of visit `visit_id`, or with `None`
    /// every such step, are due again now (admins only, audited): after mending a visit,
    /// or mapping a unit's kdPoli. Returns how many.
    pub fn retry_bpjs(&mut self, session: &Session, visit_id: Option<&str>) -> Result<usize> {
        self.write(session, Action::ManageFacility, |ctx| {
            let count = match visit_id {
                Some(visit_id) => {
                    let row = crate::satusehat_queue::visit_row_id(ctx, visit_id)?;
                    ctx.tx.execute(
                        "UPDATE bpjs_delivery SET state = 'waiting', next_try_at = 0
                         WHERE visit_id = ?1 AND state IN ('refused', 'waiting')",
                        [row],
                    )?
                }
                None => ctx.tx.execute(
                    "UPDATE bpjs_delivery SET state = 'waiting', next_try_at = 0
                     WHERE state IN ('refused', 'waiting')",
                    [],
                )?,
            };
            ctx.audit(
                "bpjs.retry",
                None,
                &format!("{} ({count})", visit_id.unwrap_or("all refused or waiting")),
            )?;
            Ok(count)
        })
    }

    /// Where each BPJS visit of one patient stands with P-Care, by visit id (the poli
    /// shows it beside a visit).
    pub fn bpjs_visit_states(
        &mut self,
        session: &Session,
        patient_number: &str,
    ) -> Result<BTreeMap<String, BpjsVisitState>> {
        self.read(session, Action::ReadPatients, |ctx| {
            visit_states_of(ctx, patient_number)
        })
    }

    /// Marks every call of the BPJS visits before `day` (`YYYY-MM-DD`, the queue day) as
    /// already at BPJS (admins only, audited): for a Puskesmas whose earlier visits another
    /// SIMPUS bridged, and the demo's made-up past. Returns how many calls.
    pub fn settle_bpjs_before(&mut self, session: &Session, day: &str) -> Result<usize> {
        let day = kartika_card::model::parse_iso_date(day.trim(), "day")?.to_string();
        self.write(session, Action::ManageFacility, |ctx| {
            let mut settled = 0;
            // Twice: the calls that follow another (batal, hapus) are needed once it is sent.
            for _ in 0..2 {
                settled += ctx.tx.execute(
                    &format!(
                        "{}
                         INSERT OR IGNORE INTO bpjs_delivery
                             (visit_id, step, state, attempts, next_try_at, sent_version, sent_at)
                         SELECT n.id, n.step, 'sent', 0, 0, v.version, ?2
                         FROM needed n JOIN visit v ON v.id = n.id WHERE v.queue_date < ?1",
                        needed()
                    ),
                    params![day, ctx.now_ms],
                )?;
            }
            prune(ctx)?;
            ctx.audit("bpjs.settled", None, &format!("before {day} ({settled})"))?;
            Ok(settled)
        })
    }

    /// Takes (or keeps) BPJS's sender turn for `holder`, as
    /// [`Store::take_satusehat_turn`] does SATUSEHAT's.
    pub fn take_bpjs_turn(&mut self, holder: &str, turn_ms: i64) -> Result<bool> {
        self.write_as_system(SENDER, |ctx| {
            crate::satusehat_queue::take_turn(ctx, "bpjs_sender", holder, turn_ms)
        })
    }

    /// Who holds BPJS's sender turn now, if anyone.
    pub fn bpjs_sender(&mut self) -> Result<Option<String>> {
        self.read_as_system(SENDER, |ctx| {
            crate::satusehat_queue::turn_holder(ctx, "bpjs_sender")
        })
    }

    /// Gives BPJS's sender turn back.
    pub fn end_bpjs_turn(&mut self, holder: &str) -> Result<()> {
        self.write_as_system(SENDER, |ctx| {
            crate::satusehat_queue::end_turn(ctx, "bpjs_sender", holder)
        })
    }
}

/// [`Store::bpjs_visit_states`] inside a transaction (a patient's history carries it).
pub(crate) fn visit_states_of(
    ctx: &crate::Ctx<'_>,
    patient_number: &str,
) -> Result<BTreeMap<String, BpjsVisitState>> {
    let mut stmt = ctx.tx.prepare_cached(&format!(
        "{}
         SELECT v.uuid, n.step, coalesce(d.state, 'waiting'), d.reason, d.answer
         FROM needed n JOIN visit v ON v.id = n.id
         LEFT JOIN bpjs_delivery d ON d.visit_id = n.id AND d.step = n.step
         ORDER BY n.id, n.ord",
        needed_of_patient()
    ))?;
    let rows = stmt.query_map([patient_number], |r| {
        Ok((
            r.get::<_, uuid::Uuid>(0)?.to_string(),
            r.get::<_, BpjsStep>(1)?,
            r.get::<_, DeliveryState>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
        ))
    })?;
    let mut states: BTreeMap<String, BpjsVisitState> = BTreeMap::new();
    for row in rows {
        let (visit, step, state, reason, answer) = row?;
        let entry = states.entry(visit).or_insert(BpjsVisitState {
            state: DeliveryState::Sent,
            no_urut: None,
            no_kunjungan: None,
            reason: None,
        });
        match step {
            BpjsStep::Pendaftaran => entry.no_urut.clone_from(&answer),
            BpjsStep::Kunjungan => entry.no_kunjungan.clone_from(&answer),
            _ => {}
        }
        // The visit shows its worst step: refused over retrying over waiting.
        let rank = |s: DeliveryState| match s {
            DeliveryState::Sent => 0,
            DeliveryState::Waiting => 1,
            DeliveryState::Retrying => 2,
            DeliveryState::Refused => 3,
        };
        if rank(state) > rank(entry.state) {
            entry.state = state;
            entry.reason = reason;
        }
    }
    Ok(states)
}

fn prune(ctx: &crate::Ctx<'_>) -> Result<usize> {
    Ok(ctx.tx.execute(
        &format!(
            "{},
             unsettled AS (
                 SELECT DISTINCT n.id FROM needed n JOIN bv ON bv.id = n.id
                 LEFT JOIN bpjs_delivery d ON d.visit_id = n.id AND d.step = n.step
                 WHERE {UNSENT})
             DELETE FROM bpjs_todo WHERE visit_id NOT IN (SELECT id FROM unsettled)",
            needed()
        ),
        [],
    )?)
}

fn due_step(ctx: &crate::Ctx<'_>, row: i64, step: BpjsStep, attempts: i64) -> Result<BpjsDue> {
    let (mut visit, patient, unit_name, kd_poli) = ctx
        .tx
        .prepare_cached(&format!(
            "SELECT {VISIT_COLUMNS}, {PATIENT_COLUMNS}, u.name,
                    (SELECT kd_poli FROM bpjs_unit_code c WHERE c.unit_code = v.unit_code)
             FROM visit v JOIN service_unit u ON u.code = v.unit_code
             JOIN patient p ON p.id = v.patient_id WHERE v.id = ?1"
        ))?
        .query_row([row], |r| {
            let patient = patient_row_at(r, VISIT_COLUMN_COUNT)?;
            let (_, visit) = visit_row(r, &patient.patient_number)?;
            let after = VISIT_COLUMN_COUNT + PATIENT_COLUMN_COUNT;
            Ok((visit, patient, r.get(after)?, r.get(after + 1)?))
        })?;
    visit.diagnoses = diagnoses_of_visit(ctx, row)?;
    let examiner = visit
        .ended
        .as_ref()
        .or(visit.started.as_ref())
        .map(|s| s.by.clone());
    let dokter = ctx
        .tx
        .prepare_cached(
            "SELECT c.kd_dokter, s.display_name FROM bpjs_staff_code c
             JOIN staff s ON s.username = c.username
             ORDER BY c.username IS NOT ?1, c.username LIMIT 1",
        )?
        .query_row([examiner], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let answer = |step: &str| -> Result<Option<String>> {
        Ok(ctx
            .tx
            .prepare_cached("SELECT answer FROM bpjs_delivery WHERE visit_id = ?1 AND step = ?2")?
            .query_row(params![row, step], |r| r.get(0))
            .optional()?
            .flatten())
    };
    Ok(BpjsDue {
        step,
        attempts,
        no_urut: answer("pendaftaran")?,
        no_kunjungan: answer("kunjungan")?,
        visit,
        patient,
        unit_name,
        kd_poli,
        dokter,
    })
}

fn status(ctx: &crate::Ctx<'_>, list: usize) -> Result<DeliveryStatus> {
    let mut status = DeliveryStatus::default();
    for state in ["waiting", "sent", "retrying", "refused"] {
        status.counts.insert(state.to_owned(), 0);
    }
    // What is not at BPJS, from the visits with a call to make; what is, from the calls.
    let mut stmt = ctx.tx.prepare_cached(&format!(
        "{}
         SELECT coalesce(d.state, 'waiting'), count(*) FROM needed n JOIN bv ON bv.id = n.id
         LEFT JOIN bpjs_delivery d ON d.visit_id = n.id AND d.step = n.step
         WHERE d.state IS NULL OR d.state != 'sent' GROUP BY 1",
        needed()
    ))?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))? {
        let (state, count) = row?;
        status.counts.insert(state, count);
    }
    let sent: i64 = ctx.tx.query_row(
        "SELECT count(*) FROM bpjs_delivery WHERE state = 'sent'",
        [],
        |r| r.get(0),
    )?;
    status.counts.insert("sent".into(), sent);
    status.last_sent_at = ctx
        .tx
        .query_row("SELECT max(sent_at) FROM bpjs_delivery", [], |r| r.get(0))
        .optional()?
        .flatten();
    let limit = i64::try_from(list).unwrap_or(i64::MAX);
    let mut stmt = ctx.tx.prepare_cached(&format!(
        "{}
         SELECT v.uuid, bv.patient_number, coalesce(d.state, 'waiting'), d.reason,
                coalesce(d.attempts, 0), bv.at, n.step
         FROM needed n JOIN bv ON bv.id = n.id JOIN visit v ON v.id = n.id
         LEFT JOIN bpjs_delivery d ON d.visit_id = n.id AND d.step = n.step
         WHERE d.state IS NULL OR d.state != 'sent'
         ORDER BY d.state = 'refused' DESC, bv.arrived_at, bv.id, n.ord LIMIT ?1",
        needed()
    ))?;
    let rows = stmt.query_map([limit], |r| {
        Ok(PendingDelivery {
            visit_id: r.get::<_, uuid::Uuid>(0)?.to_string(),
            patient_number: r.get(1)?,
            state: r.get(2)?,
            reason: r.get(3)?,
            attempts: r.get(4)?,
            ended_at: r.get(5)?,
            step: Some(r.get(6)?),
        })
    })?;
    status.visits = rows.collect::<rusqlite::Result<_>>()?;
    Ok(status)
}
