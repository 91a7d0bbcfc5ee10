//! What can go wrong with readers, in words a desk clerk can act on.

use kartika_card::TransportError;

/// Why a reader operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReaderError {
    /// pcscd is not running or not reachable.
    #[error("the smart-card service (pcscd) is not running; start it (pcscd, or systemctl start pcscd), then try again")]
    ServiceUnavailable,
    /// No reader by that name.
    #[error("the card reader \"{0}\" is not connected; check its cable and its name (`kartika readers` lists them)")]
    ReaderNotFound(String),
    /// The reader is empty.
    #[error("there is no card in reader \"{0}\"; tap or insert the card")]
    NoCard(String),
    /// A card is there but does not answer.
    #[error(
        "the card in reader \"{0}\" does not answer; check that it is inserted the right way round"
    )]
    Unresponsive(String),
    /// The card left during the operation.
    #[error("the card was removed from reader \"{0}\" too early; tap it again and hold it still")]
    CardRemoved(String),
    /// Waiting was cancelled (the program is shutting down).
    #[error("waiting for the card reader was cancelled")]
    Cancelled,
    /// Anything else PC/SC reports.
    #[error("the card reader failed: {0}")]
    Pcsc(String),
}

impl ReaderError {
    /// Translates a PC/SC error for the named reader.
    pub(crate) fn from_pcsc(error: pcsc::Error, reader: &str) -> Self {
        use pcsc::Error as E;
        match error {
            E::NoService | E::ServiceStopped => Self::ServiceUnavailable,
            E::UnknownReader | E::ReaderUnavailable | E::NoReadersAvailable => {
                Self::ReaderNotFound(reader.into())
            }
            E::NoSmartcard => Self::NoCard(reader.into()),
            E::RemovedCard => Self::CardRemoved(reader.into()),
            E::UnpoweredCard | E::UnresponsiveCard | E::UnsupportedCard => {
                Self::Unresponsive(reader.into())
            }
            E::Cancelled => Self::Cancelled,
            other => Self::Pcsc(other.to_string()),
        }
    }
}

/// What a failed transmit means to the card protocol.
pub(crate) fn transport_error(error: pcsc::Error, reader: &str) -> TransportError {
    use pcsc::Error as E;
    match error {
        E::RemovedCard | E::NoSmartcard => TransportError::CardRemoved,
        E::ResetCard => TransportError::CardReset,
        E::UnpoweredCard | E::UnresponsiveCard => TransportError::Unresponsive,
        E::NoService | E::ServiceStopped => TransportError::ServiceUnavailable,
        E::UnknownReader | E::ReaderUnavailable => TransportError::ReaderNotFound(reader.into()),
        E::NotTransacted | E::CommError => TransportError::CommunicationFailed,
        other => TransportError::Reader(other.to_string()),
    }
}

impl From<ReaderError> for TransportError {
    fn from(error: ReaderError) -> Self {
        match error {
            ReaderError::ServiceUnavailable => Self::ServiceUnavailable,
            ReaderError::ReaderNotFound(name) => Self::ReaderNotFound(name),
            ReaderError::NoCard(_) => Self::NoCard,
            ReaderError::Unresponsive(_) => Self::Unresponsive,
            ReaderError::CardRemoved(_) => Self::CardRemoved,
            other => Self::Reader(other.to_string()),
        }
    }
}
