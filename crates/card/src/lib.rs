//! The Kartika card application, host side (see `docs/card-application.md`).
//!
//! This crate is the contract between a patient card and every program that talks to it:
//! the data model with validation at construction, BER-TLV encoding, APDUs with short and
//! extended length, status words, the signatures of the trust chain, and a [`CardSession`]
//! that runs the card's commands over any [`Transport`].
//!
//! **Architecture invariant:** this crate does no I/O. It never touches PC/SC, files, the
//! network or the clock of the operating system: callers hand in the transport, today's
//! date and the random challenge. That keeps it pure and exhaustively testable with data.
#![deny(missing_docs)]

pub mod apdu;
pub mod checks;
pub mod crypto;
mod error;
pub mod model;
pub mod presence;
mod session;
mod status;
pub mod tlv;
mod transport;
pub mod verify;

pub use error::{CardError, DataError};
pub use session::{CardSession, IssueRequest, IssueStep, PinStatus, TrafficCounters};
pub use status::{StatusError, StatusWord};
pub use transport::{Transport, TransportError};

/// The application identifier: proprietary range F, "KARTIKA", version 01.
pub const AID: [u8; 9] = [0xF0, 0x4B, 0x41, 0x52, 0x54, 0x49, 0x4B, 0x41, 0x01];

/// The answer to reset every Kartika card gives (T=0 and T=1, historical bytes "KARTIKA" 01).
pub const ATR: [u8; 13] = [
    0x3B, 0x88, 0x80, 0x01, 0x4B, 0x41, 0x52, 0x54, 0x49, 0x4B, 0x41, 0x01, 0x47,
];

/// The version of the card application this crate implements (FCI tag DF40).
pub const SPEC_VERSION: u8 = 0x01;
