//! The `kartika` command line, end to end: cards through a real pcscd and vpcd, the clinic
//! store through a real SQLite file.

mod cli;
mod store_cli;
