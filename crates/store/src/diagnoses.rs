//! Diagnoses: ICD-10 codes from the shipped list, one primary per visit, and the new or
//! old case (kasus baru/lama) the monthly LB1 report counts.

use std::collections::HashMap;

use kartika_card::model::Icd10Code;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::access::{Action, Session};
use crate::enums::stored_enum;
use crate::icd10;
use crate::visits::{publish_visit, VisitDetail, VisitStatus};
use crate::{parse_uuid, Ctx, Result, Store, StoreError};

stored_enum!(
    /// Primary (utama) or secondary (sekunder).
    DiagnosisRank, "diagnosis rank" {
        /// The main reason for the visit; one per visit.
        Primary = "primary",
        /// Any other.
        Secondary = "secondary",
    }
);

stored_enum!(
    /// Kasus baru or lama.
    CaseKind, "case kind" {
        /// The first time this patient has this diagnosis.
        New = "new",
        /// The patient has had this diagnosis before.
        Old = "old",
    }
);

/// A diagnosis of a visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// ICD-10 code.
    pub code: String,
    /// Its title.
    pub title: String,
    /// Primary or secondary.
    pub rank: DiagnosisRank,
    /// New or old case.
    pub case: CaseKind,
}

/// Checks a typed code against the ICD-10 list and returns it as the list writes it.
pub(crate) fn known_code(text: &str) -> Result<String> {
    let code = icd10::normalize_code(text);
    Icd10Code::new(&code)?;
    if icd10::title(&code).is_none() {
        return Err(StoreError::invalid(
            "ICD-10 code",
            format!("{code} is not in the ICD-10 list; search the list by code or words"),
        ));
    }
    Ok(code)
}

impl Store {
    /// Adds a diagnosis to a visit that is not cancelled. Whether it is a new or old case is
    /// worked out from the patient's earlier diagnoses.
    pub fn add_diagnosis(
        &mut self,
        session: &Session,
        visit_id: &str,
        code: &str,
        rank: DiagnosisRank,
    ) -> Result<VisitDetail> {
        let code = known_code(code)?;
        self.write(session, Action::Examine, |ctx| {
            let (row, status, patient_id, patient_number): (i64, VisitStatus, i64, String) = ctx
                .tx
                .query_row(
                    "SELECT v.id, v.status, v.patient_id, p.patient_number FROM visit v
                     JOIN patient p ON p.id = v.patient_id WHERE v.uuid = ?1",
                    [parse_uuid(visit_id)],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .map_err(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => {
                        StoreError::not_found("visit", visit_id.trim())
                    }
                    other => other.into(),
                })?;
            if status == VisitStatus::Cancelled {
                return Err(StoreError::Conflict("the visit was cancelled".into()));
            }
            let existing: Vec<(String, DiagnosisRank)> = ctx
                .tx
                .prepare_cached("SELECT code, is_primary FROM diagnosis WHERE visit_id = ?1")?
                .query_map([row], |r| {
                    let primary: bool = r.get(1)?;
                    Ok((r.get(0)?, rank_of(primary)))
                })?
                .collect::<rusqlite::Result<_>>()?;
            if existing.iter().any(|(c, _)| *c == code) {
                return Err(StoreError::AlreadyRecorded {
                    what: "diagnosis",
                    key: code,
                });
            }
            if rank == DiagnosisRank::Primary {
                if let Some((primary, _)) =
                    existing.iter().find(|(_, r)| *r == DiagnosisRank::Primary)
                {
                    return Err(StoreError::Conflict(format!(
                        "the visit already has primary diagnosis {primary}; add {code} as secondary"
                    )));
                }
            }
            // One person's history: a record merged or linked into this one counts.
            let mut seen_before = false;
            for id in crate::merges::one_person(ctx, patient_id)? {
                seen_before = seen_before
                    || ctx.tx.query_row(
                        "SELECT EXISTS (SELECT 1 FROM diagnosis WHERE patient_id = ?1 AND code = ?2)",
                        params![id, code],
                        |r| r.get(0),
                    )?;
            }
            ctx.tx.execute(
                "INSERT INTO diagnosis (visit_id, code, is_primary, new_case, patient_id, recorded_at, recorded_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    row,
                    code,
                    rank == DiagnosisRank::Primary,
                    !seen_before,
                    patient_id,
                    ctx.now_ms,
                    ctx.actor
                ],
            )?;
            ctx.audit("diagnosis.add", Some(&patient_number), &format!("{visit_id} {code} {rank}"))?;
            publish_visit(ctx, row)
        })
    }

    /// Removes a diagnosis recorded in error.
    pub fn remove_diagnosis(
        &mut self,
        session: &Session,
        visit_id: &str,
        code: &str,
    ) -> Result<VisitDetail> {
        let code = icd10::normalize_code(code);
        self.write(session, Action::Examine, |ctx| {
            let found: Option<(i64, String)> = ctx
                .tx
                .query_row(
                    "SELECT v.id, p.patient_number FROM diagnosis d JOIN visit v ON v.id = d.visit_id
                     JOIN patient p ON p.id = v.patient_id WHERE v.uuid = ?1 AND d.code = ?2",
                    params![parse_uuid(visit_id), code],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((row, patient_number)) = found else {
                return Err(StoreError::not_found("diagnosis", format!("{code} of visit {visit_id}")));
            };
            ctx.tx.execute(
                "DELETE FROM diagnosis WHERE visit_id = ?1 AND code = ?2",
                params![row, code],
            )?;
            ctx.audit("diagnosis.remove", Some(&patient_number), &format!("{visit_id} {code}"))?;
            publish_visit(ctx, row)
        })
    }
}

fn rank_of(primary: bool) -> DiagnosisRank {
    if primary {
        DiagnosisRank::Primary
    } else {
        DiagnosisRank::Secondary
    }
}

fn diagnosis_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Diagnosis)> {
    let code: String = r.get(1)?;
    let primary: bool = r.get(2)?;
    let new_case: bool = r.get(3)?;
    Ok((
        r.get(0)?,
        Diagnosis {
            title: icd10::title(&code).unwrap_or_default().to_owned(),
            code,
            rank: rank_of(primary),
            case: if new_case {
                CaseKind::New
            } else {
                CaseKind::Old
            },
        },
    ))
}

/// Every diagnosis of a patient, by visit row, primary first.
pub(crate) fn diagnoses_of_patient(
    ctx: &Ctx<'_>,
    patient_id: i64,
) -> Result<HashMap<i64, Vec<Diagnosis>>> {
    let mut stmt = ctx.tx.prepare_cached(
        "SELECT visit_id, code, is_primary, new_case FROM diagnosis WHERE patient_id = ?1
         ORDER BY visit_id, is_primary DESC, recorded_at",
    )?;
    let mut by_visit: HashMap<i64, Vec<Diagnosis>> = HashMap::new();
    for row in stmt.query_map([patient_id], diagnosis_row)? {
        let (visit, diagnosis) = row?;
        by_visit.entry(visit).or_default().push(diagnosis);
    }
    Ok(by_visit)
}

/// The diagnoses of one visit, primary first.
pub(crate) fn diagnoses_of_visit(ctx: &Ctx<'_>, visit_row: i64) -> Result<Vec<Diagnosis>> {
    let mut stmt = ctx.tx.prepare_cached(
        "SELECT visit_id, code, is_primary, new_case FROM diagnosis WHERE visit_id = ?1
         ORDER BY is_primary DESC, recorded_at",
    )?;
    let rows = stmt.query_map([visit_row], diagnosis_row)?;
    rows.map(|row| Ok(row?.1)).collect()
}
