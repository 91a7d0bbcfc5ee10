//! The command groups: each module holds its commands' arguments beside their handlers.

pub mod app;
pub mod bpjs;
pub mod card;
pub mod export;
pub mod lan;
pub mod merge;
pub mod node;
pub mod registry;
pub mod report;
pub mod satusehat;
pub mod service;
pub mod store;
pub mod vcard;
