//! What the registration desk needs at a glance: a patient with their last visit, today's
//! queue numbers (for a reprint, never a second number) and duplicate flags; and the day's
//! queue counted per unit.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::access::{Action, Session};
use crate::patients::{find_by_number, Patient};
use crate::visits::{ticket, VisitStatus, VisitTicket};
use crate::{Ctx, PossibleDuplicate, Result, Store};

/// A patient as the desk sees them after a tap or a search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskPatient {
    /// The patient.
    pub patient: Patient,
    /// Their most recent visit here or at another Puskesmas, today's excluded.
    pub last_visit: Option<LastVisit>,
    /// Queue numbers they already hold today (not cancelled): the desk offers a reprint.
    pub today: Vec<VisitTicket>,
    /// Open duplicate flags that involve this patient, for the admin to resolve.
    pub possible_duplicates: Vec<PossibleDuplicate>,
}

/// When and where a patient was last seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastVisit {
    /// The facility's local day, `YYYY-MM-DD`.
    pub date: String,
    /// The unit's code.
    pub unit_code: String,
    /// The unit's name, when the visit was here.
    pub unit_name: Option<String>,
    /// The facility's code.
    pub facility_code: String,
}

/// How one unit's queue stands today.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitQueue {
    /// The unit's code.
    pub unit_code: String,
    /// The unit's name.
    pub unit_name: String,
    /// Antri.
    pub waiting: i64,
    /// Dilayani.
    pub in_progress: i64,
    /// Selesai or Dirujuk.
    pub finished: i64,
}

impl Store {
    /// A patient at the desk, with what the clerk must see before opening a visit. The
    /// read is audited.
    pub fn desk_patient(&mut self, session: &Session, patient_number: &str) -> Result<DeskPatient> {
        self.write(session, Action::ReadPatients, |ctx| {
            let (patient_id, patient) = find_by_number(ctx.tx, patient_number)?;
            let today = kartika_card::model::format_iso_date(ctx.today);
            let desk = DeskPatient {
                last_visit: last_visit(ctx, patient_id, &patient.patient_number, &today)?,
                today: tickets_today(ctx, patient_id, &today)?,
                possible_duplicates: open_flags(ctx, patient_id)?,
                patient,
            };
            ctx.audit("patient.desk", Some(&desk.patient.patient_number), "")?;
            Ok(desk)
        })
    }

    /// Today's queue per service unit, counted: no patient is named, so nothing is audited.
    pub fn queue_counts(&mut self, session: &Session) -> Result<Vec<UnitQueue>> {
        self.read(session, Action::ReadPatients, |ctx| {
            let today = kartika_card::model::format_iso_date(ctx.today);
            let mut stmt = ctx.tx.prepare_cached(
                "SELECT u.code, u.name,
                        count(v.id) FILTER (WHERE v.status = 'waiting'),
                        count(v.id) FILTER (WHERE v.status = 'in_progress'),
                        count(v.id) FILTER (WHERE v.status IN ('finished', 'referred'))
                 FROM service_unit u
                 LEFT JOIN visit v ON v.unit_code = u.code AND v.queue_date = ?1
                 WHERE u.active GROUP BY u.code ORDER BY u.built_in DESC, u.rowid",
            )?;
            let rows = stmt.query_map([today], |r| {
                Ok(UnitQueue {
                    unit_code: r.get(0)?,
                    unit_name: r.get(1)?,
                    waiting: r.get(2)?,
                    in_progress: r.get(3)?,
                    finished: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

/// How many of a unit's patients wait before queue number `number` today.
pub(crate) fn waiting_ahead(
    ctx: &Ctx<'_>,
    unit_code: &str,
    date: &str,
    number: i64,
) -> Result<i64> {
    Ok(ctx
        .tx
        .prepare_cached(
            "SELECT count(*) FROM visit WHERE queue_date = ?1 AND unit_code = ?2
             AND queue_number < ?3 AND status = 'waiting'",
        )?
        .query_row(params![date, unit_code, number], |r| r.get(0))?)
}

fn last_visit(
    ctx: &Ctx<'_>,
    patient_id: i64,
    patient_number: &str,
    today: &str,
) -> Result<Option<LastVisit>> {
    let here: Option<LastVisit> = ctx
        .tx
        .prepare_cached(
            "SELECT v.queue_date, v.unit_code, u.name, v.facility_code
             FROM visit v INDEXED BY visit_patient JOIN service_unit u ON u.code = v.unit_code
             WHERE v.patient_id = ?1 AND v.queue_date < ?2 AND v.status != 'cancelled'
             ORDER BY v.arrived_at DESC LIMIT 1",
        )?
        .query_row(params![patient_id, today], |r| {
            Ok(LastVisit {
                date: r.get(0)?,
                unit_code: r.get(1)?,
                unit_name: r.get(2)?,
                facility_code: r.get(3)?,
            })
        })
        .optional()?;
    // Visits from elsewhere keep their own JSON; only the newest one is read.
    let elsewhere: Option<String> = ctx
        .tx
        .prepare_cached(
            "SELECT payload FROM remote_visit WHERE patient_number = ?1
             ORDER BY arrived_at DESC LIMIT 1",
        )?
        .query_row([patient_number], |r| r.get(0))
        .optional()?;
    let elsewhere = elsewhere
        .and_then(|payload| serde_json::from_str::<crate::VisitDetail>(&payload).ok())
        .filter(|v| v.status != VisitStatus::Cancelled)
        .map(|v| LastVisit {
            date: v.queue_date,
            unit_code: v.unit_code,
            unit_name: None,
            facility_code: v.facility_code,
        });
    Ok(match (here, elsewhere) {
        (Some(h), Some(e)) => Some(if e.date > h.date { e } else { h }),
        (h, e) => h.or(e),
    })
}

fn tickets_today(ctx: &Ctx<'_>, patient_id: i64, today: &str) -> Result<Vec<VisitTicket>> {
    let mut stmt = ctx.tx.prepare_cached(
        "SELECT v.uuid, u.queue_prefix, v.queue_number, v.unit_code, u.name,
                v.first_this_year, v.inside_catchment
         FROM visit v INDEXED BY visit_patient JOIN service_unit u ON u.code = v.unit_code
         WHERE v.patient_id = ?1 AND v.queue_date = ?2 AND v.status != 'cancelled'
         ORDER BY v.arrived_at",
    )?;
    let rows = stmt.query_map(params![patient_id, today], |r| {
        let prefix: String = r.get(1)?;
        let number: i64 = r.get(2)?;
        Ok(VisitTicket {
            visit_id: r.get::<_, uuid::Uuid>(0)?.to_string(),
            ticket: ticket(&prefix, number),
            queue_number: number,
            unit_code: r.get(3)?,
            unit_name: r.get(4)?,
            queue_date: today.to_owned(),
            first_this_year: r.get(5)?,
            inside_catchment: r.get(6)?,
            waiting_ahead: 0,
        })
    })?;
    let mut tickets = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    for t in &mut tickets {
        t.waiting_ahead = waiting_ahead(ctx, &t.unit_code, today, t.queue_number)?;
    }
    Ok(tickets)
}

fn open_flags(ctx: &Ctx<'_>, patient_id: i64) -> Result<Vec<PossibleDuplicate>> {
    let mut stmt = ctx.tx.prepare_cached(
        "SELECT a.patient_number, b.patient_number, f.reason FROM patient_flag f
         JOIN patient a ON a.id = f.patient_id JOIN patient b ON b.id = f.other_patient_id
         WHERE (f.patient_id = ?1 OR f.other_patient_id = ?1) AND f.resolved_at IS NULL
         ORDER BY f.id",
    )?;
    let rows = stmt.query_map([patient_id], |r| {
        Ok(PossibleDuplicate {
            patient_number: r.get(0)?,
            other_patient_number: r.get(1)?,
            reason: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
