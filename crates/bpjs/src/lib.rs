//! BPJS Kesehatan as Kartika will reach it (issue 32): for now its wire, as BPJS publishes
//! it for P-Care and Antrean FKTP and as working clients (SIMRS Khanza, ssecd/jkn) speak
//! it. Every request is signed with the consumer's secret over its id and the time
//! ([`wire::signature`]); every answer's `response`, when it is a string, is sealed with a
//! key made of the consumer's id, secret and the request's own timestamp and compressed
//! with LZ-String ([`wire::open_response`]). The testkit's BPJS seals with the same code
//! ([`wire::seal_response`]), so both ends are held to BPJS's published examples here.
//!
//! **Invariant:** no I/O; no secret is ever part of an error's words.
#![deny(missing_docs)]

pub mod lz;
pub mod wire;
