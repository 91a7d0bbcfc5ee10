//! `kartika readers` and `kartika card …`: issuing and reading cards in a PC/SC reader.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use kartika_card::crypto::TrustAnchors;
use kartika_card::model::{Identity, IdentityJson, Pin};
use kartika_card::verify::{CardReading, Verdict};
use kartika_card::{CardError, CardSession, IssueRequest};
use kartika_reader::{Monitor, ReaderContext, ReaderEvent};
use rand_core::{OsRng, RngCore};
use serde::Serialize;

use crate::keys;

#[derive(Serialize)]
struct ReaderJson<'a> {
    name: &'a str,
    card_present: bool,
}

pub fn readers(json: bool) -> Result<ExitCode> {
    let readers = ReaderContext::establish()?.list_readers()?;
    if json {
        let rows: Vec<ReaderJson> = readers
            .iter()
            .map(|r| ReaderJson {
                name: &r.name,
                card_present: r.card_present,
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if readers.is_empty() {
        println!("no card readers found");
    } else {
        for reader in &readers {
            let card = if reader.card_present {
                "card present"
            } else {
                "empty"
            };
            println!("{}\t{card}", reader.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn issue(
    reader: &str,
    identity_path: &Path,
    pin: &str,
    node: &Path,
    root_pub: &Path,
) -> Result<ExitCode> {
    let text = fs::read_to_string(identity_path)
        .with_context(|| format!("cannot read {}", identity_path.display()))?;
    let json: IdentityJson = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an identity JSON file", identity_path.display()))?;
    let identity =
        Identity::try_from(json).with_context(|| format!("in {}", identity_path.display()))?;
    let pin = Pin::new(pin)?;
    let issuer = keys::read_node_credentials(node)?;
    let root = keys::read_public_key(root_pub)?;
    let mut card = ReaderContext::establish()?.connect(reader)?;
    card.with_transaction(|transport| {
        CardSession::new(transport).personalize(&IssueRequest {
            identity: &identity,
            pin: &pin,
            issuer: &issuer,
            root: &root,
        })
    })?;
    println!(
        "card {} issued to {} ({})",
        identity.card_number, identity.name, identity.patient_number
    );
    Ok(ExitCode::SUCCESS)
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

fn fresh_challenge() -> [u8; 32] {
    let mut challenge = [0u8; 32];
    OsRng.fill_bytes(&mut challenge);
    challenge
}

fn read_card(
    context: &ReaderContext,
    reader: &str,
    trust: &TrustAnchors,
) -> Result<CardReading, anyhow::Error> {
    let mut card = context.connect(reader)?;
    let challenge = fresh_challenge();
    let reading = card.with_transaction(|transport| {
        CardSession::new(transport).verify_card(trust, today(), &challenge)
    })?;
    Ok(reading)
}

#[derive(Serialize)]
struct ReadingJson {
    #[serde(flatten)]
    identity: IdentityJson,
    genuine: bool,
    reason: Option<String>,
}

fn print_reading(reading: &CardReading, json: bool) -> Result<()> {
    let reason = match &reading.verdict {
        Verdict::Genuine => None,
        Verdict::NotGenuine(rejection) => Some(rejection.to_string()),
    };
    let identity = &reading.identity;
    if json {
        let row = ReadingJson {
            identity: IdentityJson::from(identity),
            genuine: reason.is_none(),
            reason,
        };
        println!("{}", serde_json::to_string(&row)?);
        return Ok(());
    }
    match &reason {
        None => println!("GENUINE card {}", identity.card_number),
        Some(reason) => println!("NOT GENUINE card {}: {reason}", identity.card_number),
    }
    let j = IdentityJson::from(identity);
    println!("  patient number  {}", j.patient_number);
    println!("  name            {}", j.name);
    println!("  birth date      {}  sex {:?}", j.birth_date, j.sex);
    if let Some(nik) = &j.nik {
        println!("  NIK             {nik}");
    }
    if let Some(bpjs) = &j.bpjs_number {
        println!("  BPJS            {bpjs}");
    }
    println!(
        "  issued          {} by {}, expires {}",
        j.issue_date, j.facility_code, j.expiry_date
    );
    Ok(())
}

fn trust_from(path: &Path) -> Result<TrustAnchors> {
    Ok(TrustAnchors::new(vec![keys::read_public_key(path)?]))
}

pub fn read(reader: &str, trust_path: &Path, json: bool) -> Result<ExitCode> {
    let trust = trust_from(trust_path)?;
    let context = ReaderContext::establish()?;
    let reading = read_card(&context, reader, &trust)?;
    print_reading(&reading, json)?;
    Ok(if reading.verdict.is_genuine() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The desk loop without a window: every card that arrives is read and judged; a failure
/// is reported and the loop goes on.
pub fn wait(reader: &str, trust_path: &Path, json: bool) -> Result<ExitCode> {
    let trust = trust_from(trust_path)?;
    let monitor = Monitor::start();
    eprintln!("waiting for cards in \"{reader}\" (Ctrl-C to stop)");
    let mut context: Option<ReaderContext> = None;
    for event in monitor.events() {
        match event {
            ReaderEvent::CardInserted { reader: r, .. } if r == reader => {
                // A context dies with pcscd; make a new one whenever the old one failed.
                let ctx = match context.take() {
                    Some(ctx) => ctx,
                    None => ReaderContext::establish()?,
                };
                match read_card(&ctx, reader, &trust) {
                    Ok(reading) => {
                        print_reading(&reading, json)?;
                        context = Some(ctx);
                    }
                    Err(error) => {
                        if error.downcast_ref::<CardError>().is_none() {
                            context = None;
                        } else {
                            context = Some(ctx);
                        }
                        eprintln!("error: {error:#}");
                    }
                }
            }
            ReaderEvent::ServiceLost => {
                context = None;
                eprintln!("the smart-card service stopped; waiting for it to come back");
            }
            ReaderEvent::ServiceRestored => eprintln!("the smart-card service is back"),
            _ => {}
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct ReadersArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum CardCommand {
    /// Issue a blank card in a reader to the patient in an identity JSON file.
    Issue {
        #[arg(long)]
        reader: String,
        #[arg(long)]
        identity: PathBuf,
        #[arg(long)]
        pin: String,
        /// The issuing node's folder (node.key, node.cert).
        #[arg(long)]
        node: PathBuf,
        /// The registry root public key written to the card (root.pub).
        #[arg(long)]
        root_pub: PathBuf,
    },
    /// Read and verify the card in a reader; exits non-zero unless it is genuine.
    Read {
        #[arg(long)]
        reader: String,
        /// The registry root public key to trust (root.pub).
        #[arg(long)]
        trust: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Wait for cards in a reader, read and verify each, and keep waiting.
    Wait {
        #[arg(long)]
        reader: String,
        #[arg(long)]
        trust: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

pub fn run_readers(args: ReadersArgs) -> Result<ExitCode> {
    readers(args.json)
}

pub fn run(command: CardCommand) -> Result<ExitCode> {
    match command {
        CardCommand::Issue {
            reader,
            identity,
            pin,
            node,
            root_pub,
        } => issue(&reader, &identity, &pin, &node, &root_pub),
        CardCommand::Read {
            reader,
            trust,
            json,
        } => read(&reader, &trust, json),
        CardCommand::Wait {
            reader,
            trust,
            json,
        } => wait(&reader, &trust, json),
    }
}
