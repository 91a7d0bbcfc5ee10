//! `kartika bpjs`: BPJS Kesehatan's set-up, P-Care's member check, and the queue of BPJS
//! visits to P-Care and Antrean FKTP (status, the sender, "Kirim ulang"). The check gives
//! BPJS two seconds, as the desk does: when BPJS has not answered by then, it says "belum
//! dicek" and why, and nothing waits longer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use kartika_bpjs::{BpjsLink, BpjsSecrets, Client, Environment, Member, Secret};
use kartika_store::{BpjsCode, OutsideStep, Role, Store};

use crate::commands::store::{login, print_json};

#[derive(Subcommand)]
pub enum BpjsCommand {
    /// Set BPJS up (admins only): where P-Care and Antrean are, the consumer, the P-Care
    /// login; the secrets are kept in an owner-only file beside the store, never in it.
    Setup(Box<SetupArgs>),
    /// Tell BPJS's code for a unit (kdPoli) or a nurse or doctor (kdDokter), checked
    /// against P-Care's own list of this FKTP's (admins only).
    Map {
        #[arg(long)]
        db: PathBuf,
        /// The admin.
        #[arg(long = "as")]
        user: String,
        /// The unit's code here, for example general.
        #[arg(long, requires = "kd_poli", conflicts_with = "staff")]
        unit: Option<String>,
        /// P-Care's kdPoli for it, for example 001.
        #[arg(long)]
        kd_poli: Option<String>,
        /// The nurse's or doctor's username.
        #[arg(long, requires = "kd_dokter", required_unless_present = "unit")]
        staff: Option<String>,
        /// P-Care's kdDokter for them.
        #[arg(long)]
        kd_dokter: Option<String>,
    },
    /// Ask P-Care about a member: active or not, where registered, arrears.
    Peserta {
        #[arg(long)]
        db: PathBuf,
        /// Who asks (password from KARTIKA_PASSWORD or standard input).
        #[arg(long = "as")]
        user: String,
        /// The BPJS card number (13 digits).
        #[arg(long, conflicts_with = "nik", required_unless_present = "nik")]
        card: Option<String>,
        /// The NIK (16 digits).
        #[arg(long)]
        nik: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// BPJS's calls per state, and every call not at BPJS with its reason (BPJS's words).
    Status {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// The sender, in the foreground: each BPJS visit's pendaftaran, antrean, panggil,
    /// kunjungan and batal, in the order visits arrived (one sender per store).
    Send {
        #[arg(long)]
        db: PathBuf,
        /// Who starts it (password from KARTIKA_PASSWORD or standard input).
        #[arg(long = "as")]
        user: String,
        /// Returns once nothing is due now.
        #[arg(long)]
        until_idle: bool,
    },
    /// "Kirim ulang": refused calls, and calls waiting for a mapping, go again (admins).
    Retry {
        #[arg(long)]
        db: PathBuf,
        /// The admin.
        #[arg(long = "as")]
        user: String,
        /// One visit, by id.
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        visit: Option<String>,
        /// Every refused or waiting call.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Args)]
pub struct SetupArgs {
    #[arg(long)]
    db: PathBuf,
    /// The admin.
    #[arg(long = "as")]
    user: String,
    /// development or production.
    #[arg(long, conflicts_with_all = ["pcare_url", "antrean_url"], required_unless_present = "pcare_url")]
    env: Option<String>,
    /// P-Care's base, https://HOST/pcare-rest.
    #[arg(long, requires = "antrean_url")]
    pcare_url: Option<String>,
    /// Antrean FKTP's base, https://HOST/antreanfktp.
    #[arg(long, requires = "pcare_url")]
    antrean_url: Option<String>,
    /// CA certificates (PEM) to trust instead of the system's.
    #[arg(long, requires = "pcare_url")]
    ca_file: Option<PathBuf>,
    /// The consumer id BPJS gave this Puskesmas.
    #[arg(long)]
    cons_id: String,
    /// A file holding the consumer secret (a trailing newline is not part of it).
    #[arg(long)]
    secret_file: PathBuf,
    /// A file holding P-Care's user key.
    #[arg(long)]
    pcare_user_key_file: PathBuf,
    /// A file holding Antrean FKTP's user key.
    #[arg(long)]
    antrean_user_key_file: PathBuf,
    /// The P-Care login name.
    #[arg(long)]
    pcare_user: String,
    /// A file holding the P-Care password.
    #[arg(long)]
    pcare_password_file: PathBuf,
    /// The Puskesmas's provider code (kdProvider).
    #[arg(long)]
    provider_code: String,
}

pub fn run(command: BpjsCommand) -> Result<ExitCode> {
    match command {
        BpjsCommand::Setup(args) => setup(*args),
        BpjsCommand::Map {
            db,
            user,
            unit,
            kd_poli,
            staff,
            kd_dokter,
        } => map(&db, &user, unit.zip(kd_poli), staff.zip(kd_dokter)),
        BpjsCommand::Peserta {
            db,
            user,
            card,
            nik,
            json,
        } => {
            let member = match (card, nik) {
                (Some(card), _) => Member::Card(card),
                (None, Some(nik)) => Member::Nik(nik),
                (None, None) => bail!("give --card or --nik"),
            };
            peserta(&db, &user, &member, json)
        }
        BpjsCommand::Status { db, json } => crate::commands::satusehat::print_status(
            &Store::open(&db)?.bpjs_status(usize::MAX)?,
            json,
        ),
        BpjsCommand::Send {
            db,
            user,
            until_idle,
        } => send(&db, &user, until_idle),
        BpjsCommand::Retry {
            db,
            user,
            visit,
            all: _,
        } => {
            let mut store = Store::open(&db)?;
            let admin = login(&mut store, &user)?;
            let count = store.retry_bpjs(&admin, visit.as_deref())?;
            println!("{count} BPJS call(s) will be sent again");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn send(db: &Path, user: &str, until_idle: bool) -> Result<ExitCode> {
    login(&mut Store::open(db)?, user)?;
    // Never told to stop: it runs until Ctrl-C, or until idle.
    let (_keep, stop) = std::sync::mpsc::channel();
    kartika_bpjs::serve(
        db,
        &kartika_satusehat::this_pc(),
        &stop,
        until_idle,
        |served| match served {
            kartika_bpjs::Served::Progress(d) => eprint!(
                "\rsent {}, waiting {}, refused {}",
                d.sent, d.waiting, d.refused
            ),
            kartika_bpjs::Served::Round(d) => {
                eprintln!();
                if let Some((pause, why)) = &d.paused {
                    eprintln!("{why}; again in {} s", pause.as_secs());
                }
            }
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

fn secret_from(path: &Path) -> Result<Secret> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    Ok(Secret::new(&text))
}

fn setup(args: SetupArgs) -> Result<ExitCode> {
    let (pcare_url, antrean_url) = match (&args.env, args.pcare_url, args.antrean_url) {
        (Some(env), _, _) => {
            let env = match env.as_str() {
                "development" => Environment::Development,
                "production" => Environment::Production,
                other => bail!("--env {other}: give development or production"),
            };
            let (pcare, antrean) = env.urls();
            (pcare.to_owned(), antrean.to_owned())
        }
        (None, Some(pcare), Some(antrean)) => (pcare, antrean),
        _ => bail!("give --env, or --pcare-url and --antrean-url"),
    };
    let secrets = BpjsSecrets {
        secret: secret_from(&args.secret_file)?,
        pcare_user_key: secret_from(&args.pcare_user_key_file)?,
        antrean_user_key: secret_from(&args.antrean_user_key_file)?,
        pcare_password: secret_from(&args.pcare_password_file)?,
    };
    let ca = args
        .ca_file
        .as_deref()
        .map(|ca| std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display())))
        .transpose()?;
    let mut store = Store::open(&args.db)?;
    let admin = login(&mut store, &args.user)?;
    if admin.role() != Role::Admin {
        bail!("{} may not set BPJS up: an admin does", args.user);
    }
    let link = BpjsLink {
        pcare_url,
        antrean_url,
        cons_id: args.cons_id.trim().to_owned(),
        pcare_user: args.pcare_user.trim().to_owned(),
        provider_code: args.provider_code.trim().to_owned(),
    };
    store.note_outside(
        &admin,
        &OutsideStep::BpjsSetUp {
            pcare_url: link.pcare_url.clone(),
        },
    )?;
    kartika_bpjs::settings::save(&args.db, &link, &secrets, ca.as_deref())?;
    println!(
        "BPJS set up: P-Care {} as provider {}; check a member with `kartika bpjs peserta`",
        link.pcare_url, link.provider_code
    );
    Ok(ExitCode::SUCCESS)
}

/// How long the admin's set-up gives BPJS to send its lists.
const LIST_BUDGET: Duration = Duration::from_secs(30);

fn client_for(db: &Path, budget: Duration) -> Result<Client> {
    let Some(kartika_bpjs::settings::Kept {
        link,
        secrets,
        ca_pem,
    }) = kartika_bpjs::settings::load(db)?
    else {
        bail!(
            "BPJS is not set up for {}; an admin runs `kartika bpjs setup`",
            db.display()
        );
    };
    Ok(Client::new(link, secrets, ca_pem.as_deref(), budget)?)
}

fn map(
    db: &Path,
    user: &str,
    unit: Option<(String, String)>,
    staff: Option<(String, String)>,
) -> Result<ExitCode> {
    let mut store = Store::open(db)?;
    let admin = login(&mut store, user)?;
    let client = client_for(db, LIST_BUDGET)?;
    let code = match (unit, staff) {
        (Some((unit, kd_poli)), _) => {
            let listed = client.poli()?;
            if !listed.iter().any(|p| p.kd_poli == kd_poli) {
                let known: Vec<String> = listed
                    .iter()
                    .map(|p| format!("{} {}", p.kd_poli, p.nm_poli))
                    .collect();
                bail!(
                    "kdPoli {kd_poli} is not in P-Care's list of this FKTP's poli: {}",
                    known.join(", ")
                );
            }
            BpjsCode::Unit { unit, kd_poli }
        }
        (None, Some((username, kd_dokter))) => {
            let listed = client.dokter()?;
            if !listed.iter().any(|d| d.kd_dokter == kd_dokter) {
                let known: Vec<String> = listed
                    .iter()
                    .map(|d| format!("{} {}", d.kd_dokter, d.nm_dokter))
                    .collect();
                bail!(
                    "kdDokter {kd_dokter} is not in P-Care's list of this FKTP's doctors: {}",
                    known.join(", ")
                );
            }
            BpjsCode::Staff {
                username,
                kd_dokter,
            }
        }
        (None, None) => bail!("give --unit with --kd-poli, or --staff with --kd-dokter"),
    };
    let codes = store.set_bpjs_code(&admin, &code)?;
    for (unit, kd) in &codes.units {
        println!("unit {unit}: kdPoli {kd}");
    }
    for (username, kd) in &codes.staff {
        println!("staff {username}: kdDokter {kd}");
    }
    Ok(ExitCode::SUCCESS)
}

fn peserta(db: &Path, user: &str, member: &Member, json: bool) -> Result<ExitCode> {
    let mut store = Store::open(db)?;
    let session = login(&mut store, user)?;
    let client = client_for(db, kartika_bpjs::CHECK_BUDGET)?;
    let (by, number) = match member {
        Member::Card(number) => ("card", number),
        Member::Nik(nik) => ("NIK", nik),
    };
    store.note_outside(&session, &OutsideStep::member_checked(by, number))?;
    match client.peserta(member) {
        Ok(Some(found)) => {
            if json {
                print_json(&serde_json::json!({ "checked": true, "peserta": found }))?;
            } else {
                let provider = found
                    .kd_provider_pst
                    .as_ref()
                    .map(|p| format!("{} {}", p.kd_provider, p.nm_provider))
                    .unwrap_or_default();
                let kind = found
                    .jns_peserta
                    .as_ref()
                    .map(|k| k.nama.as_str())
                    .unwrap_or("");
                println!(
                    "{}  {}  {}  {}  terdaftar di {provider}  {kind}",
                    found.no_kartu,
                    found.nama,
                    if found.aktif { "aktif" } else { "tidak aktif" },
                    found.ket_aktif
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Ok(None) => {
            if json {
                print_json(&serde_json::json!({ "checked": true, "peserta": null }))?;
            } else {
                println!("bukan peserta JKN menurut BPJS");
            }
            Ok(ExitCode::SUCCESS)
        }
        // BPJS not answering in time is an answer too: the desk goes on without it.
        Err(
            e @ (kartika_bpjs::BpjsError::Unreachable(_) | kartika_bpjs::BpjsError::Busy { .. }),
        ) => {
            if json {
                print_json(&serde_json::json!({ "checked": false, "reason": e.to_string() }))?;
            } else {
                println!("status BPJS belum dicek: {e}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(e.into()),
    }
}
