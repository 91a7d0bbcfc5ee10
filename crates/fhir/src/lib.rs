//! Kartika's records as HL7 FHIR R4 resources, shaped as Indonesia's SATUSEHAT platform
//! expects them (its implementation guide and public clients): Patient with the NIK under
//! `https://fhir.kemkes.go.id/id/nik`, Encounter of class `AMB` with its three statuses
//! and their periods, one Condition per diagnosis (ICD-10), one Observation per vital sign
//! (LOINC, UCUM units), every time in UTC. One mapping, used by the registry's FHIR views
//! and by a clinic's export.
//!
//! The systems and extensions Kartika defines itself are in [`system`] and documented in
//! `docs/fhir.md`.
#![deny(missing_docs)]

mod bundle;
mod records;
mod resources;

pub use bundle::{capability_statement, operation_outcome, searchset, transaction};
pub use records::{
    CaseKind, Diagnosis, DiagnosisRank, PatientRecord, Step, VisitRecord, VisitStatus, Vitals,
};
pub use resources::{condition_id, conditions, encounter, observations, patient, utc, Entry};

use std::collections::HashMap;

/// The identifier systems and extension URLs used.
pub mod system {
    /// NIK (SATUSEHAT).
    pub const NIK: &str = "https://fhir.kemkes.go.id/id/nik";
    /// The IHS number of a patient or practitioner (SATUSEHAT).
    pub const IHS: &str = "https://fhir.kemkes.go.id/id/ihs-number";
    /// Kartika's patient number (No. RM), unique across Puskesmas.
    pub const PATIENT_NUMBER: &str = "https://fhir.kartika.id/sid/patient-number";
    /// The BPJS (JKN) card number.
    pub const BPJS: &str = "https://fhir.kartika.id/sid/bpjs-number";
    /// Kasus baru or lama of a diagnosis: `new` or `old`.
    pub const CASE_KIND: &str = "https://fhir.kartika.id/StructureDefinition/case-kind";
    /// The Kemendagri region codes of an address (SATUSEHAT).
    pub const ADMINISTRATIVE_CODE: &str =
        "https://fhir.kemkes.go.id/r4/StructureDefinition/administrativeCode";
    /// SATUSEHAT's encounter identifiers, followed by `/{organization id}`.
    pub const ENCOUNTER_PREFIX: &str = "http://sys-ids.kemkes.go.id/encounter";
    /// ICD-10.
    pub const ICD10: &str = "http://hl7.org/fhir/sid/icd-10";
    /// LOINC.
    pub const LOINC: &str = "http://loinc.org";
    /// UCUM.
    pub const UCUM: &str = "http://unitsofmeasure.org";
}

/// What the mapping needs to know of the facility: its SATUSEHAT ids where it has them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facility {
    /// The SATUSEHAT organization id; the facility code stands in until it is known.
    pub organization_id: String,
    /// SATUSEHAT Location ids of the service units, by unit code.
    pub locations: HashMap<String, String>,
    /// Names of the service units, by unit code.
    pub unit_names: HashMap<String, String>,
    /// Practitioners' IHS numbers, by Kartika username.
    pub practitioners: HashMap<String, String>,
}

/// How resources refer to each other: by `Type/id` (a server's views), or by `urn:uuid:`
/// inside one transaction Bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum References {
    /// `Patient/P3674060000001X`, `Encounter/0193…`.
    Server,
    /// `urn:uuid:0193…`.
    Bundle,
    /// Inside one transaction Bundle for SATUSEHAT: `urn:uuid:` between the visit's own
    /// resources, `Patient/{IHS number}` for the patient, whom SATUSEHAT's index owns.
    Satusehat,
}

/// One finished visit as the transaction Bundle SATUSEHAT takes: its Encounter, its
/// Conditions and its vital-sign Observations, the patient and the practitioner referred
/// to by their IHS numbers. Each entry's `fullUrl` is derived from the visit, so it names
/// the same resource in every resend.
pub fn satusehat_visit_bundle(
    facility: &Facility,
    patient: &PatientRecord,
    visit: &VisitRecord,
) -> serde_json::Value {
    let refs = References::Satusehat;
    let mut entries = vec![encounter(visit, patient, facility, refs)];
    entries.extend(conditions(visit, patient, refs));
    entries.extend(observations(visit, patient, facility, refs));
    bundle::transaction(entries)
}

/// A clinic's patients, each with its visits, as one transaction Bundle, written as it is
/// made: each entry is serialized and dropped before the next, so ten thousand encounters
/// never sit in memory as one tree. Returns how many entries were written.
pub fn write_export_bundle(
    facility: &Facility,
    patients: impl IntoIterator<Item = (PatientRecord, Vec<VisitRecord>)>,
    out: &mut impl std::io::Write,
) -> serde_json::Result<usize> {
    out.write_all(br#"{"resourceType":"Bundle","type":"transaction","entry":["#)
        .map_err(serde_json::Error::io)?;
    let mut written = 0usize;
    let mut write = |entry: Entry, out: &mut dyn std::io::Write| -> serde_json::Result<()> {
        if written > 0 {
            out.write_all(b",").map_err(serde_json::Error::io)?;
        }
        written += 1;
        serde_json::to_writer(out, &bundle::transaction_entry(entry))
    };
    for (person, visits) in patients {
        write(patient(&person, References::Bundle), out)?;
        for visit in &visits {
            write(encounter(visit, &person, facility, References::Bundle), out)?;
            for entry in conditions(visit, &person, References::Bundle) {
                write(entry, out)?;
            }
            for entry in observations(visit, &person, facility, References::Bundle) {
                write(entry, out)?;
            }
        }
    }
    out.write_all(b"]}").map_err(serde_json::Error::io)?;
    Ok(written)
}
