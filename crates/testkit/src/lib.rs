//! Test support shared by the Kartika crates: a small PKI, sample patients, issued virtual
//! cards, and the real PC/SC stack (pcscd with vpcd), one test at a time.
#![allow(missing_docs)]

pub mod fixtures;
pub mod pcsc;
