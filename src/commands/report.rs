//! `kartika report lb1|visits|top10|daily`: the monthly reports from the command line, as a
//! table, CSV, XLSX or JSON.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use kartika_report::{Format, Report};
use kartika_store::{ReportFilter, ReportPeriod, Store};

use crate::commands::store::login;

/// Which report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// LB1 morbidity: new cases by age group and sex, new, old and total cases per code.
    Lb1,
    /// The visit recap (LB4's visit part).
    Visits,
    /// The ten most common diagnoses.
    Top10,
    /// The day's report (the first day of the period).
    Daily,
}

pub struct ReportRequest<'a> {
    pub kind: Kind,
    pub db: &'a Path,
    pub as_user: &'a str,
    pub month: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub unit: Option<&'a str>,
    pub new_cases_only: bool,
    pub format: &'a str,
    pub out: Option<&'a Path>,
}

fn period(args: &ReportRequest<'_>) -> Result<ReportPeriod> {
    Ok(match (args.month, args.from, args.to) {
        (Some(month), None, None) => ReportPeriod::month(month)?,
        (None, Some(from), Some(to)) => ReportPeriod::new(from, to)?,
        (None, Some(day), None) if args.kind == Kind::Daily => ReportPeriod::day(day)?,
        _ => bail!("give --month YYYY-MM, or --from and --to (YYYY-MM-DD)"),
    })
}

pub fn report(args: &ReportRequest<'_>) -> Result<ExitCode> {
    let format = Format::parse(args.format)
        .with_context(|| format!("--format {}: use table, csv, xlsx or json", args.format))?;
    if format == Format::Xlsx && args.out.is_none() {
        bail!("an XLSX report is a file: give --out FILE.xlsx");
    }
    let period = period(args)?;
    let filter = ReportFilter {
        unit_code: args.unit.map(str::to_owned),
        new_cases_only: args.new_cases_only,
    };
    let mut store = Store::open(args.db)?;
    let session = login(&mut store, args.as_user)?;
    let report = match args.kind {
        Kind::Lb1 => Report::Lb1(Box::new(store.lb1_report(&session, &period, &filter)?)),
        Kind::Visits => Report::Visits(store.visit_recap(&session, &period, &filter)?),
        Kind::Top10 => Report::Top10(store.top_diagnoses(&session, &period, &filter, 10)?),
        Kind::Daily => Report::Daily(store.daily_report(&session, &period.from)?),
    };
    let bytes = report.render(format)?;
    match args.out {
        Some(path) => std::fs::write(path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout()
            .write_all(&bytes)
            .context("cannot write the report")?,
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct ReportArgs {
    /// Which report.
    #[arg(value_enum)]
    pub kind: Kind,
    #[arg(long)]
    pub db: PathBuf,
    #[arg(long = "as")]
    pub as_user: String,
    /// A month, YYYY-MM, in the facility's own days.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub month: Option<String>,
    /// The first day, YYYY-MM-DD (the day itself for the daily report).
    #[arg(long)]
    pub from: Option<String>,
    /// The last day, YYYY-MM-DD.
    #[arg(long)]
    pub to: Option<String>,
    /// Only one unit's visits, for example general.
    #[arg(long)]
    pub unit: Option<String>,
    /// Count new cases only (the ten most common diagnoses).
    #[arg(long)]
    pub new_cases: bool,
    /// table, csv, xlsx or json.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Write to this file instead of standard output (needed for xlsx).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    report(&ReportRequest {
        kind: args.kind,
        db: &args.db,
        as_user: &args.as_user,
        month: args.month.as_deref(),
        from: args.from.as_deref(),
        to: args.to.as_deref(),
        unit: args.unit.as_deref(),
        new_cases_only: args.new_cases,
        format: &args.format,
        out: args.out.as_deref(),
    })
}
