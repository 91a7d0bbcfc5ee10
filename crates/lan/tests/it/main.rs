//! The clinic server on loopback, driven by its real client.

mod concurrency;
mod discovery;
mod refusals;
mod retries;
mod support;
mod tapped_cards;
mod workstations;
