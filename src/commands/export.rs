//! `kartika export fhir`: a clinic's own records as an HL7 FHIR R4 transaction Bundle, in
//! the shape SATUSEHAT takes, for a facility that submits by file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use kartika_store::{ExportSelection, Store};

use crate::commands::store::login;

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
    let file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    let entries = records
        .write_fhir_bundle(&mut writer)
        .and_then(|n| writer.flush().map(|()| n).map_err(serde_json::Error::io))
        .with_context(|| format!("cannot write {}", out.display()))?;
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
    patients: &[String],
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
    for patient in patients {
        let (number, ihs) = pair(patient, "patient")?;
        store.set_patient_ihs_number(&session, number, Some(ihs))?;
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&store.satusehat_ids(&session)?)?
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum ExportCommand {
    /// An HL7 FHIR R4 transaction Bundle in SATUSEHAT's shape (admins only).
    Fhir {
        #[arg(long)]
        db: PathBuf,
        #[arg(long = "as")]
        as_user: String,
        /// One patient's records.
        #[arg(long, conflicts_with = "since")]
        patient: Option<String>,
        /// Every visit from this day (YYYY-MM-DD) on, with its patients.
        #[arg(long)]
        since: Option<String>,
        /// The Bundle's file.
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(command: ExportCommand) -> Result<ExitCode> {
    let ExportCommand::Fhir {
        db,
        as_user,
        patient,
        since,
        out,
    } = command;
    export_fhir(&db, &as_user, patient.as_deref(), since.as_deref(), &out)
}
