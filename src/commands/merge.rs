//! `kartika patient merge|unmerge|duplicates`: one person, one record; and across
//! Puskesmas, through the registry: `propose-merge`, `accept-merge`, `decline-merge`,
//! `undo-link`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use kartika_store::{MergeField, MergePlan, Store};
use kartika_sync::{MergeBoard, MergeDecision, MergeProposal};

use crate::commands::registry::RegistryLink;
use crate::commands::store::{login, print_json};

#[derive(Args)]
pub struct MergeArgs {
    #[arg(long)]
    db: PathBuf,
    /// An admin (password from KARTIKA_PASSWORD or standard input).
    #[arg(long = "as")]
    as_user: String,
    /// The record that stays: its number is kept.
    #[arg(long)]
    keep: String,
    /// The record retired into it.
    #[arg(long)]
    retire: String,
    /// Fields the kept record takes from the retired one, comma separated: nik, bpjs, kk,
    /// name, birth_date, sex, blood_group, address, region, phone.
    #[arg(long, value_delimiter = ',')]
    take: Vec<String>,
    /// Print what would move and change nothing.
    #[arg(long)]
    dry_run: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct UnmergeArgs {
    #[arg(long)]
    db: PathBuf,
    #[arg(long = "as")]
    as_user: String,
    /// The number of the record that was retired.
    #[arg(long)]
    retired: String,
    #[arg(long)]
    json: bool,
}

fn fields(names: &[String]) -> Result<Vec<MergeField>> {
    names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|name| match MergeField::parse(name) {
            Some(field) => Ok(field),
            None => bail!(
                "--take {name}: not a field; choose from {}",
                MergeField::ALL.map(MergeField::key).join(", ")
            ),
        })
        .collect()
}

pub fn merge(args: &MergeArgs) -> Result<ExitCode> {
    let take = fields(&args.take)?;
    let mut store = Store::open(&args.db)?;
    let session = login(&mut store, &args.as_user)?;
    let plan = if args.dry_run {
        store.plan_merge(&session, &args.keep, &args.retire, &take)?
    } else {
        store.merge_patients(&session, &args.keep, &args.retire, &take)?
    };
    if args.json {
        print_json(&plan)?;
    } else {
        print_plan(&plan, args.dry_run);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_plan(plan: &MergePlan, dry_run: bool) {
    let verb = if dry_run { "would move" } else { "moved" };
    println!(
        "{} into {}: {verb} {} visits, {} diagnoses, {} cards{}, {} open flags",
        plan.retired.patient_number,
        plan.survivor.patient_number,
        plan.visits,
        plan.diagnoses,
        plan.cards.len(),
        if plan.cards.is_empty() {
            String::new()
        } else {
            format!(" ({})", plan.cards.join(", "))
        },
        plan.flags
    );
    for difference in &plan.differences {
        let taken = plan.taken_from_retired.contains(&difference.field);
        println!(
            "  {:<12} kept {:<30} retired {:<30} {}",
            difference.field.key(),
            difference.survivor.as_deref().unwrap_or("-"),
            difference.retired.as_deref().unwrap_or("-"),
            if taken { "→ takes the retired's" } else { "" }
        );
    }
    if dry_run {
        println!("nothing changed (--dry-run)");
    } else {
        println!(
            "undo any day with `kartika patient unmerge --retired {}`",
            plan.retired.patient_number
        );
    }
}

pub fn unmerge(args: &UnmergeArgs) -> Result<ExitCode> {
    let mut store = Store::open(&args.db)?;
    let session = login(&mut store, &args.as_user)?;
    let undone = store.unmerge_patient(&session, &args.retired)?;
    if args.json {
        print_json(&undone)?;
    } else {
        println!(
            "{} is its own record again: {} visits and {} cards back from {}; {} visits made since the merge stay with {}",
            undone.retired,
            undone.visits,
            undone.cards,
            undone.survivor,
            undone.kept_with_survivor,
            undone.survivor
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct DuplicatesArgs {
    #[arg(long)]
    db: PathBuf,
    #[arg(long = "as")]
    as_user: String,
    /// Also ask the registry for the pairs it flagged (a record here and one of another
    /// Puskesmas) and the proposals naming this Puskesmas's records.
    #[arg(long, requires = "token_file")]
    registry: Option<String>,
    #[arg(long)]
    token_file: Option<PathBuf>,
    #[arg(long)]
    ca_file: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

pub fn duplicates(args: &DuplicatesArgs) -> Result<ExitCode> {
    let mut store = Store::open(&args.db)?;
    let session = login(&mut store, &args.as_user)?;
    let here = store.duplicates(&session)?;
    let board = match (&args.registry, &args.token_file) {
        (Some(registry), Some(token_file)) => {
            let link = RegistryLink {
                registry: registry.clone(),
                token_file: token_file.clone(),
                ca_file: args.ca_file.clone(),
            };
            Some(link.syncer()?.merge_board()?)
        }
        _ => None,
    };
    if args.json {
        print_json(&serde_json::json!({ "here": here, "registry": board }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if here.flags.is_empty() {
        println!("no open duplicate flags here");
    }
    for flag in &here.flags {
        println!(
            "{}  {}  {}",
            flag.patient_number, flag.other_patient_number, flag.reason
        );
    }
    for link in &here.links {
        println!(
            "linked: {} stands for {} (accepted by {}; undo with `kartika patient undo-link --proposal {}`)",
            link.survivor, link.retired, link.by, link.proposal
        );
    }
    if let Some(board) = &board {
        print_board(board);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_board(board: &MergeBoard) {
    if board.candidates.is_empty() && board.proposals.is_empty() {
        println!("the registry flags no pair with another Puskesmas");
    }
    for candidate in &board.candidates {
        let why = match candidate.reason {
            kartika_sync::LikelySame::Nik => "same NIK",
            kartika_sync::LikelySame::NameBirthSex => "same name, date of birth and sex",
        };
        println!(
            "{}  {} (of {})  {why}",
            candidate.patient, candidate.other, candidate.other_facility
        );
    }
    for proposal in &board.proposals {
        println!(
            "proposal {}: {} (of {}) to stand for {} (of {}), proposed by {}: {}",
            proposal.id,
            proposal.survivor,
            proposal.survivor_facility,
            proposal.retired,
            proposal.retired_facility,
            proposal.proposed_by,
            proposal.state.as_str()
        );
    }
}

#[derive(Args)]
pub struct ProposeArgs {
    #[arg(long)]
    db: PathBuf,
    /// An admin (password from KARTIKA_PASSWORD or standard input).
    #[arg(long = "as")]
    as_user: String,
    #[command(flatten)]
    link: RegistryLink,
    /// The record that stands for both (this Puskesmas's or the other's).
    #[arg(long)]
    keep: String,
    /// The record linked into it.
    #[arg(long)]
    retire: String,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct DecideArgs {
    #[arg(long)]
    db: PathBuf,
    /// An admin (password from KARTIKA_PASSWORD or standard input).
    #[arg(long = "as")]
    as_user: String,
    #[command(flatten)]
    link: RegistryLink,
    /// The proposal's id, as `kartika patient duplicates --registry …` lists it.
    #[arg(long)]
    proposal: String,
    #[arg(long)]
    json: bool,
}

/// Proposes to the other Puskesmas that two records are one person; nothing changes until
/// it accepts.
pub fn propose(args: &ProposeArgs) -> Result<ExitCode> {
    let mut store = Store::open(&args.db)?;
    let session = login(&mut store, &args.as_user)?;
    store.check_may_merge(&session)?;
    let proposal = args
        .link
        .syncer()?
        .propose_merge(&args.keep, &args.retire)?;
    store.audit_registry_merge(&session, "proposed", &proposal)?;
    show(&proposal, args.json)
}

/// Accepts, declines or undoes a proposal; after an acceptance or an undo a sync round
/// brings the link here at once.
pub fn decide(args: &DecideArgs, decision: MergeDecision) -> Result<ExitCode> {
    let mut store = Store::open(&args.db)?;
    let session = login(&mut store, &args.as_user)?;
    store.check_may_merge(&session)?;
    let syncer = args.link.syncer()?;
    let proposal = syncer.decide_merge(&args.proposal, decision)?;
    store.audit_registry_merge(&session, decision.done(), &proposal)?;
    if decision != MergeDecision::Decline {
        syncer.round(&mut store)?;
    }
    show(&proposal, args.json)
}

fn show(proposal: &MergeProposal, json: bool) -> Result<ExitCode> {
    if json {
        print_json(proposal)?;
    } else {
        println!(
            "proposal {}: {} (of {}) to stand for {} (of {}): {}",
            proposal.id,
            proposal.survivor,
            proposal.survivor_facility,
            proposal.retired,
            proposal.retired_facility,
            proposal.state.as_str()
        );
    }
    Ok(ExitCode::SUCCESS)
}
