//! `kartika db …`, `staff …`, `patient …`, `visit …` and `audit …`: the clinic store from
//! the command line. Passwords come from the environment or standard input, never from
//! arguments, which other users of the machine can see.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use kartika_store::generate::GenerateOptions;
use kartika_store::{
    FacilityProfile, NewStaff, PatientQuery, PatientSummary, QueueEntry, Role, Session, Store,
    TimeZone,
};
use kartika_sync::MergeDecision;

/// The logged-in user's password.
const PASSWORD_ENV: &str = "KARTIKA_PASSWORD";
/// The password of an account being created.
const NEW_PASSWORD_ENV: &str = "KARTIKA_NEW_PASSWORD";

pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A password from `env`, or else the next line of standard input.
fn password(env: &str, what: &str) -> Result<String> {
    if let Ok(value) = std::env::var(env) {
        return Ok(value);
    }
    eprintln!("{what} (or set {env}):");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub fn login(store: &mut Store, user: &str) -> Result<Session> {
    let password = password_from_env_or_stdin(user)?;
    Ok(store.login(user, &password)?)
}

/// The password of `user`, who acts: `KARTIKA_PASSWORD`, or else standard input.
pub fn password_from_env_or_stdin(user: &str) -> Result<String> {
    password(PASSWORD_ENV, &format!("password for {user}"))
}

pub fn db_init(
    db: &Path,
    code: &str,
    name: &str,
    region: Option<String>,
    zone: &str,
) -> Result<ExitCode> {
    let profile = FacilityProfile {
        code: code.to_owned(),
        name: name.to_owned(),
        region_code: region,
        zone: TimeZone::parse(zone)?,
    };
    // A new store in a folder not there yet (C:\ProgramData\Kartika on a new server PC)
    // gets a folder closed to other users.
    if let Some(folder) = db.parent().filter(|f| !f.as_os_str().is_empty()) {
        crate::places::private_folder(folder)?;
    }
    let store = Store::create(db, &profile)?;
    let f = store.facility();
    println!(
        "created {} for {} {} ({}); add the first admin with `kartika staff add --db {} --username NAME --display-name NAME --role admin`",
        db.display(),
        f.code,
        f.name,
        f.zone.abbreviation(),
        db.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn db_generate(db: &Path, options: &GenerateOptions, json: bool) -> Result<ExitCode> {
    let mut store = Store::open(db)?;
    let report = store.generate(options)?;
    if json {
        print_json(&report)?;
    } else {
        println!(
            "{} patients in {:.1} s; {} visits with {} diagnoses in {:.1} s ({:.0} visits/s)",
            report.patients,
            report.patient_time.as_secs_f64(),
            report.visits,
            report.diagnoses,
            report.visit_time.as_secs_f64(),
            report.visits_per_second()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub struct StaffToAdd<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub as_user: Option<&'a str>,
}

pub fn staff_add(db: &Path, new: &StaffToAdd<'_>, json: bool) -> Result<ExitCode> {
    let mut store = Store::open(db)?;
    let session = new
        .as_user
        .map(|user| login(&mut store, user))
        .transpose()?;
    let staff = NewStaff {
        username: new.username.to_owned(),
        display_name: new.display_name.to_owned(),
        role: Role::parse(new.role)?,
        password: password(
            NEW_PASSWORD_ENV,
            &format!("new password for {}", new.username),
        )?,
    };
    let member = match &session {
        Some(admin) => store.add_staff(admin, &staff)?,
        None => store
            .add_first_admin(&staff)
            .context("to add staff after the first admin, log in as an admin with --as USERNAME")?,
    };
    if json {
        print_json(&member)?;
    } else {
        println!(
            "added {} ({}) as {}",
            member.username, member.display_name, member.role
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn patient_search(
    db: &Path,
    user: &str,
    text: &str,
    birth_date: Option<String>,
    json: bool,
) -> Result<ExitCode> {
    let mut store = Store::open(db)?;
    let session = login(&mut store, user)?;
    let mut hits: Vec<PatientSummary> = Vec::new();
    for mut query in PatientQuery::guess(text) {
        if let PatientQuery::Name { birth_date: b, .. } = &mut query {
            b.clone_from(&birth_date);
        }
        for hit in store.search_patients(&session, &query)? {
            if !hits.iter().any(|h| h.patient_number == hit.patient_number) {
                hits.push(hit);
            }
        }
    }
    if json {
        print_json(&hits)?;
    } else if hits.is_empty() {
        println!("no patient found; register them as a new patient");
    } else {
        for p in &hits {
            let merged = p
                .merged_from
                .as_deref()
                .map(|from| format!("  (digabung dari {from})"))
                .unwrap_or_default();
            println!(
                "{}  {}  {}  {:?}  NIK {}  {}{merged}",
                p.patient_number,
                p.name,
                p.birth_date,
                p.sex,
                p.nik.as_deref().unwrap_or("-"),
                p.address.as_deref().unwrap_or("")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn visit_list(
    db: &Path,
    user: &str,
    date: Option<&str>,
    unit: Option<&str>,
    json: bool,
) -> Result<ExitCode> {
    let mut store = Store::open(db)?;
    let session = login(&mut store, user)?;
    let entries: Vec<QueueEntry> = match unit {
        Some(unit) => store.queue_for_unit(&session, unit, date)?,
        None => store.visits_on(&session, date)?,
    };
    if json {
        print_json(&entries)?;
    } else {
        for e in &entries {
            println!(
                "{:<6} {:<16} {:<24} {:<11} {:<12} {}",
                e.ticket, e.patient_number, e.name, e.status, e.payer, e.unit_code
            );
        }
        println!("{} visits", entries.len());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn audit_verify(db: &Path, trust: Option<&Path>, json: bool) -> Result<ExitCode> {
    let store = Store::open(db)?;
    let trust = trust
        .map(crate::keys::read_public_key)
        .transpose()?
        .map(|root| kartika_card::crypto::TrustAnchors::new(vec![root]));
    let report = store.verify_audit_with(trust.as_ref())?;
    if json {
        print_json(&report)?;
    } else {
        match (&report.problem, report.covered_to) {
            (None, Some(covered)) => println!(
                "audit log intact: {} entries; {} receipts of the registry, the newest for entry {covered}",
                report.entries, report.receipts
            ),
            (None, None) => println!(
                "audit log intact: {} entries; no receipt of the registry yet",
                report.entries
            ),
            (Some(problem), _) => println!("audit log BROKEN: {problem}"),
        }
    }
    if report.problem.is_some() {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses counts that would take all day by mistake.
pub fn generate_options(
    patients: u32,
    visits: u32,
    days: u32,
    seed: u64,
    until: Option<&str>,
) -> Result<GenerateOptions> {
    if patients > 20_000_000 || visits > 100_000_000 {
        bail!("at most 20 million patients and 100 million visits");
    }
    let until = until
        .map(|date| kartika_card::model::parse_iso_date(date.trim(), "--until date"))
        .transpose()?;
    Ok(GenerateOptions {
        patients,
        visits,
        days,
        seed,
        until,
    })
}

pub fn db_backup(
    db: &Path,
    into: Option<&Path>,
    keep: usize,
    out: Option<&Path>,
) -> Result<ExitCode> {
    let store = Store::open(db)?;
    let report = match (into, out) {
        (Some(folder), _) => store.backup_into(folder, keep)?,
        (None, Some(file)) => store.backup_to(file)?,
        (None, None) => anyhow::bail!("give --into FOLDER or --out FILE"),
    };
    println!(
        "backup: {} ({:.1} MB in {:.2} s)",
        report.path.display(),
        report.bytes as f64 / 1e6,
        report.took.as_secs_f64()
    );
    for old in &report.removed {
        println!("removed older backup {}", old.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn db_restore(db: &Path, from: &Path) -> Result<ExitCode> {
    let report = Store::restore(from, db)?;
    println!(
        "restored {} from {} (audit chain intact, {} entries)",
        db.display(),
        from.display(),
        report.audit_entries
    );
    if let Some(aside) = report.kept_aside {
        println!("the replaced file is kept as {}", aside.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum DbCommand {
    /// Create a clinic database for a Puskesmas.
    Init {
        #[arg(long)]
        db: PathBuf,
        /// For example P3674060; it prefixes every patient number created here.
        #[arg(long)]
        facility_code: String,
        #[arg(long)]
        facility_name: String,
        /// The catchment's region code, for example 36.74.06 (a district).
        #[arg(long)]
        region: Option<String>,
        /// WIB, WITA or WIT.
        #[arg(long, default_value = "WIB")]
        zone: String,
    },
    /// Fill a database with realistic patients and visits, for benchmarks and demos.
    Generate {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 200_000)]
        patients: u32,
        #[arg(long, default_value_t = 1_000_000)]
        visits: u32,
        /// Days of history, ending on --until.
        #[arg(long, default_value_t = 730)]
        days: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The history's last day, YYYY-MM-DD, before today (default: yesterday).
        #[arg(long)]
        until: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A consistent copy of the database while it is in use (SQLite's online backup):
    /// into a folder with a dated name, keeping the newest --keep there, or to --out.
    Backup {
        #[arg(long)]
        db: PathBuf,
        /// A folder (a second disk, a USB stick): the copy gets a dated name.
        #[arg(long, conflicts_with = "out", required_unless_present = "out")]
        into: Option<PathBuf>,
        /// How many dated copies the folder keeps.
        #[arg(long, default_value_t = 7, requires = "into")]
        keep: usize,
        /// One file instead of a folder.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Put a backup in place of the database, after checking its integrity, its facility
    /// and its audit chain; the replaced file is kept beside it. Close the app first.
    Restore {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        from: PathBuf,
    },
    /// The ids SATUSEHAT knows the facility, its units and its staff by (admins only);
    /// prints them after any change.
    Satusehat {
        #[arg(long)]
        db: PathBuf,
        #[arg(long = "as")]
        as_user: String,
        /// The facility's Organization id.
        #[arg(long)]
        organization: Option<String>,
        /// A unit's Location id, as UNIT=ID (repeatable).
        #[arg(long = "location")]
        locations: Vec<String>,
        /// A staff member's IHS number, as USERNAME=IHS (repeatable).
        #[arg(long = "practitioner")]
        practitioners: Vec<String>,
        /// A patient's IHS number, as PATIENT_NUMBER=IHS (repeatable).
        #[arg(long = "patient")]
        patients: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum StaffCommand {
    /// Add an account. The new password is read from KARTIKA_NEW_PASSWORD or standard input.
    /// The first account (an admin) needs no login; later ones need --as an admin.
    Add {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// admin, registration or nurse.
        #[arg(long)]
        role: String,
        /// The admin adding the account (password from KARTIKA_PASSWORD or standard input).
        #[arg(long = "as")]
        as_user: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum PatientCommand {
    /// Find patients by NIK, patient number, card number, BPJS number, No. KK or name.
    Search {
        #[arg(long)]
        db: PathBuf,
        /// Who is searching (password from KARTIKA_PASSWORD or standard input).
        #[arg(long = "as")]
        as_user: String,
        /// A number or part of a name.
        text: String,
        /// Narrows a name search, YYYY-MM-DD.
        #[arg(long)]
        birth_date: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Merge two records of one person registered here: the retired record's visits,
    /// diagnoses, cards and open flags move to the one kept (admins only; undo with unmerge).
    Merge(crate::commands::merge::MergeArgs),
    /// Undo the last merge of a retired record: what it moved goes back, what was recorded
    /// since stays with the record that was kept.
    Unmerge(crate::commands::merge::UnmergeArgs),
    /// The open flags of possible duplicates and the merges and links in force, for an
    /// admin to look at; with --registry, also the pairs the registry flagged with other
    /// Puskesmas and the proposals naming this Puskesmas's records.
    Duplicates(crate::commands::merge::DuplicatesArgs),
    /// Propose to another Puskesmas that its record and one here are one person, the one
    /// kept standing for both; nothing changes until it accepts (admins only).
    ProposeMerge(crate::commands::merge::ProposeArgs),
    /// Accept another Puskesmas's proposal: the registry links the two records and every
    /// Puskesmas holding either follows on its next pull.
    AcceptMerge(crate::commands::merge::DecideArgs),
    /// Decline another Puskesmas's proposal (or withdraw this one's): nothing changes.
    DeclineMerge(crate::commands::merge::DecideArgs),
    /// Undo an accepted link (either Puskesmas may): two records again everywhere.
    UndoLink(crate::commands::merge::DecideArgs),
}

#[derive(Subcommand)]
pub enum VisitCommand {
    /// The visits of a day, all units or one.
    List {
        #[arg(long)]
        db: PathBuf,
        #[arg(long = "as")]
        as_user: String,
        /// YYYY-MM-DD; today in the facility's zone when left out.
        #[arg(long)]
        date: Option<String>,
        /// One unit's queue, for example general.
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain; exits non-zero and names the first broken entry.
    Verify {
        #[arg(long)]
        db: PathBuf,
        /// The registry's root.pub: also check that the registry signed the receipts.
        #[arg(long)]
        trust: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run_db(command: DbCommand) -> Result<ExitCode> {
    match command {
        DbCommand::Init {
            db,
            facility_code,
            facility_name,
            region,
            zone,
        } => db_init(&db, &facility_code, &facility_name, region, &zone),
        DbCommand::Generate {
            db,
            patients,
            visits,
            days,
            seed,
            until,
            json,
        } => db_generate(
            &db,
            &generate_options(patients, visits, days, seed, until.as_deref())?,
            json,
        ),
        DbCommand::Backup {
            db,
            into,
            keep,
            out,
        } => db_backup(&db, into.as_deref(), keep, out.as_deref()),
        DbCommand::Restore { db, from } => db_restore(&db, &from),
        DbCommand::Satusehat {
            db,
            as_user,
            organization,
            locations,
            practitioners,
            patients,
        } => crate::commands::export::satusehat_ids(
            &db,
            &as_user,
            organization.as_deref(),
            &locations,
            &practitioners,
            &patients,
        ),
    }
}

pub fn run_staff(command: StaffCommand) -> Result<ExitCode> {
    let StaffCommand::Add {
        db,
        username,
        display_name,
        role,
        as_user,
        json,
    } = command;
    staff_add(
        &db,
        &StaffToAdd {
            username: &username,
            display_name: &display_name,
            role: &role,
            as_user: as_user.as_deref(),
        },
        json,
    )
}

pub fn run_patient(command: PatientCommand) -> Result<ExitCode> {
    match command {
        PatientCommand::Search {
            db,
            as_user,
            text,
            birth_date,
            json,
        } => patient_search(&db, &as_user, &text, birth_date, json),
        PatientCommand::Merge(args) => crate::commands::merge::merge(&args),
        PatientCommand::Unmerge(args) => crate::commands::merge::unmerge(&args),
        PatientCommand::Duplicates(args) => crate::commands::merge::duplicates(&args),
        PatientCommand::ProposeMerge(args) => crate::commands::merge::propose(&args),
        PatientCommand::AcceptMerge(args) => {
            crate::commands::merge::decide(&args, MergeDecision::Accept)
        }
        PatientCommand::DeclineMerge(args) => {
            crate::commands::merge::decide(&args, MergeDecision::Decline)
        }
        PatientCommand::UndoLink(args) => {
            crate::commands::merge::decide(&args, MergeDecision::Undo)
        }
    }
}

pub fn run_visit(command: VisitCommand) -> Result<ExitCode> {
    let VisitCommand::List {
        db,
        as_user,
        date,
        unit,
        json,
    } = command;
    visit_list(&db, &as_user, date.as_deref(), unit.as_deref(), json)
}

pub fn run_audit(command: AuditCommand) -> Result<ExitCode> {
    let AuditCommand::Verify { db, trust, json } = command;
    audit_verify(&db, trust.as_deref(), json)
}
