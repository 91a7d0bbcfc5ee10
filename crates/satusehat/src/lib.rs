//! SATUSEHAT (Kemenkes's FHIR R4 platform): every finished visit delivered once, by itself.
//!
//! The store keeps the queue (`kartika_store::DeliveryState` per visit); this crate holds
//! the link ([`Client`]: a token reused until it nearly ends, IHS numbers found by NIK,
//! transaction Bundles) and the [`Sender`] that drains the queue in the order visits
//! finished, paced, retrying what may pass and keeping what SATUSEHAT refused with its
//! own words. Nothing here runs on the path of a tap or a keystroke.
//!
//! **Invariant:** the client secret and the access token never reach the store, a log, an
//! error message or a screen: [`Secret`] prints as `…`, and errors carry SATUSEHAT's
//! answers and the addresses asked, never a request's body or headers.
#![deny(missing_docs)]

mod answer;
mod client;
mod endpoints;
#[cfg(feature = "fake")]
pub mod fake;
mod secret;
mod sender;

pub use answer::{EntryAnswer, Outcome};
pub use client::{CallError, Client};
pub use endpoints::Environment;
pub use secret::{read_ca, read_secret, save_link_files, Secret, SECRET_FILE};
pub use sender::{retry_delay, serve, this_pc, Drained, Sender, Served, IDLE_LOOK};

/// Why the link to SATUSEHAT cannot be used, in words an admin can act on.
#[derive(Debug, thiserror::Error)]
pub enum SatusehatError {
    /// Not set up yet.
    #[error("SATUSEHAT is not set up for this Puskesmas: run kartika satusehat setup (or Ruang admin › Sinkronisasi)")]
    NotSetUp,
    /// The secret file is missing or unreadable.
    #[error("cannot read the SATUSEHAT client secret {path}: {reason}; run kartika satusehat setup again")]
    Secret {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The CA file is not usable.
    #[error("the SATUSEHAT CA file is not usable: {0}")]
    Ca(String),
    /// Another process sends this store's visits.
    #[error(
        "another sender (on {0}) is sending this store's visits to SATUSEHAT; one sender per store"
    )]
    AnotherSender(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] kartika_store::StoreError),
    /// A file could not be written.
    #[error("cannot write {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}
