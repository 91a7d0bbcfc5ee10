//! The registry over HTTP on loopback: pushes, pulls, tokens, bad input and the FHIR views,
//! against each storage backend.

mod api;
mod fhir;
mod storage;
mod support;
mod transport;
mod trust;
