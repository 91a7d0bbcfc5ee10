//! A software Kartika card: the whole card contract (`docs/card-application.md`) with its
//! state in a file, usable in-process as a [`Transport`] or inserted into a real PC/SC
//! reader through vsmartcard's vpcd driver ([`vpcd`]).
//!
//! It does nothing a Java Card applet could not: its persistent state is a handful of data
//! objects, a P-256 key, a PIN and its counter (well under 16 KB), every write is atomic,
//! and its crypto is what the contract names. The host library's internals stay out of it;
//! it shares only the contract's data formats with `kartika-card`.
#![deny(missing_docs)]

mod applet;
mod link;
mod state;
pub mod vpcd;

use std::path::{Path, PathBuf};

pub use applet::VirtualCard;
pub use link::LinkModel;
pub use state::MAX_STATE_BYTES;

use kartika_card::{Transport, TransportError};

/// Why the software card could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum VcardError {
    /// The card file could not be read.
    #[error("cannot read the card file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The card file could not be written.
    #[error("cannot write the card file {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The card file is not a card this program wrote.
    #[error("the card file {path} is damaged or not a Kartika virtual card: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `create` would overwrite a card.
    #[error("the card file {0} already exists; choose another name or delete it first")]
    Exists(PathBuf),
    /// vpcd does not listen where it should.
    #[error("cannot reach the virtual reader at {addr}: {source}; is pcscd running with vsmartcard-vpcd installed?")]
    Connect {
        /// The address tried.
        addr: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The connection to vpcd broke.
    #[error("the connection to the virtual reader broke: {0}")]
    Link(std::io::Error),
}

/// Options fixed when a card is made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CardOptions {
    /// Refuse extended-length APDUs, so hosts must use chaining and GET RESPONSE.
    pub short_apdu_only: bool,
}

impl VirtualCard {
    /// Makes a blank card (life cycle PERSONALIZATION) in a new file.
    pub fn create(path: &Path, options: CardOptions) -> Result<Self, VcardError> {
        if path.exists() {
            return Err(VcardError::Exists(path.to_owned()));
        }
        let card = Self::from_state(path, state::CardState::blank(options));
        card.save_initial()?;
        Ok(card)
    }
}

impl Transport for VirtualCard {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        Ok(self.process(command))
    }
}
