//! The clinic's own records for a file export (FHIR): one patient with their visits here,
//! or every visit here since a day with its patients. Admins only, audited.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::access::{Action, Session};
use crate::diagnoses::diagnoses_of_visit;
use crate::patients::{find_by_number, patient_row_at, Patient, PATIENT_COLUMNS};
use crate::visits::{visit_row, VisitDetail, VISIT_COLUMNS, VISIT_COLUMN_COUNT};
use crate::{Ctx, FacilityProfile, Result, SatusehatIds, ServiceUnit, Store};

/// Which records to export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportSelection {
    /// One patient, by number, with every visit here.
    Patient(String),
    /// Every visit here from this local day (`YYYY-MM-DD`) on, with its patients.
    Since(String),
}

/// A patient and their visits at this Puskesmas, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportedPatient {
    /// The patient.
    pub patient: Patient,
    /// Their visits here.
    pub visits: Vec<VisitDetail>,
}

/// What an export holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportRecords {
    /// The facility.
    pub facility: FacilityProfile,
    /// Its units.
    pub units: Vec<ServiceUnit>,
    /// The patients, each with their visits.
    pub patients: Vec<ExportedPatient>,
    /// What SATUSEHAT knows the facility, its units and its staff by.
    pub satusehat: SatusehatIds,
}

impl Store {
    /// The records to export (admins only); the export is audited with its size.
    pub fn export_records(
        &mut self,
        session: &Session,
        selection: &ExportSelection,
    ) -> Result<ExportRecords> {
        let since = match selection {
            ExportSelection::Since(day) => Some(kartika_card::model::format_iso_date(
                kartika_card::model::parse_iso_date(day.trim(), "since date")?,
            )),
            ExportSelection::Patient(_) => None,
        };
        let facility = self.facility();
        let units = self.service_units()?;
        let satusehat = self.satusehat_ids(session)?;
        self.write(session, Action::ExportRecords, |ctx| {
            let patients = match (selection, &since) {
                (ExportSelection::Patient(number), _) => {
                    let (row, patient) = find_by_number(ctx.tx, number)?;
                    vec![ExportedPatient {
                        visits: visits_of(ctx, Some(row), None)?,
                        patient,
                    }]
                }
                (ExportSelection::Since(_), Some(day)) => {
                    grouped(ctx, visits_of(ctx, None, Some(day))?)?
                }
                (ExportSelection::Since(_), None) => Vec::new(),
            };
            let count: usize = patients.iter().map(|p| p.visits.len()).sum();
            ctx.audit(
                "export.fhir",
                match selection {
                    ExportSelection::Patient(n) => Some(n.as_str()),
                    ExportSelection::Since(_) => None,
                },
                &format!("{} patients, {count} visits", patients.len()),
            )?;
            Ok(ExportRecords {
                facility,
                units,
                patients,
                satusehat,
            })
        })
    }
}

/// This facility's visits of one patient, or since a day, with their diagnoses, by patient
/// and then time.
fn visits_of(ctx: &Ctx<'_>, patient: Option<i64>, since: Option<&str>) -> Result<Vec<VisitDetail>> {
    let mut stmt = ctx.tx.prepare_cached(&format!(
        "SELECT {VISIT_COLUMNS}, p.patient_number FROM visit v
         JOIN service_unit u ON u.code = v.unit_code JOIN patient p ON p.id = v.patient_id
         WHERE v.facility_code = ?1 AND (?2 IS NULL OR v.patient_id = ?2)
           AND (?3 IS NULL OR v.queue_date >= ?3)
         ORDER BY v.patient_id, v.arrived_at"
    ))?;
    let rows = stmt.query_map(params![ctx.facility.code, patient, since], |r| {
        let number: String = r.get(VISIT_COLUMN_COUNT)?;
        visit_row(r, &number)
    })?;
    let mut visits = Vec::new();
    for row in rows {
        let (row_id, mut visit) = row?;
        visit.diagnoses = diagnoses_of_visit(ctx, row_id)?;
        visits.push(visit);
    }
    Ok(visits)
}

/// Visits grouped under their patients, in the order they came.
fn grouped(ctx: &Ctx<'_>, visits: Vec<VisitDetail>) -> Result<Vec<ExportedPatient>> {
    let mut patients: Vec<ExportedPatient> = Vec::new();
    for visit in visits {
        match patients.last_mut() {
            Some(last) if last.patient.patient_number == visit.patient_number => {
                last.visits.push(visit);
            }
            _ => {
                let patient = ctx
                    .tx
                    .prepare_cached(&format!(
                        "SELECT p.id, {PATIENT_COLUMNS} FROM patient p WHERE p.patient_number = ?1"
                    ))?
                    .query_row([&visit.patient_number], |r| patient_row_at(r, 1))?;
                patients.push(ExportedPatient {
                    patient,
                    visits: vec![visit],
                });
            }
        }
    }
    Ok(patients)
}
