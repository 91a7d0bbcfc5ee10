//! The one seam between the card protocol and whatever carries its bytes.

/// Carries command APDUs to a card and brings back its response APDUs.
///
/// PC/SC readers implement it in `kartika-reader`, the software card in `kartika-vcard`;
/// the protocol in this crate never knows which one it talks to.
pub trait Transport {
    /// Sends one command APDU and returns the whole response APDU (data, then SW1 SW2).
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError>;
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(command)
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(command)
    }
}

/// Why the bytes did not get to the card and back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The card left the reader in the middle of an exchange.
    #[error("the card was removed before it could be read; tap it again and hold it still")]
    CardRemoved,
    /// Another program reset the card, so its session state is gone.
    #[error("the card was reset by another program; tap it again")]
    CardReset,
    /// There is no card in the reader.
    #[error("there is no card in the reader; tap or insert the card")]
    NoCard,
    /// The card is in the reader but does not answer.
    #[error(
        "the card does not answer; check that it is inserted the right way round, then try again"
    )]
    Unresponsive,
    /// The exchange broke off halfway; the card may have moved.
    #[error("communication with the card broke off; tap it again and hold it still")]
    CommunicationFailed,
    /// The named reader is not connected.
    #[error("the card reader \"{0}\" is not connected; check its cable")]
    ReaderNotFound(String),
    /// The smart-card service is not running.
    #[error("the smart-card service (pcscd) is not running; start it, then try again")]
    ServiceUnavailable,
    /// Any other reader failure, with the reader's own words.
    #[error("the card reader failed: {0}")]
    Reader(String),
}
