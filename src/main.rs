//! `kartika`: the command line of the Kartika patient smart-card system. It wires the
//! library crates together; the rules live in them.

mod card_commands;
mod keys;
mod node_commands;
mod vcard_commands;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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

fn main() -> ExitCode {
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
    }
}
