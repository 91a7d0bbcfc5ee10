//! What the mapping reads: a patient and a visit, in the few fields FHIR needs. Their
//! field names are those of the records a sync carries, so the registry reads its stored
//! payloads straight into them; the clinic store converts its own types into them. The
//! mapping depends on neither side.

use kartika_card::model::Sex;
use serde::Deserialize;
use time::OffsetDateTime;

/// A patient.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PatientRecord {
    /// The record's id, born where the patient was first registered (a UUID).
    pub id: String,
    /// No. RM: Kartika's patient number.
    pub patient_number: String,
    /// Full name.
    pub name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// Sex.
    pub sex: Sex,
    /// NIK.
    #[serde(default)]
    pub nik: Option<String>,
    /// BPJS (JKN) number.
    #[serde(default)]
    pub bpjs_number: Option<String>,
    /// The IHS number SATUSEHAT gave the patient.
    #[serde(default)]
    pub ihs_number: Option<String>,
    /// Street address.
    #[serde(default)]
    pub address: Option<String>,
    /// Kemendagri village code, `pp.kk.dd.vvvv`.
    #[serde(default)]
    pub region_code: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
}

/// A visit with its diagnoses and vital signs.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct VisitRecord {
    /// The visit's id (a UUID).
    pub visit_id: String,
    /// The facility where it took place.
    pub facility_code: String,
    /// The service unit's code.
    pub unit_code: String,
    /// Where it stands.
    pub status: VisitStatus,
    /// Registered.
    pub arrived: Step,
    /// Called in.
    #[serde(default)]
    pub started: Option<Step>,
    /// Finished, referred or cancelled.
    #[serde(default)]
    pub ended: Option<Step>,
    /// Vital signs.
    #[serde(default)]
    pub vitals: Vitals,
    /// Diagnoses.
    #[serde(default)]
    pub diagnoses: Vec<Diagnosis>,
}

/// Where a visit stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitStatus {
    /// Antri.
    Waiting,
    /// Dilayani.
    InProgress,
    /// Selesai.
    Finished,
    /// Dirujuk.
    Referred,
    /// Batal.
    Cancelled,
}

/// A step of a visit: when, and by whom (a username).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Step {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who.
    pub by: String,
}

/// Vital signs, each where measured.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Vitals {
    /// mmHg.
    #[serde(default)]
    pub systolic: Option<i64>,
    /// mmHg.
    #[serde(default)]
    pub diastolic: Option<i64>,
    /// Beats a minute.
    #[serde(default)]
    pub pulse: Option<i64>,
    /// Breaths a minute.
    #[serde(default)]
    pub respiratory_rate: Option<i64>,
    /// °C.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// kg.
    #[serde(default)]
    pub weight: Option<f64>,
    /// cm.
    #[serde(default)]
    pub height: Option<f64>,
}

/// A diagnosis of a visit.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Diagnosis {
    /// ICD-10 code.
    pub code: String,
    /// Its title.
    pub title: String,
    /// Primary or secondary.
    pub rank: DiagnosisRank,
    /// Kasus baru or lama.
    pub case: CaseKind,
}

/// Primary or secondary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisRank {
    /// The main reason for the visit.
    Primary,
    /// Any other.
    Secondary,
}

/// Kasus baru or lama.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// The first time this patient has this diagnosis.
    New,
    /// Seen before.
    Old,
}
