//! `kartika patient merge|unmerge|duplicates`: one person, one record.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use kartika_store::{MergeField, MergePlan, Store};

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

pub fn duplicates(db: &Path, user: &str, json: bool) -> Result<ExitCode> {
    let mut store = Store::open(db)?;
    let session = login(&mut store, user)?;
    let flags = store.possible_duplicates(&session)?;
    if json {
        print_json(&flags)?;
    } else if flags.is_empty() {
        println!("no open duplicate flags");
    } else {
        for flag in &flags {
            println!(
                "{}  {}  {}",
                flag.patient_number, flag.other_patient_number, flag.reason
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
