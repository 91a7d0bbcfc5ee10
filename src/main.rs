//! `kartika`: the command line of the Kartika patient smart-card system. It wires the
//! library crates together; the rules live in them.

mod app_commands;
mod card_commands;
mod export_commands;
mod keys;
mod lan_commands;
mod node_commands;
mod registry_commands;
mod report_commands;
mod serving;
mod store_commands;
mod vcard_commands;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kartika_demo::SeedSize;

#[derive(Parser)]
#[command(
    name = "kartika",
    version,
    about = "Kartika: patient smart cards for Puskesmas"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The desktop app in demo mode: a seeded Puskesmas, an in-process registry and demo
    /// cards to tap.
    Demo {
        /// The demo's folder (default: the user's local data folder, kartika/demo).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Throw the demo's data away and start over.
        #[arg(long)]
        fresh: bool,
        /// Patients to seed a new demo with (the benchmarks use 200000).
        #[arg(long, default_value_t = 3_000)]
        patients: u32,
        /// Visits to seed a new demo with (the benchmarks use 1000000).
        #[arg(long, default_value_t = 20_000)]
        visits: u32,
    },
    /// The desktop app on this Puskesmas's data (a first run sets the facility up).
    App {
        /// The data folder: clinic.sqlite and printed tickets.
        #[arg(long)]
        data: PathBuf,
        /// The registry's root public key (PEM) that cards must chain to.
        #[arg(long)]
        trust: PathBuf,
        /// The registry to sync with, for example https://registry.example:8700.
        #[arg(long)]
        registry: Option<String>,
        /// A file holding the node's access token.
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// PEM certificates to trust for an https registry.
        #[arg(long)]
        ca_file: Option<PathBuf>,
        /// The Puskesmas's server (`kartika serve-clinic`), for a workstation whose store
        /// is there, for example https://192.168.1.10:7443.
        #[arg(long)]
        server: Option<String>,
        /// PEM certificates the server's certificate must chain to.
        #[arg(long, requires = "server")]
        server_ca: Option<PathBuf>,
    },
    /// The registry root key (until the registry holds it).
    Root {
        #[command(subcommand)]
        command: RootCommand,
    },
    /// A Puskesmas node's key.
    Node {
        #[command(subcommand)]
        command: NodeCommand,
    },
    /// Software cards for tests and demos.
    Vcard {
        #[command(subcommand)]
        command: VcardCommand,
    },
    /// List card readers and whether a card is in each.
    Readers {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Issue, read and verify patient cards.
    Card {
        #[command(subcommand)]
        command: CardCommand,
    },
    /// The clinic database.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Patients.
    Patient {
        #[command(subcommand)]
        command: PatientCommand,
    },
    /// Visits.
    Visit {
        #[command(subcommand)]
        command: VisitCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The monthly reports: LB1, the visit recap, the ten most common diagnoses, the day.
    Report {
        /// Which report.
        #[arg(value_enum)]
        kind: report_commands::Kind,
        #[arg(long)]
        db: PathBuf,
        #[arg(long = "as")]
        as_user: String,
        /// A month, YYYY-MM, in the facility's own days.
        #[arg(long, conflicts_with_all = ["from", "to"])]
        month: Option<String>,
        /// The first day, YYYY-MM-DD (the day itself for the daily report).
        #[arg(long)]
        from: Option<String>,
        /// The last day, YYYY-MM-DD.
        #[arg(long)]
        to: Option<String>,
        /// Only one unit's visits, for example general.
        #[arg(long)]
        unit: Option<String>,
        /// Count new cases only (the ten most common diagnoses).
        #[arg(long)]
        new_cases: bool,
        /// table, csv, xlsx or json.
        #[arg(long, default_value = "table")]
        format: String,
        /// Write to this file instead of standard output (needed for xlsx).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The clinic's own records for another system.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// The central registry.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// Serve this Puskesmas's store to its workstations on the LAN (`kartika app --server`).
    ServeClinic {
        /// The clinic store, on this PC's own disk.
        #[arg(long)]
        db: PathBuf,
        /// For example 0.0.0.0:7443 (with TLS), or 127.0.0.1:7443.
        #[arg(long)]
        listen: std::net::SocketAddr,
        /// The server's certificate chain (PEM).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// Its private key (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// The node's folder (node.key, node.cert): the Puskesmas's own certificate
        /// authority, vouched for by the node, serves approved workstations only.
        #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
        node: Option<PathBuf>,
    },
    /// The waiting room's screen: each call by number and unit, full screen.
    Display {
        /// This PC's workstation folder (kartika workstation join).
        #[arg(long, required_unless_present = "server")]
        data: Option<PathBuf>,
        /// Or the server's URL.
        #[arg(long)]
        server: Option<String>,
        /// PEM certificates the server's must chain to (with --server).
        #[arg(long, requires = "server")]
        server_ca: Option<PathBuf>,
        /// In English instead of Bahasa Indonesia.
        #[arg(long)]
        english: bool,
    },
    /// The standby PC: copies of the server's store, and taking over from it.
    Standby {
        #[command(subcommand)]
        command: StandbyCommand,
    },
    /// This PC as a workstation of the Puskesmas's server, and the admin's approval.
    Workstation {
        #[command(subcommand)]
        command: WorkstationCommand,
    },
    /// Send this clinic's changes to the registry and apply what it hands on.
    Sync {
        #[arg(long)]
        db: PathBuf,
        /// For example http://127.0.0.1:8700.
        #[arg(long)]
        registry: String,
        /// A file holding the node's access token.
        #[arg(long)]
        token_file: PathBuf,
        /// PEM certificates to trust for an https registry (default: the public roots).
        #[arg(long)]
        ca_file: Option<PathBuf>,
        /// One round, then exit (non-zero if it failed).
        #[arg(long, conflicts_with = "watch", required_unless_present = "watch")]
        once: bool,
        /// Keep syncing, retrying with backoff when the link is down.
        #[arg(long)]
        watch: bool,
    },
}

#[derive(Subcommand)]
enum StandbyCommand {
    /// Copies the server's store to this PC (a joined workstation) every 15 minutes.
    Copy {
        /// This PC's workstation folder (kartika workstation join).
        #[arg(long)]
        data: PathBuf,
        /// Where the copies go.
        #[arg(long)]
        into: PathBuf,
        /// An admin of the Puskesmas.
        #[arg(long = "as")]
        as_user: String,
        /// How many copies to keep.
        #[arg(long, default_value_t = 96)]
        keep: usize,
        /// Seconds between copies.
        #[arg(long, default_value_t = 900)]
        every: u64,
        /// One copy, then exit.
        #[arg(long)]
        once: bool,
    },
    /// Makes a copy the server's store (the server PC is lost): restored, checked, and the
    /// next generation, so workstations refuse the old server if it comes back.
    Promote {
        /// The copy.
        #[arg(long)]
        copy: PathBuf,
        /// The store to serve from now on.
        #[arg(long)]
        db: PathBuf,
        #[arg(long = "as")]
        as_user: String,
    },
}

#[derive(Subcommand)]
enum WorkstationCommand {
    /// Joins this PC to the Puskesmas: checks the server's certificate authority under the
    /// registry root, asks to join, waits for an admin's approval.
    Join {
        /// The server PC's address and port, for example 192.168.1.10:7443 (without it,
        /// the server is asked for on the LAN).
        #[arg(long)]
        server: Option<String>,
        /// The Puskesmas's facility code, whose node must vouch for the server.
        #[arg(long)]
        facility: String,
        /// The registry's root public key (PEM).
        #[arg(long)]
        trust: PathBuf,
        /// This workstation's data folder (then `kartika app --data` on it).
        #[arg(long)]
        data: PathBuf,
        /// What the admin sees it as, for example "Loket 1".
        #[arg(long)]
        name: String,
        /// How long to wait for the approval, in seconds.
        #[arg(long, default_value_t = 600)]
        wait: u64,
    },
    /// Approves a workstation (on the server PC, as an admin).
    Approve {
        #[arg(long)]
        db: PathBuf,
        #[arg(long = "as")]
        as_user: String,
        /// The request's id, as the workstation printed it.
        #[arg(long)]
        id: String,
    },
    /// The workstations and their state.
    List {
        #[arg(long)]
        db: PathBuf,
        #[arg(long = "as")]
        as_user: String,
    },
    /// Revokes a workstation (stolen, replaced): the server refuses it from now on.
    Revoke {
        #[arg(long)]
        db: PathBuf,
        #[arg(long = "as")]
        as_user: String,
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
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

#[derive(Subcommand)]
enum RegistryCommand {
    /// Create the registry's root key: DIR/root.key (mode 0600) and DIR/root.pub.
    Init {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Enroll a node: certify its key and give it an access token (shown once).
    Enroll {
        /// The registry folder holding root.key.
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        postgres: Option<String>,
        /// The facility code.
        #[arg(long)]
        node_id: String,
        /// The node's public key (node.pub).
        #[arg(long)]
        node_pub: PathBuf,
        /// Comma-separated: terminal, issuer.
        #[arg(long)]
        roles: String,
        /// Last day the certificate is valid, YYYY-MM-DD.
        #[arg(long, default_value = "2031-12-31")]
        valid_until: String,
        /// Where to write the node certificate.
        #[arg(long)]
        cert_out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Serve the registry's HTTP API.
    Serve {
        /// For example 127.0.0.1:8700 (plain HTTP only on loopback).
        #[arg(long)]
        listen: std::net::SocketAddr,
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        postgres: Option<String>,
        /// PEM certificate chain: serve HTTPS.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key of the certificate.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// The registry folder holding receipt.key and receipt.cert (made by `registry
        /// init`): sign the clinics' audit heads.
        #[arg(long)]
        receipts: Option<PathBuf>,
    },
    /// Revoke a card as the registry's operator (or, with --lift, lift a revocation): every
    /// clinic applies it at its next sync.
    RevokeCard {
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long)]
        card: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        lift: bool,
    },
    /// Take a node off the network: its token stops working, and the cards it signs from
    /// today are refused at every desk.
    RevokeNode {
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long)]
        node_id: String,
        #[arg(long)]
        reason: String,
    },
    /// Give a node a new access token (shown once); the old one stops working at once.
    RotateToken {
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long)]
        node_id: String,
    },
    /// After checking that a clinic's store was restored from a backup (not rewritten):
    /// forget the audit heads it handed over, so its syncs start a new history of receipts.
    ForgetAuditHeads {
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long)]
        node_id: String,
    },
    /// Who has seen a patient: every answer of the registry that named them.
    AccessLog {
        #[arg(long)]
        db: Option<PathBuf>,
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long)]
        patient: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DbCommand {
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
enum StaffCommand {
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
enum PatientCommand {
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
}

#[derive(Subcommand)]
enum VisitCommand {
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
enum AuditCommand {
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

#[derive(Subcommand)]
enum RootCommand {
    /// Create a root key pair: DIR/root.key (mode 0600) and DIR/root.pub.
    Init {
        #[arg(long)]
        out: PathBuf,
    },
    /// Certify a node: writes DIR/node.cert into the node's folder.
    Certify {
        /// The folder holding root.key.
        #[arg(long)]
        root: PathBuf,
        /// The node's folder (node.id, node.pub).
        #[arg(long)]
        node: PathBuf,
        /// Comma-separated: terminal, issuer.
        #[arg(long)]
        roles: String,
        /// Last day the certificate is valid, YYYY-MM-DD.
        #[arg(long)]
        valid_until: String,
    },
}

#[derive(Subcommand)]
enum NodeCommand {
    /// Create a node key pair: DIR/node.key (mode 0600), DIR/node.pub and DIR/node.id.
    Init {
        /// The node's id, usually the facility code.
        #[arg(long)]
        id: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum VcardCommand {
    /// Create a blank virtual card (life cycle PERSONALIZATION).
    Create {
        #[arg(long)]
        out: PathBuf,
        /// Refuse extended-length APDUs, like many older cards and readers.
        #[arg(long)]
        short_apdu_only: bool,
    },
    /// Insert the card into vpcd reader slot N until stopped (stopping pulls the card).
    Attach {
        #[arg(long)]
        card: PathBuf,
        #[arg(long, default_value_t = 0)]
        slot: u8,
        /// Slow the card to a contact card's link speed, for example 9600 or 115200.
        #[arg(long)]
        baud: Option<u32>,
    },
}

#[derive(Subcommand)]
enum CardCommand {
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

/// When the process started, for the app's first-frame timing.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

fn main() -> ExitCode {
    STARTED.get_or_init(std::time::Instant::now);
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo {
            data,
            fresh,
            patients,
            visits,
        } => app_commands::demo(
            data,
            fresh,
            SeedSize {
                patients,
                visits,
                days: SeedSize::DEMO.days,
            },
        ),
        Command::App {
            data,
            trust,
            registry,
            token_file,
            ca_file,
            server,
            server_ca,
        } => app_commands::app(&app_commands::AppArgs {
            data: &data,
            trust: &trust,
            registry: registry.as_deref(),
            token_file: token_file.as_deref(),
            ca_file: ca_file.as_deref(),
            server: server.as_deref(),
            server_ca: server_ca.as_deref(),
        }),
        Command::Root { command } => match command {
            RootCommand::Init { out } => node_commands::root_init(&out),
            RootCommand::Certify {
                root,
                node,
                roles,
                valid_until,
            } => node_commands::root_certify(&root, &node, &roles, &valid_until),
        },
        Command::Node {
            command: NodeCommand::Init { id, out },
        } => node_commands::node_init(&id, &out),
        Command::Vcard { command } => match command {
            VcardCommand::Create {
                out,
                short_apdu_only,
            } => vcard_commands::create(&out, short_apdu_only),
            VcardCommand::Attach { card, slot, baud } => vcard_commands::attach(&card, slot, baud),
        },
        Command::Readers { json } => card_commands::readers(json),
        Command::Card { command } => match command {
            CardCommand::Issue {
                reader,
                identity,
                pin,
                node,
                root_pub,
            } => card_commands::issue(&reader, &identity, &pin, &node, &root_pub),
            CardCommand::Read {
                reader,
                trust,
                json,
            } => card_commands::read(&reader, &trust, json),
            CardCommand::Wait {
                reader,
                trust,
                json,
            } => card_commands::wait(&reader, &trust, json),
        },
        Command::Db { command } => match command {
            DbCommand::Init {
                db,
                facility_code,
                facility_name,
                region,
                zone,
            } => store_commands::db_init(&db, &facility_code, &facility_name, region, &zone),
            DbCommand::Generate {
                db,
                patients,
                visits,
                days,
                seed,
                until,
                json,
            } => store_commands::db_generate(
                &db,
                &store_commands::generate_options(patients, visits, days, seed, until.as_deref())?,
                json,
            ),
            DbCommand::Backup {
                db,
                into,
                keep,
                out,
            } => store_commands::db_backup(&db, into.as_deref(), keep, out.as_deref()),
            DbCommand::Restore { db, from } => store_commands::db_restore(&db, &from),
            DbCommand::Satusehat {
                db,
                as_user,
                organization,
                locations,
                practitioners,
                patients,
            } => export_commands::satusehat_ids(
                &db,
                &as_user,
                organization.as_deref(),
                &locations,
                &practitioners,
                &patients,
            ),
        },
        Command::Staff {
            command:
                StaffCommand::Add {
                    db,
                    username,
                    display_name,
                    role,
                    as_user,
                    json,
                },
        } => store_commands::staff_add(
            &db,
            &store_commands::StaffToAdd {
                username: &username,
                display_name: &display_name,
                role: &role,
                as_user: as_user.as_deref(),
            },
            json,
        ),
        Command::Patient {
            command:
                PatientCommand::Search {
                    db,
                    as_user,
                    text,
                    birth_date,
                    json,
                },
        } => store_commands::patient_search(&db, &as_user, &text, birth_date, json),
        Command::Visit {
            command:
                VisitCommand::List {
                    db,
                    as_user,
                    date,
                    unit,
                    json,
                },
        } => store_commands::visit_list(&db, &as_user, date.as_deref(), unit.as_deref(), json),
        Command::Audit {
            command: AuditCommand::Verify { db, trust, json },
        } => store_commands::audit_verify(&db, trust.as_deref(), json),
        Command::Report {
            kind,
            db,
            as_user,
            month,
            from,
            to,
            unit,
            new_cases,
            format,
            out,
        } => report_commands::report(&report_commands::ReportArgs {
            kind,
            db: &db,
            as_user: &as_user,
            month: month.as_deref(),
            from: from.as_deref(),
            to: to.as_deref(),
            unit: unit.as_deref(),
            new_cases_only: new_cases,
            format: &format,
            out: out.as_deref(),
        }),
        Command::Export {
            command:
                ExportCommand::Fhir {
                    db,
                    as_user,
                    patient,
                    since,
                    out,
                },
        } => {
            export_commands::export_fhir(&db, &as_user, patient.as_deref(), since.as_deref(), &out)
        }
        Command::ServeClinic {
            db,
            listen,
            tls_cert,
            tls_key,
            node,
        } => {
            let tls = match (&node, tls_cert.as_deref().zip(tls_key.as_deref())) {
                (Some(node), _) => lan_commands::ServerTls::Node(node),
                (None, Some((cert, key))) => lan_commands::ServerTls::Files(cert, key),
                (None, None) => lan_commands::ServerTls::None,
            };
            lan_commands::serve_clinic(&db, listen, tls)
        }
        Command::Display {
            data,
            server,
            server_ca,
            english,
        } => app_commands::display(
            data.as_deref(),
            server.as_deref(),
            server_ca.as_deref(),
            english,
        ),
        Command::Standby { command } => match command {
            StandbyCommand::Copy {
                data,
                into,
                as_user,
                keep,
                every,
                once,
            } => lan_commands::standby_copy(
                &data,
                &into,
                &as_user,
                keep,
                (!once).then(|| std::time::Duration::from_secs(every)),
            ),
            StandbyCommand::Promote { copy, db, as_user } => {
                lan_commands::promote(&copy, &db, &as_user)
            }
        },
        Command::Workstation { command } => match command {
            WorkstationCommand::Join {
                server,
                facility,
                trust,
                data,
                name,
                wait,
            } => lan_commands::join(
                server.as_deref(),
                &facility,
                &trust,
                &data,
                &name,
                std::time::Duration::from_secs(wait),
            ),
            WorkstationCommand::Approve { db, as_user, id } => {
                lan_commands::approve(&db, &as_user, &id)
            }
            WorkstationCommand::List { db, as_user } => lan_commands::list(&db, &as_user),
            WorkstationCommand::Revoke { db, as_user, id } => {
                lan_commands::revoke(&db, &as_user, &id)
            }
        },
        Command::Registry { command } => match command {
            RegistryCommand::Init { dir } => registry_commands::init(&dir),
            RegistryCommand::Enroll {
                dir,
                db,
                postgres,
                node_id,
                node_pub,
                roles,
                valid_until,
                cert_out,
                json,
            } => registry_commands::enroll(&registry_commands::Enrolment {
                dir: &dir,
                storage: registry_commands::Storage::from_args(db, postgres)?,
                node_id: &node_id,
                node_pub: &node_pub,
                roles: &roles,
                valid_until: &valid_until,
                cert_out: &cert_out,
                json,
            }),
            RegistryCommand::Serve {
                listen,
                db,
                postgres,
                tls_cert,
                tls_key,
                receipts,
            } => registry_commands::serve(
                listen,
                &registry_commands::Storage::from_args(db, postgres)?,
                tls_cert.as_deref().zip(tls_key.as_deref()),
                receipts.as_deref(),
            ),
            RegistryCommand::RevokeCard {
                db,
                postgres,
                card,
                reason,
                lift,
            } => registry_commands::revoke_card(
                &registry_commands::Storage::from_args(db, postgres)?,
                &card,
                &reason,
                lift,
            ),
            RegistryCommand::RevokeNode {
                db,
                postgres,
                node_id,
                reason,
            } => registry_commands::revoke_node(
                &registry_commands::Storage::from_args(db, postgres)?,
                &node_id,
                &reason,
            ),
            RegistryCommand::RotateToken {
                db,
                postgres,
                node_id,
            } => registry_commands::rotate_token(
                &registry_commands::Storage::from_args(db, postgres)?,
                &node_id,
            ),
            RegistryCommand::ForgetAuditHeads {
                db,
                postgres,
                node_id,
            } => registry_commands::forget_audit_heads(
                &registry_commands::Storage::from_args(db, postgres)?,
                &node_id,
            ),
            RegistryCommand::AccessLog {
                db,
                postgres,
                patient,
                json,
            } => registry_commands::access_log(
                &registry_commands::Storage::from_args(db, postgres)?,
                &patient,
                json,
            ),
        },
        Command::Sync {
            db,
            registry,
            token_file,
            ca_file,
            once: _,
            watch,
        } => registry_commands::sync(&db, &registry, &token_file, ca_file.as_deref(), watch),
    }
}
