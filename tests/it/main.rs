//! The `kartika` command line, end to end: cards through a real pcscd and vpcd, the clinic
//! store through a real SQLite file, the registry as a real process on loopback.

mod boundaries;
mod bpjs_cli;
mod cli;
mod lan_cli;
mod logs;
mod merge_cli;
mod registry_cli;
mod satusehat_cli;
mod store_cli;
mod support;
