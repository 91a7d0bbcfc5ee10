//! `kartika registry init / enroll / serve` and `kartika sync`, with the registry as a real
//! process that is killed mid-sync and restarted.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use kartika_card::model::Sex;
use kartika_store::{
    Care, FacilityProfile, NewPatient, NewStaff, NewVisit, Payer, Role, Store, TimeZone,
};
use kartika_sync::{SyncConfig, Syncer};

use crate::support::{kartika, ok, path};

pub(crate) struct Registry {
    dir: tempfile::TempDir,
    /// `--db FILE` or `--postgres URL`.
    storage: [String; 2],
    port: u16,
    process: Option<Child>,
}

impl Registry {
    /// `registry init`, a node key, `registry enroll`: returns the registry and the token file.
    pub(crate) fn enrolled(node_id: &str) -> (Self, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("registry.sqlite");
        let storage = ["--db".to_owned(), path(&db).to_owned()];
        Self::enrolled_on(dir, storage, node_id)
    }

    /// The same on a PostgreSQL database.
    fn enrolled_on_postgres(url: &str, node_id: &str) -> (Self, PathBuf) {
        let storage = ["--postgres".to_owned(), url.to_owned()];
        Self::enrolled_on(tempfile::tempdir().unwrap(), storage, node_id)
    }

    fn enrolled_on(dir: tempfile::TempDir, storage: [String; 2], node_id: &str) -> (Self, PathBuf) {
        let root = dir.path().join("root");
        let node = dir.path().join("node");
        ok(&["registry", "init", "--dir", path(&root)]);
        ok(&["node", "init", "--id", node_id, "--out", path(&node)]);
        let cert = node.join("node.cert");
        let node_pub = node.join("node.pub");
        let enroll = |roles: &str| {
            kartika(&[
                "registry",
                "enroll",
                "--dir",
                path(&root),
                &storage[0],
                &storage[1],
                "--node-id",
                node_id,
                "--node-pub",
                path(&node_pub),
                "--roles",
                roles,
                "--cert-out",
                path(&cert),
                "--json",
            ])
        };
        let first = enroll("terminal,issuer");
        assert!(
            first.status.success(),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        let out = String::from_utf8_lossy(&first.stdout).into_owned();
        let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
        let token_file = dir.path().join("token");
        std::fs::write(&token_file, answer["token"].as_str().unwrap()).unwrap();
        assert!(
            std::fs::metadata(&cert).unwrap().len() > 64,
            "the node certificate is written"
        );
        let again = enroll("terminal");
        assert!(String::from_utf8_lossy(&again.stderr).contains("enrolled already"));
        (
            Self {
                dir,
                storage,
                port: 0,
                process: None,
            },
            token_file,
        )
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts `registry serve` and waits for its "listening" line.
    fn start(&mut self) {
        self.start_with(&[]);
    }

    /// The first start binds a port the system picks (`:0`) and reads it from the
    /// "listening" line; a restart binds that same port again, as a restarted server does.
    /// Starts `registry serve` with its log written to `log` at `level`.
    pub(crate) fn start_logging_to(&mut self, log: std::fs::File, level: &str) {
        self.spawn(&[], log.into(), level);
    }

    fn start_with(&mut self, extra: &[&str]) {
        self.spawn(extra, std::process::Stdio::inherit(), "warn");
    }

    fn spawn(&mut self, extra: &[&str], log: std::process::Stdio, level: &str) {
        let listen = format!("127.0.0.1:{}", self.port);
        let mut args = vec![
            "registry",
            "serve",
            "--listen",
            &listen,
            &self.storage[0],
            &self.storage[1],
        ];
        args.extend_from_slice(extra);
        let (child, port) = crate::support::spawn_listening_to(&args, log, level);
        self.port = port;
        self.process = Some(child);
    }

    /// SIGKILL: no shutdown, no flush.
    fn kill(&mut self) {
        if let Some(mut child) = self.process.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.kill();
    }
}

fn clinic_with_visits(dir: &Path, patients: u32) -> PathBuf {
    let path = dir.join("clinic.sqlite");
    let profile = FacilityProfile {
        code: "P3674060".into(),
        name: "Puskesmas Pamulang".into(),
        region_code: None,
        zone: TimeZone::Wib,
    };
    let mut store = Store::create(&path, &profile).unwrap();
    store
        .add_first_admin(&NewStaff {
            username: "admin".into(),
            display_name: "Admin".into(),
            role: Role::Admin,
            password: "sandi-admin-1".into(),
        })
        .unwrap();
    let admin = store.login("admin", "sandi-admin-1").unwrap();
    for n in 0..patients {
        let number = store
            .create_patient(
                &admin,
                &NewPatient {
                    name: format!("Pasien {}", char::from(b'a' + (n % 26) as u8)),
                    birth_date: format!("19{:02}-01-01", 30 + n % 60),
                    sex: Some(Sex::Male),
                    ..NewPatient::default()
                },
            )
            .unwrap()
            .patient
            .patient_number;
        for unit in ["general", "dental", "elderly"] {
            store
                .register_visit(
                    &admin,
                    &NewVisit {
                        patient_number: number.clone(),
                        unit_code: unit.into(),
                        payer: Payer::BpjsPbi,
                        care: Care::Sick,
                        complaint: None,
                    },
                )
                .unwrap();
        }
    }
    path
}

#[test]
fn a_registry_killed_mid_sync_and_restarted_still_gets_every_visit_once() {
    let (registry, token_file) = Registry::enrolled("P3674060");
    let file = registry.dir.path().join("registry.sqlite");
    killed_mid_sync(registry, &token_file, &|| {
        rusqlite::Connection::open(&file)
            .unwrap()
            .query_row(VISITS_STORED, [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
    });
}

#[test]
fn the_same_on_postgresql() {
    let server = kartika_testkit::postgres::TestPostgres::start();
    let url = server.new_database("registry_killed");
    let (registry, token_file) = Registry::enrolled_on_postgres(&url, "P3674060");
    killed_mid_sync(registry, &token_file, &|| {
        let row = postgres::Client::connect(&url, postgres::NoTls)
            .unwrap()
            .query_one(VISITS_STORED, &[])
            .unwrap();
        (row.get(0), row.get(1))
    });
}

/// Visit changes stored, and distinct visits among them.
const VISITS_STORED: &str =
    "SELECT count(*), count(DISTINCT record_id) FROM change WHERE kind = 'visit'";

fn killed_mid_sync(mut registry: Registry, token_file: &Path, stored: &dyn Fn() -> (i64, i64)) {
    let clinic_dir = tempfile::tempdir().unwrap();
    let clinic = clinic_with_visits(clinic_dir.path(), 300);
    registry.start();

    let token = std::fs::read_to_string(token_file).unwrap();
    let mut config = SyncConfig::new(&registry.url(), &token);
    config.max_rows = 40;
    // Each round's `sent` starts again from zero: the observer hands every value over, and
    // the test adds the rounds up.
    let (sent_now, sent) = std::sync::mpsc::channel::<usize>();
    let syncer = Arc::new(Syncer::new(config).unwrap().observe(move |p| {
        let _ = sent_now.send(p.sent);
    }));
    let done = Arc::new(AtomicBool::new(false));
    let worker = {
        let (syncer, done, clinic) = (Arc::clone(&syncer), Arc::clone(&done), clinic.clone());
        std::thread::spawn(move || {
            let mut store = Store::open(&clinic).unwrap();
            let mut failures = 0;
            while store.sync_health().unwrap().pending > 0 {
                if syncer.round(&mut store).is_err() {
                    failures += 1;
                    assert!(failures < 100_000, "sync never got through");
                }
            }
            done.store(true, Ordering::SeqCst);
            failures
        })
    };
    // Kill the registry three times while batches are flowing, restarting it each time:
    // after 200, 500 and 800 rows sent in all, each while rows are still waiting.
    let (mut earlier_rounds, mut this_round) = (0, 0);
    for threshold in [200, 500, 800] {
        while earlier_rounds + this_round < threshold {
            let now = sent
                .recv_timeout(std::time::Duration::from_secs(60))
                .expect("sync reports rows sent before it is done");
            if now < this_round {
                earlier_rounds += this_round;
            }
            this_round = now;
        }
        let pending = Store::open(&clinic).unwrap().sync_health().unwrap().pending;
        assert!(
            pending > 0 && !done.load(Ordering::SeqCst),
            "the kill after {threshold} rows came while rows were still waiting"
        );
        registry.kill();
        registry.start();
    }
    let failures = worker.join().unwrap();
    assert!(failures >= 1, "a kill must have broken at least one round");

    let store = Store::open(&clinic).unwrap();
    assert_eq!(
        store.sync_health().unwrap().pending,
        0,
        "the outbox ends empty"
    );
    registry.kill();
    let (visits, distinct) = stored();
    assert_eq!(
        (visits, distinct),
        (900, 900),
        "every visit stored exactly once"
    );
}

#[test]
fn sync_once_from_the_command_line_reports_and_serve_refuses_a_public_address() {
    let (mut registry, token_file) = Registry::enrolled("P3674060");
    let clinic_dir = tempfile::tempdir().unwrap();
    let clinic = clinic_with_visits(clinic_dir.path(), 5);
    registry.start();
    let out = ok(&[
        "sync",
        "--db",
        path(&clinic),
        "--registry",
        &registry.url(),
        "--token-file",
        path(&token_file),
        "--once",
    ]);
    assert!(out.starts_with("sent 20, set aside 0"), "{out}");
    assert!(out.contains("0 waiting"), "{out}");

    let wrong_token = clinic_dir.path().join("wrong-token");
    std::fs::write(&wrong_token, "kt_00").unwrap();
    let refused = kartika(&[
        "sync",
        "--db",
        path(&clinic),
        "--registry",
        &registry.url(),
        "--token-file",
        path(&wrong_token),
        "--once",
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("access token is not valid"));

    let public = kartika(&[
        "registry",
        "serve",
        "--listen",
        "0.0.0.0:8700",
        "--db",
        path(&registry.dir.path().join("registry.sqlite")),
    ]);
    assert!(!public.status.success());
    assert!(String::from_utf8_lossy(&public.stderr).contains("only on loopback"));
}

#[test]
fn over_tls_a_clinic_syncs_when_it_trusts_the_registrys_certificate() {
    let (mut registry, token_file) = Registry::enrolled("P3674060");
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = registry.dir.path().join("registry.crt");
    let key = registry.dir.path().join("registry.key");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    registry.start_with(&["--tls-cert", path(&cert), "--tls-key", path(&key)]);
    let clinic_dir = tempfile::tempdir().unwrap();
    let clinic = clinic_with_visits(clinic_dir.path(), 2);
    let tls_url = format!("https://localhost:{}", registry.port);
    let plain_url = format!("http://localhost:{}", registry.port);
    let sync = |url: &str, extra: &[&str]| {
        let mut args = vec![
            "sync",
            "--db",
            path(&clinic),
            "--registry",
            url,
            "--token-file",
            path(&token_file),
            "--once",
        ];
        args.extend_from_slice(extra);
        kartika(&args)
    };
    let untrusted = sync(&tls_url, &[]);
    assert!(
        !untrusted.status.success(),
        "a certificate no root vouches for is refused"
    );
    let plain = sync(&plain_url, &["--ca-file", path(&cert)]);
    assert!(
        !plain.status.success(),
        "plain HTTP to the TLS port gets nowhere"
    );
    let out = sync(&tls_url, &["--ca-file", path(&cert)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("sent 8"));
}

#[test]
fn sync_watch_keeps_going_while_the_registry_is_down() {
    let clinic_dir = tempfile::tempdir().unwrap();
    let clinic = clinic_with_visits(clinic_dir.path(), 2);
    let token_file = clinic_dir.path().join("token");
    std::fs::write(&token_file, "any-token").unwrap();
    // A registry that is down: every connection is closed at once, and counted.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tried, attempts) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            drop(stream);
            if tried.send(()).is_err() {
                return;
            }
        }
    });
    let mut watcher = Command::new(env!("CARGO_BIN_EXE_kartika"))
        .args([
            "sync",
            "--db",
            path(&clinic),
            "--registry",
            &url,
            "--token-file",
            path(&token_file),
            "--watch",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Three attempts: the first round, then two retries after their backoff.
    for attempt in 1..=3 {
        attempts
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("attempt {attempt} to reach the registry"));
        assert!(
            watcher.try_wait().unwrap().is_none(),
            "sync --watch is still running after {attempt} failed attempt(s)"
        );
    }
    watcher.kill().unwrap();
    watcher.wait().unwrap();
}

#[test]
fn the_operator_receipts_rotates_revokes_and_answers_who_looked() {
    let (mut registry, token_file) = Registry::enrolled("P3674060");
    let root = registry.dir.path().join("root");
    registry.start_with(&["--receipts", path(&root)]);
    let db = registry.dir.path().join("registry.sqlite");
    let clinic_dir = tempfile::tempdir().unwrap();
    let clinic = clinic_with_visits(clinic_dir.path(), 2);
    let sync = |token: &Path| {
        kartika(&[
            "sync",
            "--db",
            path(&clinic),
            "--registry",
            &registry.url(),
            "--token-file",
            path(token),
            "--once",
        ])
    };
    let first = sync(&token_file);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );

    // The receipt the sync brought back, checked against the registry's root.
    let verified = ok(&[
        "audit",
        "verify",
        "--db",
        path(&clinic),
        "--trust",
        path(&root.join("root.pub")),
    ]);
    assert!(
        verified.contains("1 receipts of the registry"),
        "{verified}"
    );

    // Who has seen a patient: nobody else has asked.
    let log = ok(&[
        "registry",
        "access-log",
        "--db",
        path(&db),
        "--patient",
        "P36740600000017",
        "--json",
    ]);
    assert_eq!(log.trim(), "[]");

    // A card no issuer pushed cannot be revoked, even by the operator.
    let unknown = kartika(&[
        "registry",
        "revoke-card",
        "--db",
        path(&db),
        "--card",
        "6037990000000014",
        "--reason",
        "hilang",
    ]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown to the registry"));

    // A new token ends the old one at once.
    let rotated = ok(&[
        "registry",
        "rotate-token",
        "--db",
        path(&db),
        "--node-id",
        "P3674060",
    ]);
    let new_token = rotated.lines().last().unwrap().trim().to_owned();
    let new_token_file = registry.dir.path().join("token.new");
    std::fs::write(&new_token_file, &new_token).unwrap();
    let old = sync(&token_file);
    assert!(String::from_utf8_lossy(&old.stderr).contains("access token is not valid"));
    assert!(sync(&new_token_file).status.success());

    // A revoked node is refused, whatever its token.
    ok(&[
        "registry",
        "revoke-node",
        "--db",
        path(&db),
        "--node-id",
        "P3674060",
        "--reason",
        "PC dicuri",
    ]);
    let revoked = sync(&new_token_file);
    assert!(!revoked.status.success());
    assert!(
        String::from_utf8_lossy(&revoked.stderr).contains("revoked"),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
}
