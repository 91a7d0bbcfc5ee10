//! The card's persistent memory and the file that holds it: written whole, atomically
//! (temporary file, fsync, rename, fsync of the folder), so a card pulled or a machine
//! switched off mid-write keeps the old state or the new one, never a mixture.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use kartika_card::model::LifeCycle;
use p256::ecdsa::SigningKey;
use serde::{Deserialize, Serialize};

use crate::{CardOptions, VcardError};

/// The EEPROM budget of the card: what a modest Java Card offers an applet.
pub const MAX_STATE_BYTES: usize = 16 * 1024;
/// The PIN tries a fresh or reset PIN gets.
pub(crate) const PIN_TRIES: u8 = 3;
const FILE_FORMAT: u32 = 1;

/// Everything the card remembers across power cycles.
#[derive(Clone)]
pub(crate) struct CardState {
    pub options: CardOptions,
    pub life_cycle: LifeCycle,
    /// FF20, FF21, FF22 and DF70, each its whole TLV.
    pub objects: BTreeMap<u16, Vec<u8>>,
    pub card_key: Option<SigningKey>,
    pub pin: Option<Vec<u8>>,
    pub pin_tries_left: u8,
    /// FF31 records, newest first.
    pub visit_log: Vec<Vec<u8>>,
}

impl CardState {
    pub fn blank(options: CardOptions) -> Self {
        Self {
            options,
            life_cycle: LifeCycle::Personalization,
            objects: BTreeMap::new(),
            card_key: None,
            pin: None,
            pin_tries_left: PIN_TRIES,
            visit_log: Vec::new(),
        }
    }

    /// Bytes of card memory in use, counted as an applet would store them.
    pub fn memory_used(&self) -> usize {
        let objects: usize = self.objects.values().map(Vec::len).sum();
        let visits: usize = self.visit_log.iter().map(Vec::len).sum();
        // key scalar, PIN buffer, counter, life cycle, options
        objects + visits + 32 + 8 + 3
    }
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    format: u32,
    short_apdu_only: bool,
    life_cycle: u8,
    objects: BTreeMap<String, String>,
    card_key: Option<String>,
    pin: Option<String>,
    pin_tries_left: u8,
    visit_log: Vec<String>,
}

impl StateFile {
    fn from_state(state: &CardState) -> Self {
        Self {
            format: FILE_FORMAT,
            short_apdu_only: state.options.short_apdu_only,
            life_cycle: state.life_cycle.code(),
            objects: state
                .objects
                .iter()
                .map(|(tag, tlv)| (format!("{tag:04X}"), hex::encode_upper(tlv)))
                .collect(),
            card_key: state.card_key.as_ref().map(|k| hex::encode(k.to_bytes())),
            pin: state.pin.as_ref().map(hex::encode),
            pin_tries_left: state.pin_tries_left,
            visit_log: state.visit_log.iter().map(hex::encode_upper).collect(),
        }
    }

    fn into_state(self) -> Result<CardState, String> {
        if self.format != FILE_FORMAT {
            return Err(format!("file format {} is not {FILE_FORMAT}", self.format));
        }
        let unhex = |text: &str| hex::decode(text).map_err(|e| e.to_string());
        let objects = self
            .objects
            .iter()
            .map(|(tag, tlv)| {
                let tag = u16::from_str_radix(tag, 16).map_err(|e| e.to_string())?;
                Ok((tag, unhex(tlv)?))
            })
            .collect::<Result<_, String>>()?;
        let card_key = match &self.card_key {
            Some(text) => Some(SigningKey::from_slice(&unhex(text)?).map_err(|e| e.to_string())?),
            None => None,
        };
        Ok(CardState {
            options: CardOptions {
                short_apdu_only: self.short_apdu_only,
            },
            life_cycle: LifeCycle::from_code(self.life_cycle)
                .ok_or_else(|| format!("unknown life cycle {}", self.life_cycle))?,
            objects,
            card_key,
            pin: self.pin.as_deref().map(unhex).transpose()?,
            pin_tries_left: self.pin_tries_left.min(PIN_TRIES),
            visit_log: self
                .visit_log
                .iter()
                .map(|r| unhex(r))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// The file behind one card.
#[derive(Clone, Debug)]
pub(crate) struct CardFile {
    path: PathBuf,
}

impl CardFile {
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn load(&self) -> Result<CardState, VcardError> {
        let bytes = fs::read(&self.path).map_err(|source| VcardError::Read {
            path: self.path.clone(),
            source,
        })?;
        let corrupt = |reason: String| VcardError::Corrupt {
            path: self.path.clone(),
            reason,
        };
        let file: StateFile = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        file.into_state().map_err(corrupt)
    }

    /// Replaces the file's content with `state`, atomically and durably.
    pub fn save(&self, state: &CardState) -> Result<(), VcardError> {
        let write_error = |source| VcardError::Write {
            path: self.path.clone(),
            source,
        };
        let json = serde_json::to_vec_pretty(&StateFile::from_state(state))
            .map_err(|e| write_error(std::io::Error::other(e)))?;
        kartika_durable::replace(&self.path, &json, kartika_durable::Readers::Anyone)
            .map_err(write_error)
    }
}
