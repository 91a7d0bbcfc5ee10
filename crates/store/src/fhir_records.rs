//! The store's records as the FHIR mapping reads them (`kartika-fhir` knows nothing of the
//! store): a patient, a visit, and what the mapping needs of the facility.

use kartika_fhir as fhir;

use crate::{CaseKind, Diagnosis, DiagnosisRank, ExportRecords, Patient, Step, VisitDetail};
use crate::{VisitStatus, Vitals};

impl From<&Patient> for fhir::PatientRecord {
    fn from(p: &Patient) -> Self {
        Self {
            id: p.id.clone(),
            patient_number: p.patient_number.clone(),
            name: p.name.clone(),
            birth_date: p.birth_date.clone(),
            sex: p.sex,
            nik: p.nik.clone(),
            bpjs_number: p.bpjs_number.clone(),
            ihs_number: p.ihs_number.clone(),
            address: p.address.clone(),
            region_code: p.region_code.clone(),
            phone: p.phone.clone(),
        }
    }
}

impl From<&VisitDetail> for fhir::VisitRecord {
    fn from(v: &VisitDetail) -> Self {
        Self {
            visit_id: v.visit_id.clone(),
            facility_code: v.facility_code.clone(),
            unit_code: v.unit_code.clone(),
            status: v.status.into(),
            arrived: (&v.arrived).into(),
            started: v.started.as_ref().map(Into::into),
            ended: v.ended.as_ref().map(Into::into),
            vitals: (&v.vitals).into(),
            diagnoses: v.diagnoses.iter().map(Into::into).collect(),
        }
    }
}

impl From<VisitStatus> for fhir::VisitStatus {
    fn from(status: VisitStatus) -> Self {
        match status {
            VisitStatus::Waiting => Self::Waiting,
            VisitStatus::InProgress => Self::InProgress,
            VisitStatus::Finished => Self::Finished,
            VisitStatus::Referred => Self::Referred,
            VisitStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl From<&Step> for fhir::Step {
    fn from(step: &Step) -> Self {
        Self {
            at: step.at,
            by: step.by.clone(),
        }
    }
}

impl From<&Vitals> for fhir::Vitals {
    fn from(v: &Vitals) -> Self {
        Self {
            systolic: v.systolic,
            diastolic: v.diastolic,
            pulse: v.pulse,
            respiratory_rate: v.respiratory_rate,
            temperature: v.temperature,
            weight: v.weight,
            height: v.height,
        }
    }
}

impl From<&Diagnosis> for fhir::Diagnosis {
    fn from(d: &Diagnosis) -> Self {
        Self {
            code: d.code.clone(),
            title: d.title.clone(),
            rank: match d.rank {
                DiagnosisRank::Primary => fhir::DiagnosisRank::Primary,
                DiagnosisRank::Secondary => fhir::DiagnosisRank::Secondary,
            },
            case: match d.case {
                CaseKind::New => fhir::CaseKind::New,
                CaseKind::Old => fhir::CaseKind::Old,
            },
        }
    }
}

impl ExportRecords {
    /// What the mapping needs of the facility: its SATUSEHAT ids, its units' names.
    pub fn fhir_facility(&self) -> fhir::Facility {
        let ids = &self.satusehat;
        fhir::Facility {
            // Until SATUSEHAT has given the facility its id, the facility code stands in.
            organization_id: ids
                .organization_id
                .clone()
                .unwrap_or_else(|| self.facility.code.clone()),
            locations: ids.locations.iter().cloned().collect(),
            unit_names: self
                .units
                .iter()
                .map(|u| (u.code.clone(), u.name.clone()))
                .collect(),
            practitioners: ids.practitioners.iter().cloned().collect(),
        }
    }

    /// The records as one FHIR transaction Bundle written to `out`, each patient converted
    /// only as its turn comes; returns how many entries were written.
    pub fn write_fhir_bundle(&self, out: &mut impl std::io::Write) -> serde_json::Result<usize> {
        let patients = self.patients.iter().map(|exported| {
            (
                fhir::PatientRecord::from(&exported.patient),
                exported
                    .visits
                    .iter()
                    .map(fhir::VisitRecord::from)
                    .collect(),
            )
        });
        fhir::write_export_bundle(&self.fhir_facility(), patients, out)
    }
}
