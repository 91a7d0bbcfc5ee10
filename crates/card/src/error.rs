//! The errors of the card library: one for the card conversation, one for invalid data.

use crate::{StatusError, TransportError};

/// Why a conversation with a card failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// The bytes did not reach the card and come back.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The card answered with a status word other than `9000`.
    #[error("{status} (while {operation})")]
    Status {
        /// What the host was doing, for example "reading the identity".
        operation: &'static str,
        /// What the card said.
        status: StatusError,
    },
    /// The card's answer does not follow the contract: a hostile, damaged or foreign card.
    #[error("the card gave a malformed answer while {operation}: {problem}; it may be damaged or not a Kartika card")]
    Malformed {
        /// What the host was doing.
        operation: &'static str,
        /// What was wrong with the answer.
        problem: String,
    },
    /// The card's personalization never finished (life cycle PERSONALIZATION).
    #[error("this card was never activated (its issuance did not finish); issue it again")]
    NotActivated,
    /// The card has been terminated for good.
    #[error(
        "this card has been terminated and can no longer be used; issue the patient a new card"
    )]
    Terminated,
    /// The card is already issued, so it cannot be personalized.
    #[error("this card has already been issued; use a blank card")]
    AlreadyIssued,
    /// Data to be written to the card, or read from it, is invalid.
    #[error(transparent)]
    Data(#[from] DataError),
}

/// Why a piece of data is not valid under the card contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// A mandatory field is missing.
    #[error("{field} is missing")]
    Missing {
        /// The field, in words.
        field: &'static str,
    },
    /// A field is present but wrong.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field, in words.
        field: &'static str,
        /// What is wrong and, where it helps, how to fix it.
        reason: String,
    },
    /// A field appears twice in one template.
    #[error("{field} appears twice")]
    Duplicate {
        /// The field, in words.
        field: &'static str,
    },
    /// The bytes are not well-formed BER-TLV, or not the expected template.
    #[error("{what} is not well-formed: {reason}")]
    Encoding {
        /// Which data object.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl DataError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn encoding(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Encoding {
            what,
            reason: reason.into(),
        }
    }
}
