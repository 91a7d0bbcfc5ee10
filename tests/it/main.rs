//! The `kartika` command line, end to end through a real pcscd and vpcd.

mod cli;
