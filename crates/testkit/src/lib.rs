//! Test support shared by the Kartika crates: a small PKI, sample patients, issued virtual
//! cards, the real PC/SC stack (pcscd with vpcd), one test at a time, and a registry on a
//! loopback port.
#![allow(missing_docs)]

/// The fake BPJS (it lives with the BPJS crate, so the demo can run it too).
pub mod bpjs {
    pub use kartika_bpjs::fake::*;
}
pub mod clinic;
pub mod fhir;
pub mod fixtures;
pub mod lan;
#[cfg(unix)]
pub mod pcsc;
pub mod postgres;
pub mod proxy;
pub mod registry;
/// The fake SATUSEHAT (it lives with the SATUSEHAT crate, so the demo can run it too).
pub mod satusehat {
    pub use kartika_satusehat::fake::*;
}
pub mod served;
