//! The registry over HTTP on loopback: pushes, pulls, tokens and bad input, against each
//! storage backend.

mod api;
mod support;
