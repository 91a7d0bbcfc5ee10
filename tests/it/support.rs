//! Running the `kartika` binary.

use std::path::Path;
use std::process::{Command, Output};

pub fn kartika(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kartika"))
        .args(args)
        .output()
        .expect("run kartika")
}

/// Runs kartika and returns its output, failing the test with its error if it failed.
pub fn ok(args: &[&str]) -> String {
    let output = kartika(args);
    assert!(
        output.status.success(),
        "kartika {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}
