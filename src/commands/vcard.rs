//! `kartika vcard …`: software cards for tests and demos.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Subcommand;
use kartika_vcard::vpcd::VpcdLink;
use kartika_vcard::{CardOptions, LinkModel, VcardError, VirtualCard};

pub fn create(out: &Path, short_apdu_only: bool) -> Result<ExitCode> {
    VirtualCard::create(out, CardOptions { short_apdu_only })?;
    println!("blank card written to {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// Keeps the card in the reader until the process is stopped; if vpcd goes away (pcscd
/// restarted), waits for it and inserts the card again.
pub fn attach(card_path: &Path, slot: u8, baud: Option<u32>) -> Result<ExitCode> {
    let mut card = VirtualCard::open(card_path)?;
    let link = baud.map(|baud| LinkModel { baud });
    let mut said_waiting = false;
    loop {
        let mut connection = match VpcdLink::connect(slot) {
            Ok(connection) => connection,
            Err(error @ VcardError::Connect { .. }) => {
                if !said_waiting {
                    eprintln!("{error}; waiting for it");
                    said_waiting = true;
                }
                // vpcd offers no event for "listening now"; poll gently.
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        said_waiting = false;
        eprintln!("card {} inserted in vpcd slot {slot}", card_path.display());
        connection.serve(&mut card, link, None)?;
        eprintln!("the reader closed the connection (pcscd stopped?); inserting the card again");
    }
}

#[derive(Subcommand)]
pub enum VcardCommand {
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

pub fn run(command: VcardCommand) -> Result<ExitCode> {
    match command {
        VcardCommand::Create {
            out,
            short_apdu_only,
        } => create(&out, short_apdu_only),
        VcardCommand::Attach { card, slot, baud } => attach(&card, slot, baud),
    }
}
