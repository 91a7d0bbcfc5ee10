//! `kartika`: the command line of the Kartika patient smart-card system. It wires the
//! library crates together; the rules live in them.

mod commands;
mod console;
mod keys;
mod logging;
mod places;
mod serving;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::{
    app, bpjs, card, export, lan, node, registry, report, satusehat, service, store, vcard,
};

#[derive(Parser)]
#[command(
    name = "kartika",
    version,
    about = "Kartika: patient smart cards for Puskesmas"
)]
struct Cli {
    /// How the servers write their log lines (the level is KARTIKA_LOG, info by default).
    #[arg(long, global = true, value_enum, default_value_t)]
    log_format: logging::LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The desktop app in demo mode: a seeded Puskesmas, an in-process registry and demo
    /// cards to tap.
    Demo(app::DemoArgs),
    /// The desktop app on this Puskesmas's data (a first run sets the facility up).
    App(app::AppArgs),
    /// The registry root key (until the registry holds it).
    Root {
        #[command(subcommand)]
        command: node::RootCommand,
    },
    /// A Puskesmas node's key.
    Node {
        #[command(subcommand)]
        command: node::NodeCommand,
    },
    /// Software cards for tests and demos.
    Vcard {
        #[command(subcommand)]
        command: vcard::VcardCommand,
    },
    /// List card readers and whether a card is in each.
    Readers(card::ReadersArgs),
    /// Issue, read and verify patient cards.
    Card {
        #[command(subcommand)]
        command: card::CardCommand,
    },
    /// The clinic database.
    Db {
        #[command(subcommand)]
        command: store::DbCommand,
    },
    /// Staff accounts.
    Staff {
        #[command(subcommand)]
        command: store::StaffCommand,
    },
    /// Patients.
    Patient {
        #[command(subcommand)]
        command: store::PatientCommand,
    },
    /// Visits.
    Visit {
        #[command(subcommand)]
        command: store::VisitCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: store::AuditCommand,
    },
    /// The monthly reports: LB1, the visit recap, the ten most common diagnoses, the day.
    Report(report::ReportArgs),
    /// The clinic's own records for another system.
    Export {
        #[command(subcommand)]
        command: export::ExportCommand,
    },
    /// BPJS Kesehatan: set-up and P-Care's member check.
    Bpjs {
        #[command(subcommand)]
        command: bpjs::BpjsCommand,
    },
    /// SATUSEHAT: set-up, the queue of finished visits, the sender.
    Satusehat {
        #[command(subcommand)]
        command: satusehat::SatusehatCommand,
    },
    /// The central registry.
    Registry {
        #[command(subcommand)]
        command: registry::RegistryCommand,
    },
    /// Serve this Puskesmas's store to its workstations on the LAN (`kartika app --server`).
    ServeClinic(lan::ServeClinicArgs),
    /// The clinic server as a Windows service (on Linux: contrib/kartika-clinic.service).
    Service {
        #[command(subcommand)]
        command: service::ServiceCommand,
    },
    /// The waiting room's screen: each call by number and unit, full screen.
    Display(app::DisplayArgs),
    /// The standby PC: copies of the server's store, and taking over from it.
    Standby {
        #[command(subcommand)]
        command: lan::StandbyCommand,
    },
    /// This PC as a workstation of the Puskesmas's server, and the admin's approval.
    Workstation {
        #[command(subcommand)]
        command: lan::WorkstationCommand,
    },
    /// Send this clinic's changes to the registry and apply what it hands on.
    Sync(registry::SyncArgs),
}

/// When the process started, for the app's first-frame timing.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

fn main() -> ExitCode {
    STARTED.get_or_init(std::time::Instant::now);
    let cli = Cli::parse();
    let windowed =
        matches!(cli.command, Command::App(_) | Command::Demo(_)) && console::leave_own_console();
    match run(cli) {
        Ok(code) => code,
        Err(error) if windowed => {
            console::show_error(&format!("{error:#}"));
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // The app writes to files in its folder; everything else to standard error.
    let _flushed_at_exit = match &cli.command {
        Command::App(args) => logging::to_daily_files(&args.data),
        Command::Demo(args) => logging::to_daily_files(&app::demo_dir(args)),
        // A service has no console: its lines go to files beside the store.
        Command::Service {
            command: service::ServiceCommand::Run(args),
        } => logging::to_daily_files(args.db.parent().unwrap_or(std::path::Path::new("."))),
        _ => {
            logging::to_stderr(cli.log_format);
            None
        }
    };
    match cli.command {
        Command::Demo(args) => app::run_demo(args),
        Command::App(args) => app::run_app(args),
        Command::Display(args) => app::run_display(args),
        Command::Root { command } => node::run_root(command),
        Command::Node { command } => node::run_node(command),
        Command::Vcard { command } => vcard::run(command),
        Command::Readers(args) => card::run_readers(args),
        Command::Card { command } => card::run(command),
        Command::Db { command } => store::run_db(command),
        Command::Staff { command } => store::run_staff(command),
        Command::Patient { command } => store::run_patient(command),
        Command::Visit { command } => store::run_visit(command),
        Command::Audit { command } => store::run_audit(command),
        Command::Report(args) => report::run(args),
        Command::Export { command } => export::run(command),
        Command::Registry { command } => registry::run(command),
        Command::Satusehat { command } => satusehat::run(command),
        Command::Sync(args) => registry::run_sync(args),
        Command::ServeClinic(args) => lan::run_serve_clinic(args),
        Command::Service { command } => service::run(command),
        Command::Bpjs { command } => bpjs::run(command),
        Command::Standby { command } => lan::run_standby(command),
        Command::Workstation { command } => lan::run_workstation(command),
    }
}
