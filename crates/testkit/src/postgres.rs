//! A PostgreSQL server of the test's own: initdb into a temporary folder, pg_ctl on a
//! private loopback port, stopped when dropped. initdb and pg_ctl refuse root, so as root
//! they run as the `postgres` user.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running server; `url()` names a fresh database on it.
pub struct TestPostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

fn server_binaries() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .filter(|bin| bin.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL server binaries (initdb, pg_ctl) are not installed under /usr/lib/postgresql; \
             run scripts/setup.sh, or apt-get install postgresql"
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a server program, as `postgres` when this process is root.
fn run(program: &Path, args: &[&str]) {
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    let output = command
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(
        output.status.success(),
        "{} {args:?} failed: {}{}",
        program.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl TestPostgres {
    /// initdb and start; panics with how to install PostgreSQL when it is missing.
    pub fn start() -> Self {
        let bin = server_binaries();
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data dir");
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(
                status.success(),
                "cannot give the data folder to the postgres user"
            );
        }
        let data_text = data.to_str().expect("UTF-8 path");
        run(
            &bin.join("initdb"),
            &[
                "-D",
                data_text,
                "-U",
                "kartika",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        let port = free_port();
        let options = format!(
            "-p {port} -k {data_text} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=50"
        );
        let log = data.join("server.log");
        run(
            &bin.join("pg_ctl"),
            &[
                "-D",
                data_text,
                "-o",
                &options,
                "-l",
                log.to_str().expect("UTF-8"),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        Self {
            bin,
            data,
            port,
            _dir: dir,
        }
    }

    /// A new, empty database on the server, as a connection URL.
    pub fn new_database(&self, name: &str) -> String {
        let admin = format!("postgresql://kartika@127.0.0.1:{}/postgres", self.port);
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("connect");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        format!("postgresql://kartika@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let data = self.data.to_string_lossy().into_owned();
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"));
            c
        } else {
            Command::new(self.bin.join("pg_ctl"))
        };
        let _ = command
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
    }
}
