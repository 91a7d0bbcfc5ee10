//! Visits: a queue number per unit per local day, the status steps with who and when,
//! the examination, and a patient's whole history.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::access::{Action, Session};
use crate::cards::{cards_of, Card};
use crate::clock::{self, from_millis};
use crate::diagnoses::{diagnoses_of_patient, Diagnosis};
use crate::enums::stored_enum;
use crate::patients::{find_by_number, Patient};
use crate::text::optional_text;
use crate::{new_uuid, parse_uuid, Ctx, OutboxKind, Result, Store, StoreError};

stored_enum!(
    /// Who pays (cara bayar).
    Payer, "payer" {
        /// Umum: the patient pays.
        General = "general",
        /// BPJS PBI: JKN with the premium paid by the state.
        BpjsPbi = "bpjs_pbi",
        /// BPJS non-PBI: contributory JKN.
        BpjsNonPbi = "bpjs_non_pbi",
    }
);

stored_enum!(
    /// Kunjungan sakit or sehat.
    Care, "care" {
        /// A sick visit.
        Sick = "sick",
        /// A well visit: immunisation, family planning, a check-up.
        Well = "well",
    }
);

stored_enum!(
    /// Where a visit stands (Antri, Dilayani, Selesai, Dirujuk, Batal).
    VisitStatus, "visit status" {
        /// Antri: has a queue number, not yet called.
        Waiting = "waiting",
        /// Dilayani: being seen.
        InProgress = "in_progress",
        /// Selesai.
        Finished = "finished",
        /// Dirujuk: referred elsewhere.
        Referred = "referred",
        /// Batal: left before being seen.
        Cancelled = "cancelled",
    }
);

/// A visit to open at the desk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewVisit {
    /// The patient's number.
    pub patient_number: String,
    /// The service unit's code, for example `general`.
    pub unit_code: String,
    /// Who pays.
    pub payer: Payer,
    /// Sick or well.
    pub care: Care,
    /// The complaint in the patient's words (keluhan), if given at the desk.
    pub complaint: Option<String>,
}

/// The queue number the desk hands over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitTicket {
    /// The visit's id.
    pub visit_id: String,
    /// What is called out, for example `U-007`.
    pub ticket: String,
    /// The number alone.
    pub queue_number: i64,
    /// The unit's code.
    pub unit_code: String,
    /// The unit's name.
    pub unit_name: String,
    /// The facility's local day, `YYYY-MM-DD`.
    pub queue_date: String,
    /// Kunjungan baru: the patient's first visit here this year.
    pub first_this_year: bool,
    /// Dalam wilayah; `None` when the patient's village is not known.
    pub inside_catchment: Option<bool>,
    /// Patients of the unit still waiting before this number, when the ticket was made.
    #[serde(default)]
    pub waiting_ahead: i64,
}

/// One line of a unit's queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueEntry {
    /// The visit's id.
    pub visit_id: String,
    /// For example `U-007`.
    pub ticket: String,
    /// The unit's code.
    pub unit_code: String,
    /// The patient's number.
    pub patient_number: String,
    /// The patient's name.
    pub name: String,
    /// Where the visit stands.
    pub status: VisitStatus,
    /// Who pays.
    pub payer: Payer,
    /// Sick or well.
    pub care: Care,
    /// When the patient was registered.
    #[serde(with = "time::serde::rfc3339")]
    pub arrived_at: OffsetDateTime,
    /// When the patient was called in.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// When the visit was finished, referred or cancelled.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
}

/// Vital signs; each one optional, each within what a human body can show.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Vitals {
    /// Sistole, mmHg.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub systolic: Option<i64>,
    /// Diastole, mmHg.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diastolic: Option<i64>,
    /// Nadi, beats a minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulse: Option<i64>,
    /// Napas, breaths a minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub respiratory_rate: Option<i64>,
    /// Suhu, °C.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Berat badan, kg.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Tinggi badan, cm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<f64>,
}

/// A step of the visit: when and by whom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who (username).
    pub by: String,
}

/// A visit, whole. In JSON (the record a sync pushes) a field not known is left out, as in
/// [`Patient`](crate::Patient).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitDetail {
    /// The visit's id.
    pub visit_id: String,
    /// The patient's number.
    pub patient_number: String,
    /// The facility where it took place.
    pub facility_code: String,
    /// The unit's code.
    pub unit_code: String,
    /// For example `U-007`.
    pub ticket: String,
    /// The facility's local day.
    pub queue_date: String,
    /// Who pays.
    pub payer: Payer,
    /// Sick or well.
    pub care: Care,
    /// Kunjungan baru.
    pub first_this_year: bool,
    /// Dalam wilayah.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inside_catchment: Option<bool>,
    /// Where it stands.
    pub status: VisitStatus,
    /// Registered.
    pub arrived: Step,
    /// Called in (Dilayani).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<Step>,
    /// Finished, referred or cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended: Option<Step>,
    /// Keluhan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complaint: Option<String>,
    /// The examiner's notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Vital signs.
    pub vitals: Vitals,
    /// Diagnoses, primary first.
    pub diagnoses: Vec<Diagnosis>,
    /// Counts changes; the registry keeps the newest.
    pub version: i64,
    /// Where a referred patient was sent (rujukan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_to: Option<String>,
}

/// A patient with every card and visit, here and at other Puskesmas, newest visit first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientHistory {
    /// The patient.
    pub patient: Patient,
    /// Their cards.
    pub cards: Vec<Card>,
    /// Their visits.
    pub visits: Vec<VisitDetail>,
    /// Where each finished visit of this Puskesmas stands with SATUSEHAT, by visit id.
    #[serde(default)]
    pub satusehat: std::collections::BTreeMap<String, crate::DeliveryState>,
    /// Where each BPJS visit of this Puskesmas stands with P-Care, by visit id.
    #[serde(default)]
    pub bpjs: std::collections::BTreeMap<String, crate::BpjsVisitState>,
}

/// What the examiner records.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Examination {
    /// Keluhan; `None` keeps what the desk wrote.
    pub complaint: Option<String>,
    /// Notes (anamnesa, tindakan).
    pub notes: Option<String>,
    /// Vital signs.
    pub vitals: Vitals,
}

/// A ticket as printed: `U-012`; a number of a desk's emergency series (see
/// [`emergency_number`]) as `U-B07`, the series' letter and its own count.
pub fn ticket(prefix: &str, number: i64) -> String {
    if number < 0 {
        let (series, count) = (-number / 1000, -number % 1000);
        let letter = char::from(b'A' + u8::try_from(series - 1).unwrap_or(0).min(25));
        return format!("{prefix}-{letter}{count:02}");
    }
    format!("{prefix}-{number:03}")
}

/// The most emergency series (workstations registering while the server is away).
pub const EMERGENCY_SERIES: u8 = 26;

/// The queue number of the `count`th ticket of emergency series `series` (1 to 26): a
/// desk that cannot reach the server hands these out, and they never meet the server's
/// own numbers (which are positive) nor another desk's series. Emergency visits come
/// first in the queue: their patients have waited since the server went away.
pub fn emergency_number(series: u8, count: u16) -> Option<i64> {
    ((1..=EMERGENCY_SERIES).contains(&series) && (1..1000).contains(&count))
        .then(|| -(i64::from(series) * 1000 + i64::from(count)))
}

fn check_range<T: PartialOrd + std::fmt::Display + Copy>(
    value: Option<T>,
    field: &'static str,
    low: T,
    high: T,
    unit: &str,
) -> Result<()> {
    match value {
        // `contains` is false for NaN too.
        Some(v) if !(low..=high).contains(&v) => Err(StoreError::invalid(
            field,
            format!("{v} {unit} is outside what a human body shows ({low} to {high})"),
        )),
        _ => Ok(()),
    }
}

impl Vitals {
    /// Checks each sign against what a living human shows, and the pressures together.
    pub fn validate(&self) -> Result<()> {
        check_range(self.systolic, "systolic pressure", 40, 300, "mmHg")?;
        check_range(self.diastolic, "diastolic pressure", 20, 200, "mmHg")?;
        check_range(self.pulse, "pulse", 20, 300, "/min")?;
        check_range(self.respiratory_rate, "respiratory rate", 4, 80, "/min")?;
        check_range(self.temperature, "temperature", 30.0, 45.0, "°C")?;
        check_range(self.weight, "weight", 0.3, 350.0, "kg")?;
        check_range(self.height, "height", 20.0, 250.0, "cm")?;
        if let (Some(s), Some(d)) = (self.systolic, self.diastolic) {
            if d >= s {
                return Err(StoreError::invalid(
                    "blood pressure",
                    format!("{s}/{d}: the diastolic must be below the systolic"),
                ));
            }
        }
        if self.systolic.is_some() != self.diastolic.is_some() {
            return Err(StoreError::invalid(
                "blood pressure",
                "needs both the systolic and the diastolic",
            ));
        }
        Ok(())
    }
}

impl Store {
    /// Opens a visit: allocates the unit's next queue number for today, works out
    /// first-visit-this-year and catchment, and writes the visit, its audit entry and its
    /// outbox row in one durable transaction.
    pub fn register_visit(&mut self, session: &Session, new: &NewVisit) -> Result<VisitTicket> {
        self.open_visit(session, new, None)
    }

    /// Opens a visit a desk registered while the server was away, with the number it
    /// handed out then (see [`emergency_number`]) and the time the patient arrived. The
    /// number must be one of `series`, the sending desk's own (the server knows it from
    /// the desk's certificate): no desk takes another's numbers or jumps the queue with a
    /// number of no series.
    pub fn register_emergency_visit(
        &mut self,
        session: &Session,
        new: &NewVisit,
        number: i64,
        arrived_at: time::OffsetDateTime,
        series: u8,
    ) -> Result<VisitTicket> {
        let of_series = (1..1000)
            .filter_map(|count| emergency_number(series, count))
            .any(|n| n == number);
        if !of_series {
            return Err(StoreError::invalid(
                "queue number",
                format!(
                    "{number} is not a number of this desk's emergency series {}",
                    ticket("", emergency_number(series, 1).unwrap_or(-1))
                        .trim_start_matches('-')
                        .trim_end_matches(char::is_numeric)
                ),
            ));
        }
        self.open_visit(session, new, Some((number, arrived_at)))
    }

    fn open_visit(
        &mut self,
        session: &Session,
        new: &NewVisit,
        emergency: Option<(i64, time::OffsetDateTime)>,
    ) -> Result<VisitTicket> {
        let complaint = optional_text(new.complaint.as_deref(), "complaint", 500, true)?;
        self.write(session, Action::RegisterVisit, |ctx| {
            let (unit_name, prefix) = unit(ctx, &new.unit_code)?;
            let (patient_id, patient) = find_by_number(ctx.tx, &new.patient_number)?;
            let today = kartika_card::model::format_iso_date(ctx.today);
            let queued: Option<i64> = ctx
                .tx
                .prepare_cached(
                    // By patient: a handful of rows. The planner, not knowing that, would
                    // walk the unit's whole queue for the day.
                    "SELECT queue_number FROM visit INDEXED BY visit_patient
                     WHERE patient_id = ?1 AND unit_code = ?2 AND queue_date = ?3
                     AND status != 'cancelled'",
                )?
                .query_row(params![patient_id, new.unit_code, today], |r| r.get(0))
                .optional()?;
            if let Some(number) = queued {
                return Err(StoreError::AlreadyQueued {
                    ticket: ticket(&prefix, number),
                    unit: unit_name,
                });
            }
            let (number, arrived_at) = match emergency {
                Some((number, at)) => {
                    let at = clock::to_millis(at);
                    // Today, and not ahead of the server's clock.
                    if at > ctx.now_ms
                        || clock::local_date(from_millis(at), ctx.facility.offset()) != ctx.today
                    {
                        return Err(StoreError::invalid("arrival time", "must be earlier today"));
                    }
                    let taken: bool = ctx.tx.query_row(
                        "SELECT EXISTS (SELECT 1 FROM visit WHERE unit_code = ?1
                         AND queue_date = ?2 AND queue_number = ?3)",
                        params![new.unit_code, today, number],
                        |r| r.get(0),
                    )?;
                    if taken {
                        return Err(StoreError::Conflict(format!(
                            "emergency ticket {} was given already today",
                            ticket(&prefix, number)
                        )));
                    }
                    (number, at)
                }
                None => {
                    let number: i64 = ctx
                        .tx
                        .prepare_cached(
                            // The emergency series are negative: the server's own count
                            // goes on from its own numbers.
                            "SELECT coalesce(max(queue_number), 0) + 1 FROM visit
                             WHERE unit_code = ?1 AND queue_date = ?2 AND queue_number > 0",
                        )?
                        .query_row(params![new.unit_code, today], |r| r.get(0))?;
                    (number, ctx.now_ms)
                }
            };
            let year_start = format!("{:04}-01-01", ctx.today.year());
            let seen_this_year: bool = ctx
                .tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM visit WHERE patient_id = ?1
                     AND queue_date >= ?2 AND status != 'cancelled')",
                )?
                .query_row(params![patient_id, year_start], |r| r.get(0))?;
            let inside = ctx
                .facility
                .inside_catchment(patient.region_code.as_deref());
            let uuid = new_uuid();
            ctx.tx
                .prepare_cached(
                    "INSERT INTO visit (uuid, patient_id, facility_code, unit_code, queue_date,
                        queue_number, payer, care, first_this_year, inside_catchment, status,
                        arrived_at, arrived_by, complaint)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'waiting', ?11, ?12, ?13)",
                )?
                .execute(params![
                    uuid,
                    patient_id,
                    ctx.facility.code,
                    new.unit_code,
                    today,
                    number,
                    new.payer,
                    new.care,
                    !seen_this_year,
                    inside,
                    arrived_at,
                    ctx.actor,
                    complaint,
                ])?;
            let ticket = ticket(&prefix, number);
            ctx.audit(
                "visit.register",
                Some(&patient.patient_number),
                &format!("{ticket} {}", new.unit_code),
            )?;
            // A new visit is known whole: queue it without reading it back.
            let visit = VisitDetail {
                visit_id: uuid.to_string(),
                patient_number: patient.patient_number,
                facility_code: ctx.facility.code.clone(),
                unit_code: new.unit_code.clone(),
                ticket: ticket.clone(),
                queue_date: today.clone(),
                payer: new.payer,
                care: new.care,
                first_this_year: !seen_this_year,
                inside_catchment: inside,
                status: VisitStatus::Waiting,
                arrived: Step {
                    at: from_millis(arrived_at),
                    by: ctx.actor.to_owned(),
                },
                started: None,
                ended: None,
                complaint,
                notes: None,
                vitals: Vitals::default(),
                diagnoses: Vec::new(),
                version: 1,
                referred_to: None,
            };
            ctx.outbox(OutboxKind::Visit, &visit.visit_id, &visit)?;
            let waiting_ahead = crate::desk::waiting_ahead(ctx, &new.unit_code, &today, number)?;
            Ok(VisitTicket {
                visit_id: visit.visit_id,
                ticket,
                queue_number: number,
                unit_code: new.unit_code.clone(),
                unit_name,
                queue_date: today,
                first_this_year: !seen_this_year,
                inside_catchment: inside,
                waiting_ahead,
            })
        })
    }

    /// A unit's queue for a day (today when `date` is `None`), in queue order.
    pub fn queue_for_unit(
        &mut self,
        session: &Session,
        unit_code: &str,
        date: Option<&str>,
    ) -> Result<Vec<QueueEntry>> {
        let date = self.day_or_today(date)?;
        self.write(session, Action::ReadPatients, |ctx| {
            unit(ctx, unit_code)?;
            let entries = queue_rows(ctx, Some(unit_code), &date)?;
            ctx.audit("queue.read", None, &format!("{unit_code} {date}"))?;
            Ok(entries)
        })
    }

    /// Every visit of a day, all units, in unit and queue order.
    pub fn visits_on(&mut self, session: &Session, date: Option<&str>) -> Result<Vec<QueueEntry>> {
        let date = self.day_or_today(date)?;
        self.write(session, Action::ReadPatients, |ctx| {
            let entries = queue_rows(ctx, None, &date)?;
            ctx.audit("visit.list", None, &date)?;
            Ok(entries)
        })
    }

    /// Moves a visit to its next status: waiting → in progress → finished or referred;
    /// only a waiting visit can be cancelled.
    pub fn set_visit_status(
        &mut self,
        session: &Session,
        visit_id: &str,
        status: VisitStatus,
    ) -> Result<VisitDetail> {
        let action = if status == VisitStatus::Cancelled {
            Action::CancelVisit
        } else {
            Action::Examine
        };
        self.write(session, action, |ctx| {
            let (row, current, patient_number) = visit_state(ctx, visit_id)?;
            move_visit(ctx, row, current, status)?;
            ctx.audit(&format!("visit.{status}"), Some(&patient_number), visit_id)?;
            publish_visit(ctx, row)
        })
    }

    /// Ends a visit in progress by referring the patient elsewhere (rujukan), saying where.
    pub fn refer_visit(
        &mut self,
        session: &Session,
        visit_id: &str,
        referred_to: &str,
    ) -> Result<VisitDetail> {
        let Some(referred_to) = optional_text(Some(referred_to), "referral", 120, false)? else {
            return Err(StoreError::invalid(
                "referral",
                "say where the patient is referred to, for example RSUD Tangerang Selatan",
            ));
        };
        self.write(session, Action::Examine, |ctx| {
            let (row, current, patient_number) = visit_state(ctx, visit_id)?;
            move_visit(ctx, row, current, VisitStatus::Referred)?;
            ctx.tx
                .prepare_cached("UPDATE visit SET referred_to = ?2 WHERE id = ?1")?
                .execute(params![row, referred_to])?;
            ctx.audit(
                "visit.referred",
                Some(&patient_number),
                &format!("{visit_id} {referred_to}"),
            )?;
            publish_visit(ctx, row)
        })
    }

    /// Calls the unit's next waiting patient of today, in queue order: the visit is in
    /// progress from now, by this session's user. `None` when nobody is waiting. One
    /// transaction, so two rooms of one unit never call the same patient.
    pub fn call_next(&mut self, session: &Session, unit_code: &str) -> Result<Option<VisitDetail>> {
        self.write(session, Action::Examine, |ctx| {
            unit(ctx, unit_code)?;
            let today = kartika_card::model::format_iso_date(ctx.today);
            let next: Option<(i64, String)> = ctx
                .tx
                .prepare_cached(
                    "SELECT v.id, p.patient_number FROM visit v
                     JOIN patient p ON p.id = v.patient_id
                     WHERE v.unit_code = ?1 AND v.queue_date = ?2 AND v.status = 'waiting'
                     ORDER BY v.queue_number LIMIT 1",
                )?
                .query_row(params![unit_code, today], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((row, patient_number)) = next else {
                return Ok(None);
            };
            move_visit(ctx, row, VisitStatus::Waiting, VisitStatus::InProgress)?;
            let visit = publish_visit(ctx, row)?;
            ctx.audit("visit.in_progress", Some(&patient_number), &visit.visit_id)?;
            Ok(Some(visit))
        })
    }

    /// Records complaint, notes and vitals of a visit that is not cancelled.
    pub fn record_examination(
        &mut self,
        session: &Session,
        visit_id: &str,
        exam: &Examination,
    ) -> Result<VisitDetail> {
        exam.vitals.validate()?;
        let complaint = optional_text(exam.complaint.as_deref(), "complaint", 500, true)?;
        let notes = optional_text(exam.notes.as_deref(), "notes", 4000, true)?;
        self.write(session, Action::Examine, |ctx| {
            let (row, status, patient_number) = visit_state(ctx, visit_id)?;
            if status == VisitStatus::Cancelled {
                return Err(StoreError::Conflict("the visit was cancelled".into()));
            }
            let v = &exam.vitals;
            ctx.tx.execute(
                "UPDATE visit SET complaint = coalesce(?2, complaint), notes = ?3, systolic = ?4,
                    diastolic = ?5, pulse = ?6, respiratory_rate = ?7, temperature = ?8,
                    weight = ?9, height = ?10
                 WHERE id = ?1",
                params![
                    row,
                    complaint,
                    notes,
                    v.systolic,
                    v.diastolic,
                    v.pulse,
                    v.respiratory_rate,
                    v.temperature,
                    v.weight,
                    v.height
                ],
            )?;
            ctx.audit("visit.examine", Some(&patient_number), visit_id)?;
            publish_visit(ctx, row)
        })
    }

    /// A patient's details, cards and every visit with its diagnoses. The read is audited.
    pub fn patient_history(
        &mut self,
        session: &Session,
        patient_number: &str,
    ) -> Result<PatientHistory> {
        self.write(session, Action::ReadPatients, |ctx| {
            let (patient_id, patient) = find_by_number(ctx.tx, patient_number)?;
            let cards = cards_of(ctx, patient_id)?;
            let mut stmt = ctx.tx.prepare_cached(&format!(
                "SELECT {VISIT_COLUMNS} FROM visit v JOIN service_unit u ON u.code = v.unit_code
                 WHERE v.patient_id = ?1 ORDER BY v.arrived_at DESC"
            ))?;
            // A record linked into this one keeps its own visits here (a merge moved them).
            let retired = crate::merges::retired_records(ctx, patient_id)?;
            let records =
                std::iter::once((patient_id, patient.patient_number.clone())).chain(retired);
            let mut visits = Vec::new();
            for (row_id, number) in records {
                let mut diagnoses = diagnoses_of_patient(ctx, row_id)?;
                for row in stmt.query_map([row_id], |r| visit_row(r, &number))? {
                    let (visit_row_id, mut visit) = row?;
                    visit.diagnoses = diagnoses.remove(&visit_row_id).unwrap_or_default();
                    visits.push(visit);
                }
                visits.extend(remote_visits(ctx, &number)?);
            }
            visits.sort_by_key(|v| std::cmp::Reverse(v.arrived.at));
            ctx.audit("patient.history", Some(&patient.patient_number), "")?;
            let satusehat = crate::satusehat_queue::states_of_patient(ctx, patient_id)?;
            let bpjs = crate::bpjs_queue::visit_states_of(ctx, &patient.patient_number)?;
            Ok(PatientHistory {
                patient,
                cards,
                visits,
                satusehat,
                bpjs,
            })
        })
    }

    fn day_or_today(&self, date: Option<&str>) -> Result<String> {
        let day = match date.map(str::trim).filter(|d| !d.is_empty()) {
            Some(text) => kartika_card::model::parse_iso_date(text, "date")?,
            None => self.today(),
        };
        Ok(kartika_card::model::format_iso_date(day))
    }
}

/// Moves a visit to its next status: waiting → in progress → finished or referred; only
/// a waiting visit can be cancelled. Records when and by whom.
fn move_visit(ctx: &Ctx<'_>, row: i64, current: VisitStatus, status: VisitStatus) -> Result<()> {
    let column = match (current, status) {
        (VisitStatus::Waiting, VisitStatus::InProgress) => "started",
        (VisitStatus::Waiting, VisitStatus::Cancelled)
        | (VisitStatus::InProgress, VisitStatus::Finished | VisitStatus::Referred) => "ended",
        (
            VisitStatus::InProgress | VisitStatus::Finished | VisitStatus::Referred,
            VisitStatus::Cancelled,
        ) => {
            return Err(StoreError::Conflict(
                "the patient has already been seen; the visit cannot be cancelled".into(),
            ))
        }
        (from, to) => {
            return Err(StoreError::Conflict(format!(
                "a visit that is {from} cannot become {to}"
            )))
        }
    };
    ctx.tx.execute(
        &format!("UPDATE visit SET status = ?2, {column}_at = ?3, {column}_by = ?4 WHERE id = ?1"),
        params![row, status, ctx.now_ms, ctx.actor],
    )?;
    Ok(())
}

/// A unit's name and queue prefix; refuses unknown and retired units.
fn unit(ctx: &Ctx<'_>, code: &str) -> Result<(String, String)> {
    ctx.tx
        .prepare_cached("SELECT name, queue_prefix FROM service_unit WHERE code = ?1 AND active")?
        .query_row([code], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| StoreError::not_found("service unit", code))
}

fn visit_state(ctx: &Ctx<'_>, visit_id: &str) -> Result<(i64, VisitStatus, String)> {
    ctx.tx
        .prepare_cached(
            "SELECT v.id, v.status, p.patient_number FROM visit v
             JOIN patient p ON p.id = v.patient_id WHERE v.uuid = ?1",
        )?
        .query_row([parse_uuid(visit_id)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?
        .ok_or_else(|| StoreError::not_found("visit", visit_id.trim()))
}

fn queue_rows(ctx: &Ctx<'_>, unit_code: Option<&str>, date: &str) -> Result<Vec<QueueEntry>> {
    let mut stmt = ctx.tx.prepare_cached(
        "SELECT v.uuid, u.queue_prefix, v.queue_number, v.unit_code, p.patient_number, p.name,
                v.status, v.payer, v.care, v.arrived_at, v.started_at, v.ended_at
         FROM visit v JOIN patient p ON p.id = v.patient_id
         JOIN service_unit u ON u.code = v.unit_code
         WHERE v.queue_date = ?1 AND (?2 IS NULL OR v.unit_code = ?2)
         ORDER BY v.unit_code, v.queue_number",
    )?;
    let rows = stmt.query_map(params![date, unit_code], |r| {
        let prefix: String = r.get(1)?;
        Ok(QueueEntry {
            visit_id: r.get::<_, uuid::Uuid>(0)?.to_string(),
            ticket: ticket(&prefix, r.get(2)?),
            unit_code: r.get(3)?,
            patient_number: r.get(4)?,
            name: r.get(5)?,
            status: r.get(6)?,
            payer: r.get(7)?,
            care: r.get(8)?,
            arrived_at: from_millis(r.get(9)?),
            started_at: r.get::<_, Option<i64>>(10)?.map(from_millis),
            ended_at: r.get::<_, Option<i64>>(11)?.map(from_millis),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) const VISIT_COLUMNS: &str =
    "v.id, v.uuid, v.facility_code, v.unit_code, u.queue_prefix, \
    v.queue_number, v.queue_date, v.payer, v.care, v.first_this_year, v.inside_catchment, \
    v.status, v.arrived_at, v.arrived_by, v.started_at, v.started_by, v.ended_at, v.ended_by, \
    v.complaint, v.notes, v.systolic, v.diastolic, v.pulse, v.respiratory_rate, \
    v.temperature, v.weight, v.height, v.version, v.referred_to";

/// How many columns [`VISIT_COLUMNS`] names: a query adding its own reads from here on.
pub(crate) const VISIT_COLUMN_COUNT: usize = 29;

fn step(at: Option<i64>, by: Option<String>) -> Option<Step> {
    Some(Step {
        at: from_millis(at?),
        by: by?,
    })
}

pub(crate) fn visit_row(
    r: &rusqlite::Row<'_>,
    patient_number: &str,
) -> rusqlite::Result<(i64, VisitDetail)> {
    let prefix: String = r.get(4)?;
    Ok((
        r.get(0)?,
        VisitDetail {
            visit_id: r.get::<_, uuid::Uuid>(1)?.to_string(),
            patient_number: patient_number.to_owned(),
            facility_code: r.get(2)?,
            unit_code: r.get(3)?,
            ticket: ticket(&prefix, r.get(5)?),
            queue_date: r.get(6)?,
            payer: r.get(7)?,
            care: r.get(8)?,
            first_this_year: r.get(9)?,
            inside_catchment: r.get(10)?,
            status: r.get(11)?,
            arrived: Step {
                at: from_millis(r.get(12)?),
                by: r.get(13)?,
            },
            started: step(r.get(14)?, r.get(15)?),
            ended: step(r.get(16)?, r.get(17)?),
            complaint: r.get(18)?,
            notes: r.get(19)?,
            vitals: Vitals {
                systolic: r.get(20)?,
                diastolic: r.get(21)?,
                pulse: r.get(22)?,
                respiratory_rate: r.get(23)?,
                temperature: r.get(24)?,
                weight: r.get(25)?,
                height: r.get(26)?,
            },
            diagnoses: Vec::new(),
            version: r.get(27)?,
            referred_to: r.get(28)?,
        },
    ))
}

/// Visits at other Puskesmas that the registry handed on. A record this version cannot
/// read is left out rather than failing the whole history.
fn remote_visits(ctx: &Ctx<'_>, patient_number: &str) -> Result<Vec<VisitDetail>> {
    let mut stmt = ctx
        .tx
        .prepare_cached("SELECT payload FROM remote_visit WHERE patient_number = ?1")?;
    let rows = stmt.query_map([patient_number], |r| r.get::<_, String>(0))?;
    let mut visits = Vec::new();
    for payload in rows {
        if let Ok(visit) = serde_json::from_str::<VisitDetail>(&payload?) {
            visits.push(visit);
        }
    }
    Ok(visits)
}

/// Reads a visit whole, with its diagnoses.
pub(crate) fn load_visit(ctx: &Ctx<'_>, row_id: i64) -> Result<VisitDetail> {
    let patient_number: String = ctx
        .tx
        .prepare_cached(
            "SELECT p.patient_number FROM visit v JOIN patient p ON p.id = v.patient_id
             WHERE v.id = ?1",
        )?
        .query_row([row_id], |r| r.get(0))?;
    let (_, mut visit) = ctx
        .tx
        .prepare_cached(&format!(
            "SELECT {VISIT_COLUMNS} FROM visit v JOIN service_unit u ON u.code = v.unit_code
             WHERE v.id = ?1"
        ))?
        .query_row([row_id], |r| visit_row(r, &patient_number))?;
    visit.diagnoses = crate::diagnoses::diagnoses_of_visit(ctx, row_id)?;
    Ok(visit)
}

/// After a change: counts the version up and queues the whole visit for the registry.
pub(crate) fn publish_visit(ctx: &Ctx<'_>, row_id: i64) -> Result<VisitDetail> {
    ctx.tx
        .prepare_cached("UPDATE visit SET version = version + 1 WHERE id = ?1")?
        .execute([row_id])?;
    let visit = load_visit(ctx, row_id)?;
    ctx.outbox(OutboxKind::Visit, &visit.visit_id, &visit)?;
    Ok(visit)
}
