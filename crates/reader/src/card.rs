//! A connected card: APDUs in a PC/SC transaction, and recovery from a card reset.

use kartika_card::{CardError, Transport, TransportError};
use pcsc::{Card, Disposition, Protocols, ShareMode, MAX_BUFFER_SIZE_EXTENDED};

use crate::error::transport_error;
use crate::ReaderError;

/// A card connected through PC/SC.
pub struct ReaderCard {
    card: Card,
    reader: String,
}

impl std::fmt::Debug for ReaderCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReaderCard")
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

/// The transport a transaction hands to the card protocol.
struct TransactionTransport<'t, 'c> {
    transaction: &'t pcsc::Transaction<'c>,
    reader: &'t str,
    buffer: Vec<u8>,
}

impl Transport for TransactionTransport<'_, '_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        transmit(self.transaction, self.reader, command, &mut self.buffer)
    }
}

fn transmit(
    card: &Card,
    reader: &str,
    command: &[u8],
    buffer: &mut Vec<u8>,
) -> Result<Vec<u8>, TransportError> {
    buffer.resize(MAX_BUFFER_SIZE_EXTENDED, 0);
    let response = card
        .transmit(command, buffer)
        .map_err(|e| transport_error(e, reader))?;
    // A card that leaves mid-APDU can come back as an empty answer rather than an error.
    if response.len() < 2 {
        return Err(TransportError::CommunicationFailed);
    }
    Ok(response.to_vec())
}

impl ReaderCard {
    pub(crate) fn new(card: Card, reader: &str) -> Self {
        Self {
            card,
            reader: reader.to_owned(),
        }
    }

    /// The reader this card is in.
    pub fn reader(&self) -> &str {
        &self.reader
    }

    /// The card's answer to reset.
    pub fn atr(&self) -> Result<Vec<u8>, ReaderError> {
        let mut names = [0u8; 2048];
        let mut atr = [0u8; pcsc::MAX_ATR_SIZE];
        self.card
            .status2(&mut names, &mut atr)
            .map(|status| status.atr().to_vec())
            .map_err(|e| ReaderError::from_pcsc(e, &self.reader))
    }

    /// Reconnects after another program reset the card.
    pub fn reconnect(&mut self) -> Result<(), ReaderError> {
        self.card
            .reconnect(
                ShareMode::Shared,
                Protocols::T1 | Protocols::T0,
                Disposition::LeaveCard,
            )
            .map_err(|e| ReaderError::from_pcsc(e, &self.reader))
    }

    /// Runs `work` inside a PC/SC transaction, so no other program's APDUs come between
    /// ours. If the card was reset under us, reconnects and runs `work` once more from the
    /// start (the card forgot its session, so `work` must begin with SELECT).
    pub fn with_transaction<R>(
        &mut self,
        mut work: impl FnMut(&mut dyn Transport) -> Result<R, CardError>,
    ) -> Result<R, CardError> {
        let mut reconnected = false;
        loop {
            let outcome = match self.card.transaction() {
                Ok(transaction) => {
                    let mut transport = TransactionTransport {
                        transaction: &transaction,
                        reader: &self.reader,
                        buffer: Vec::new(),
                    };
                    work(&mut transport)
                }
                Err(e) => Err(CardError::Transport(transport_error(e, &self.reader))),
            };
            match outcome {
                Err(CardError::Transport(TransportError::CardReset)) if !reconnected => {
                    reconnected = true;
                    self.reconnect()
                        .map_err(|e| CardError::Transport(e.into()))?;
                }
                other => return other,
            }
        }
    }
}

impl Transport for ReaderCard {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut buffer = Vec::new();
        transmit(&self.card, &self.reader, command, &mut buffer)
    }
}
