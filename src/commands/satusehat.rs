//! `kartika satusehat`: the link's set-up, the queue of finished visits, the sender.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use kartika_satusehat::{save_link_files, Environment, Secret, Served};
use kartika_store::{DeliveryStatus, SatusehatLink, Store};

use crate::commands::store::login;

#[derive(Subcommand)]
pub enum SatusehatCommand {
    /// Where SATUSEHAT is and who this Puskesmas is to it; the secret is kept in a file
    /// beside the store, owner-only.
    Setup(SetupArgs),
    /// Visits per state, and every visit not sent with its reason.
    Status {
        /// The clinic store.
        #[arg(long)]
        db: PathBuf,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// The sender, in the foreground: finished visits to SATUSEHAT, in the order they
    /// finished (one sender per store).
    Send {
        /// The clinic store.
        #[arg(long)]
        db: PathBuf,
        /// Who starts it (password from KARTIKA_PASSWORD or standard input).
        #[arg(long = "as")]
        user: String,
        /// Returns once nothing is due now.
        #[arg(long)]
        until_idle: bool,
    },
    /// "Kirim ulang": refused visits are sent again (after mending them).
    Retry {
        /// The clinic store.
        #[arg(long)]
        db: PathBuf,
        /// The admin (password from KARTIKA_PASSWORD or standard input).
        #[arg(long = "as")]
        user: String,
        /// One visit, by id.
        #[arg(
            long,
            conflicts_with = "all_refused",
            required_unless_present = "all_refused"
        )]
        visit: Option<String>,
        /// Every refused visit.
        #[arg(long)]
        all_refused: bool,
    },
}

#[derive(Args)]
pub struct SetupArgs {
    /// The clinic store.
    #[arg(long)]
    db: PathBuf,
    /// The admin (password from KARTIKA_PASSWORD or standard input).
    #[arg(long = "as")]
    user: String,
    /// sandbox, production or development.
    #[arg(long, conflicts_with_all = ["auth_url", "fhir_url"], required_unless_present = "auth_url")]
    env: Option<String>,
    /// The token's base, https://HOST/oauth2/v1.
    #[arg(long, requires = "fhir_url")]
    auth_url: Option<String>,
    /// The FHIR base, https://HOST/fhir-r4/v1.
    #[arg(long, requires = "auth_url")]
    fhir_url: Option<String>,
    /// CA certificates (PEM) to trust instead of the system's.
    #[arg(long, requires = "auth_url")]
    ca_file: Option<PathBuf>,
    /// The Organization id SATUSEHAT gave this Puskesmas.
    #[arg(long)]
    org_id: String,
    /// The client id SATUSEHAT issued.
    #[arg(long)]
    client_id: String,
    /// A file holding the client secret (a trailing newline is not part of it).
    #[arg(long)]
    secret_file: PathBuf,
    /// Requests a second at most (0: unpaced).
    #[arg(long, default_value_t = 5)]
    pace: u32,
}

pub fn run(command: SatusehatCommand) -> Result<ExitCode> {
    match command {
        SatusehatCommand::Setup(args) => setup(args),
        SatusehatCommand::Status { db, json } => status(&db, json),
        SatusehatCommand::Send {
            db,
            user,
            until_idle,
        } => send(&db, &user, until_idle),
        SatusehatCommand::Retry {
            db,
            user,
            visit,
            all_refused: _,
        } => retry(&db, &user, visit.as_deref()),
    }
}

fn setup(args: SetupArgs) -> Result<ExitCode> {
    let (auth_url, fhir_url) = match (&args.env, args.auth_url, args.fhir_url) {
        (Some(env), _, _) => {
            let env: Environment = env.parse().map_err(anyhow::Error::msg)?;
            (env.auth_url(), env.fhir_url())
        }
        (None, Some(auth), Some(fhir)) => (auth, fhir),
        _ => bail!("give --env, or --auth-url and --fhir-url"),
    };
    let secret = std::fs::read_to_string(&args.secret_file)
        .with_context(|| format!("cannot read the secret file {}", args.secret_file.display()))?;
    let secret = Secret::new(&secret);
    let ca = args
        .ca_file
        .as_deref()
        .map(|ca| std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display())))
        .transpose()?;
    let mut store = Store::open(&args.db)?;
    let admin = login(&mut store, &args.user)?;
    let link = SatusehatLink {
        auth_url,
        fhir_url,
        client_id: args.client_id,
        organization_id: args.org_id,
        pace: args.pace,
    };
    store.set_satusehat_link(&admin, &link)?;
    save_link_files(&args.db, &secret, ca.as_deref())?;
    println!(
        "SATUSEHAT set up: {} as organization {}; finished visits go with `kartika satusehat send` (or the server PC's serve-clinic)",
        link.fhir_url, link.organization_id
    );
    Ok(ExitCode::SUCCESS)
}

fn status(db: &Path, json: bool) -> Result<ExitCode> {
    let mut store = Store::open(db)?;
    print_status(&store.satusehat_status(usize::MAX)?, json)
}

/// An outside system's queue as `status` prints it (SATUSEHAT's and BPJS's alike; a BPJS
/// call names its step).
pub fn print_status(status: &DeliveryStatus, json: bool) -> Result<ExitCode> {
    if json {
        let visits: Vec<_> = status
            .visits
            .iter()
            .map(|v| {
                let mut visit = serde_json::json!({
                    "visit_id": v.visit_id,
                    "state": v.state.as_str(),
                    "reason": v.reason,
                });
                if let Some(step) = v.step {
                    visit["step"] = step.as_str().into();
                }
                visit
            })
            .collect();
        let value = serde_json::json!({
            "counts": status.counts,
            "last_sent_at": status.last_sent_at,
            "visits": visits,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    for (state, count) in &status.counts {
        println!("{state:>9}: {count}");
    }
    for visit in &status.visits {
        let step = visit
            .step
            .map(|s| format!(" {}", s.as_str()))
            .unwrap_or_default();
        println!(
            "{} {}{step} {} ({} tries): {}",
            visit.visit_id,
            visit.patient_number,
            visit.state.as_str(),
            visit.attempts,
            visit.reason.as_deref().unwrap_or("not tried yet")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn send(db: &Path, user: &str, until_idle: bool) -> Result<ExitCode> {
    login(&mut Store::open(db)?, user)?;
    // Never told to stop: it runs until Ctrl-C, or until idle.
    let (_keep, stop) = std::sync::mpsc::channel();
    kartika_satusehat::serve(
        db,
        &kartika_satusehat::this_pc(),
        &stop,
        until_idle,
        |served| match served {
            Served::Progress(d) => eprint!(
                "\rsent {}, waiting {}, refused {}",
                d.sent, d.waiting, d.refused
            ),
            Served::Round(d) => {
                eprintln!();
                if let Some((pause, why)) = &d.paused {
                    eprintln!("{why}; again in {} s", pause.as_secs());
                }
            }
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

fn retry(db: &Path, user: &str, visit: Option<&str>) -> Result<ExitCode> {
    let mut store = Store::open(db)?;
    let admin = login(&mut store, user)?;
    let count = store.retry_satusehat(&admin, visit)?;
    println!("{count} refused visit(s) will be sent again");
    Ok(ExitCode::SUCCESS)
}
