//! `kartika export fhir`: a clinic's own records as an HL7 FHIR R4 transaction Bundle, in
//! the shape SATUSEHAT takes, for a facility that submits by file.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use kartika_fhir::References;
use kartika_store::{ExportRecords, ExportSelection, Store};

use crate::store_commands::login;

/// What the mapping needs of the facility, from the exported records.
pub fn fhir_facility(records: &ExportRecords) -> kartika_fhir::Facility {
    kartika_fhir::Facility {
        organization_id: records.facility.code.clone(),
        unit_names: records
            .units
            .iter()
            .map(|u| (u.code.clone(), u.name.clone()))
            .collect(),
        ..kartika_fhir::Facility::default()
    }
}

/// The records as one transaction Bundle.
pub fn bundle(records: &ExportRecords) -> serde_json::Value {
    let facility = fhir_facility(records);
    let mut entries = Vec::new();
    for exported in &records.patients {
        let patient = &exported.patient;
        entries.push(kartika_fhir::patient(patient, References::Bundle));
        for visit in &exported.visits {
            entries.push(kartika_fhir::encounter(
                visit,
                patient,
                &facility,
                References::Bundle,
            ));
            entries.extend(kartika_fhir::conditions(visit, patient, References::Bundle));
            entries.extend(kartika_fhir::observations(
                visit,
                patient,
                &facility,
                References::Bundle,
            ));
        }
    }
    kartika_fhir::transaction(entries)
}

pub fn export_fhir(
    db: &Path,
    as_user: &str,
    patient: Option<&str>,
    since: Option<&str>,
    out: &Path,
) -> Result<ExitCode> {
    let selection = match (patient, since) {
        (Some(number), None) => ExportSelection::Patient(number.trim().to_owned()),
        (None, Some(day)) => ExportSelection::Since(day.trim().to_owned()),
        _ => bail!("give --patient NUMBER or --since YYYY-MM-DD"),
    };
    let mut store = Store::open(db)?;
    let session = login(&mut store, as_user)?;
    let records = store.export_records(&session, &selection)?;
    let bundle = bundle(&records);
    let bytes = serde_json::to_vec(&bundle)?;
    std::fs::write(out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    let entries = bundle["entry"].as_array().map_or(0, Vec::len);
    eprintln!(
        "{} entries ({} patients) written to {}",
        entries,
        records.patients.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
