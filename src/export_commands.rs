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
    let ids = &records.satusehat;
    kartika_fhir::Facility {
        // Until SATUSEHAT has given the facility its id, the facility code stands in.
        organization_id: ids
            .organization_id
            .clone()
            .unwrap_or_else(|| records.facility.code.clone()),
        locations: ids.locations.iter().cloned().collect(),
        unit_names: records
            .units
            .iter()
            .map(|u| (u.code.clone(), u.name.clone()))
            .collect(),
        practitioners: ids.practitioners.iter().cloned().collect(),
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

/// `NAME=VALUE`, or a message naming the flag.
fn pair<'a>(text: &'a str, flag: &str) -> Result<(&'a str, &'a str)> {
    text.split_once('=')
        .map(|(a, b)| (a.trim(), b.trim()))
        .with_context(|| format!("--{flag} {text}: write it as NAME=VALUE"))
}

pub fn satusehat_ids(
    db: &Path,
    as_user: &str,
    organization: Option<&str>,
    locations: &[String],
    practitioners: &[String],
) -> Result<ExitCode> {
    let mut store = Store::open(db)?;
    let session = login(&mut store, as_user)?;
    if let Some(id) = organization {
        store.set_satusehat_organization(&session, Some(id))?;
    }
    for location in locations {
        let (unit, id) = pair(location, "location")?;
        store.set_unit_location(&session, unit, Some(id))?;
    }
    for practitioner in practitioners {
        let (username, ihs) = pair(practitioner, "practitioner")?;
        store.set_staff_ihs_number(&session, username, Some(ihs))?;
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&store.satusehat_ids(&session)?)?
    );
    Ok(ExitCode::SUCCESS)
}
