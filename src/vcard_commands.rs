//! `kartika vcard …`: software cards for tests and demos.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
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
