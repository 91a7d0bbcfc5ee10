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

/// Starts a `kartika` server (`registry serve`, `serve-clinic`) and waits for its
/// "listening on …" line: the process and the port it names.
pub fn spawn_listening(args: &[&str]) -> (std::process::Child, u16) {
    // Warnings only: a line per request would bury the test run's own output.
    spawn_listening_to(args, std::process::Stdio::inherit(), "warn")
}

/// [`spawn_listening`] with the server's log (standard error) sent to `log`, at `level`.
pub fn spawn_listening_to(
    args: &[&str],
    log: impl Into<std::process::Stdio>,
    level: &str,
) -> (std::process::Child, u16) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_kartika"))
        .args(args)
        .env("KARTIKA_LOG", level)
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("start kartika");
    // Read on a thread, so a server that never says it listens fails the test.
    let stdout = child.stdout.take().expect("stdout");
    let (said, line) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = said.send(line);
    });
    let line = line
        .recv_timeout(std::time::Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("kartika {args:?} says it is listening within 30 s"));
    assert!(line.contains("listening"), "{line}");
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("the listening line names the port");
    (child, port)
}
