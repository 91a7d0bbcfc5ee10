//! A PC/SC context for one thread: list readers, wait for a card, connect.

use std::ffi::CString;
use std::time::Duration;

use pcsc::{Context, Protocols, ReaderState, Scope, ShareMode, State};

use crate::{ReaderCard, ReaderError};

/// One reader and whether a card is in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReaderInfo {
    /// The reader's name, as PC/SC gives it.
    pub name: String,
    /// Whether a card is present.
    pub card_present: bool,
}

/// A PC/SC context. Use one per thread.
pub struct ReaderContext {
    context: Context,
}

impl std::fmt::Debug for ReaderContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReaderContext")
    }
}

fn reader_name(name: &str) -> Result<CString, ReaderError> {
    CString::new(name).map_err(|_| ReaderError::ReaderNotFound(name.replace('\0', "")))
}

impl ReaderContext {
    /// Connects to pcscd (winscard on Windows).
    pub fn establish() -> Result<Self, ReaderError> {
        Context::establish(Scope::User)
            .map(|context| Self { context })
            .map_err(|e| ReaderError::from_pcsc(e, ""))
    }

    /// The readers attached now, with card presence.
    pub fn list_readers(&self) -> Result<Vec<ReaderInfo>, ReaderError> {
        let names = match self.context.list_readers_owned() {
            Ok(names) => names,
            Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
            Err(e) => return Err(ReaderError::from_pcsc(e, "")),
        };
        let mut states: Vec<ReaderState> = names
            .iter()
            .map(|name| ReaderState::new(name.clone(), State::UNAWARE))
            .collect();
        if !states.is_empty() {
            self.context
                .get_status_change(Duration::ZERO, &mut states)
                .map_err(|e| ReaderError::from_pcsc(e, ""))?;
        }
        Ok(states
            .iter()
            .map(|s| ReaderInfo {
                name: s.name().to_string_lossy().into_owned(),
                card_present: s.event_state().contains(State::PRESENT)
                    && !s.event_state().contains(State::MUTE),
            })
            .collect())
    }

    /// Blocks until a card is present in `reader` (at once if one already is), or until
    /// `timeout` passes.
    pub fn wait_for_card(
        &self,
        reader: &str,
        timeout: Option<Duration>,
    ) -> Result<(), ReaderError> {
        self.wait_for(reader, timeout, true)
    }

    /// Blocks until `reader` is empty, or until `timeout` passes.
    pub fn wait_for_removal(
        &self,
        reader: &str,
        timeout: Option<Duration>,
    ) -> Result<(), ReaderError> {
        self.wait_for(reader, timeout, false)
    }

    fn wait_for(
        &self,
        reader: &str,
        timeout: Option<Duration>,
        present: bool,
    ) -> Result<(), ReaderError> {
        let mut states = [ReaderState::new(reader_name(reader)?, State::UNAWARE)];
        loop {
            match self.context.get_status_change(timeout, &mut states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => {
                    return Err(if present {
                        ReaderError::NoCard(reader.into())
                    } else {
                        ReaderError::Pcsc(format!("the card stayed in reader \"{reader}\""))
                    })
                }
                Err(e) => return Err(ReaderError::from_pcsc(e, reader)),
            }
            let state = states[0].event_state();
            if state.contains(State::UNKNOWN) {
                return Err(ReaderError::ReaderNotFound(reader.into()));
            }
            if state.contains(State::PRESENT) == present {
                return Ok(());
            }
            states[0].sync_current_state();
        }
    }

    /// Connects to the card in `reader`, T=1 or T=0, shared with other programs.
    pub fn connect(&self, reader: &str) -> Result<ReaderCard, ReaderError> {
        let name = reader_name(reader)?;
        let card = self
            .context
            .connect(&name, ShareMode::Shared, Protocols::T1 | Protocols::T0)
            .map_err(|e| ReaderError::from_pcsc(e, reader))?;
        Ok(ReaderCard::new(card, reader))
    }
}
