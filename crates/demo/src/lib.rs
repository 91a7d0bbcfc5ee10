//! The demo world of Kartika, so anyone can try the desk without a registry, a card
//! printer or a plastic card: a registry root, a seeded Puskesmas (Pamulang) with a few
//! thousand patients and their history, one account per role, a registry served
//! in-process on loopback, and a tray of software cards (genuine ones, a blocked one, a
//! copy, an expired one and blank ones) to tap.
//!
//! The world lives in one folder: made once, reused on the next start, remade on request.
//! `demo.json` is written last, so a folder without it is an interrupted set-up and is
//! made again.
#![deny(missing_docs)]

mod bpjs;
mod cards;
mod registry;
mod satusehat;
mod world;

pub use bpjs::start_bpjs;
pub use registry::InProcessRegistry;
pub use satusehat::start_satusehat;
pub use world::{
    DemoAccount, DemoWorld, SeedSize, TrayCard, TrayCardKind, FACILITY_CODE, OTHER_FACILITY_CODE,
};

/// Why the demo world could not be made or started.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A file of the demo folder could not be read or written.
    // The reason is said in the message, so it is not also a `source` (said once).
    #[error("the demo folder {path} cannot be used: {reason}; choose another with --data")]
    Folder {
        /// The file or folder.
        path: std::path::PathBuf,
        /// The operating system's reason.
        reason: std::io::Error,
    },
    /// `demo.json` is damaged.
    #[error("the demo folder's demo.json is damaged ({0}); start over with --fresh")]
    Manifest(String),
    /// The clinic store refused a step of the seeding.
    #[error("seeding the demo Puskesmas failed: {0}")]
    Store(kartika_store::StoreError),
    /// The registry could not be opened or served.
    #[error("the demo registry could not start: {0}")]
    Registry(String),
    /// The demo's SATUSEHAT could not start.
    #[error("the demo's SATUSEHAT could not start: {0}")]
    Satusehat(String),
    /// The demo's BPJS could not start.
    #[error("the demo's BPJS could not start: {0}")]
    Bpjs(String),
    /// A software card could not be made.
    #[error("a demo card could not be made: {0}")]
    Card(String),
}

impl From<kartika_store::StoreError> for DemoError {
    fn from(error: kartika_store::StoreError) -> Self {
        Self::Store(error)
    }
}

impl DemoError {
    fn folder(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |reason| Self::Folder {
            path: path.to_owned(),
            reason,
        }
    }
}
