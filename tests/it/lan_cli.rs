//! `kartika serve-clinic` as a real process: eight desks register through it while it is
//! killed and restarted; TLS beyond loopback.

use std::path::{Path, PathBuf};
use std::process::Child;

use kartika_card::model::Sex;
use kartika_lan::{Answer, Client, LanError, Operation, PuskesmasLink};
use kartika_store::{Care, NewPatient, NewVisit, Payer};

use crate::support::{kartika, ok, path, spawn_listening};

const PASSWORD: &str = "rahasia-puskesmas-1";

/// A store with eight desk accounts.
fn clinic(dir: &Path) -> PathBuf {
    let db = dir.join("clinic.sqlite");
    kartika_testkit::clinic::store_with_desks(
        &db,
        std::sync::Arc::new(kartika_store::SystemClock),
        8,
        PASSWORD,
    );
    db
}

/// `serve-clinic` as a process, killed when dropped (a failing test leaves none behind).
struct ClinicServer {
    db: PathBuf,
    /// The node's folder and the registry root's public key.
    node: Option<(PathBuf, PathBuf)>,
    port: u16,
    process: Option<Child>,
}

impl ClinicServer {
    fn start(db: &Path) -> Self {
        Self::start_with(db, None)
    }

    /// With the Puskesmas's authority, vouched for by the node in `node`, checking cards
    /// under the registry root `root_pub`.
    fn start_with(db: &Path, node: Option<(&Path, &Path)>) -> Self {
        let mut server = Self {
            db: db.to_owned(),
            node: node.map(|(node, root)| (node.to_owned(), root.to_owned())),
            port: 0,
            process: None,
        };
        server.restart();
        server
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        let listen = self.address();
        let mut args = vec!["serve-clinic", "--db", path(&self.db), "--listen", &listen];
        if let Some((node, root_pub)) = &self.node {
            args.extend(["--node", path(node), "--trust", path(root_pub)]);
        }
        let (child, port) = spawn_listening(&args);
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

impl Drop for ClinicServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends `operation` until the server answers, with the same request id each time: what a
/// workstation does while its server is restarting.
fn until_answered(client: &Client, token: &str, operation: Operation) -> Answer {
    client
        .call_until_answered(token, operation, 100)
        .expect("the server answers")
}

#[test]
fn a_clinic_server_killed_three_times_loses_and_doubles_nothing() {
    const DESKS: usize = 8;
    const EACH: usize = 60;
    let dir = tempfile::tempdir().unwrap();
    let db = clinic(dir.path());
    let mut server = ClinicServer::start(&db);
    let url = format!("http://127.0.0.1:{}", server.port);
    let (registered, heard) = std::sync::mpsc::channel::<()>();
    let desks: Vec<_> = (1..=DESKS)
        .map(|desk| {
            let client = Client::new(&url, None).unwrap();
            let me = client.login(&format!("desk{desk}"), PASSWORD).unwrap();
            let registered = registered.clone();
            std::thread::spawn(move || {
                let mut tickets = Vec::new();
                for n in 0..EACH {
                    let patient = NewPatient {
                        name: format!("Pasien {desk} {n}"),
                        birth_date: "1990-02-03".into(),
                        sex: Some(Sex::Female),
                        ..NewPatient::default()
                    };
                    let Answer::Created { created, .. } = until_answered(
                        &client,
                        &me.token,
                        Operation::CreatePatient {
                            patient: Box::new(patient),
                        },
                    ) else {
                        panic!("not created");
                    };
                    let visit = NewVisit {
                        patient_number: created.patient.patient_number,
                        unit_code: "general".into(),
                        payer: Payer::General,
                        care: Care::Sick,
                        complaint: None,
                    };
                    let Answer::Registered(ticket) =
                        until_answered(&client, &me.token, Operation::RegisterVisit { visit })
                    else {
                        panic!("not registered");
                    };
                    tickets.push(ticket.queue_number);
                    let _ = registered.send(());
                }
                tickets
            })
        })
        .collect();
    // Killed after 100, 220 and 340 of the 480 visits: each time with desks mid-request.
    let mut so_far = 0;
    for threshold in [100, 220, 340] {
        while so_far < threshold {
            heard
                .recv_timeout(std::time::Duration::from_secs(60))
                .expect("the desks keep registering");
            so_far += 1;
        }
        server.kill();
        server.restart();
    }
    let mut numbers: Vec<i64> = desks
        .into_iter()
        .flat_map(|desk| desk.join().expect("a desk failed"))
        .collect();
    numbers.sort_unstable();
    let expected: Vec<i64> = (1..=(DESKS * EACH) as i64).collect();
    assert_eq!(numbers, expected, "every ticket once, none skipped");
    server.kill();
    let sql = rusqlite::Connection::open(&db).unwrap();
    let count = |q: &str| -> i64 { sql.query_row(q, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM patient"), (DESKS * EACH) as i64);
    assert_eq!(count("SELECT COUNT(*) FROM visit"), (DESKS * EACH) as i64);
    assert_eq!(
        count("SELECT COUNT(DISTINCT queue_number) FROM visit"),
        (DESKS * EACH) as i64
    );
}

#[test]
fn serve_clinic_speaks_tls_beyond_loopback_and_refuses_plain_http_there() {
    let dir = tempfile::tempdir().unwrap();
    let db = clinic(dir.path());
    let refused = kartika(&["serve-clinic", "--db", path(&db), "--listen", "0.0.0.0:0"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--tls-cert"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = dir.path().join("server.crt");
    let key = dir.path().join("server.key");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let (mut child, port) = spawn_listening(&[
        "serve-clinic",
        "--db",
        path(&db),
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        path(&cert),
        "--tls-key",
        path(&key),
    ]);
    let url = format!("https://localhost:{port}");
    let stranger = Client::new(&url, None).unwrap();
    assert!(
        matches!(
            stranger.login("desk1", PASSWORD),
            Err(LanError::Unreachable { .. })
        ),
        "a certificate no trusted root vouches for is refused"
    );
    let pem = std::fs::read(&cert).unwrap();
    let trusting = Client::new(&url, Some(&pem)).unwrap();
    let me = trusting.login("desk1", PASSWORD).expect("login over TLS");
    let answer = trusting.call(&me.token, Operation::QueueCounts).unwrap();
    assert!(matches!(answer, Answer::QueueCounts(_)), "{answer:?}");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The registry root and the Puskesmas's node, certified, as `kartika root` makes them.
fn root_and_node(dir: &Path) -> (PathBuf, PathBuf) {
    let (root, node) = (dir.join("root"), dir.join("node"));
    ok(&["root", "init", "--out", path(&root)]);
    ok(&["node", "init", "--id", "P3674060", "--out", path(&node)]);
    ok(&[
        "root",
        "certify",
        "--root",
        path(&root),
        "--node",
        path(&node),
        "--roles",
        "terminal",
        "--valid-until",
        "2031-12-31",
    ]);
    (root.join("root.pub"), node)
}

fn as_admin(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kartika"))
        .args(args)
        .env("KARTIKA_PASSWORD", PASSWORD)
        .output()
        .unwrap()
}

/// Starts `kartika workstation join` for the folder `data`: the process, waiting for an
/// admin, and the request's id it printed.
fn start_join(address: &str, root_pub: &Path, data: &Path, name: &str) -> (Child, String) {
    use std::io::{BufRead, BufReader};
    let mut join = std::process::Command::new(env!("CARGO_BIN_EXE_kartika"))
        .args([
            "workstation",
            "join",
            "--server",
            address,
            "--facility",
            "P3674060",
            "--trust",
            path(root_pub),
            "--data",
            path(data),
            "--name",
            name,
            "--wait",
            "60",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = BufReader::new(join.stdout.take().unwrap());
    let mut line = String::new();
    said.read_line(&mut line).unwrap();
    // The rest of what it says is read too: a closed pipe would fail it.
    std::thread::spawn(move || std::io::copy(&mut said, &mut std::io::sink()));
    let id = line
        .split("(request ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("the request's id in {line:?}"))
        .to_owned();
    (join, id)
}

/// The link a joined workstation's folder holds, to the server at `address`.
fn link_of(data: &Path, address: &str) -> PuskesmasLink {
    let certificate = data.join("workstation.crt");
    PuskesmasLink {
        address: address.to_owned(),
        ca_pem: std::fs::read(data.join("puskesmas-ca.pem")).unwrap(),
        identity: certificate.exists().then(|| {
            (
                std::fs::read_to_string(data.join("workstation.key")).unwrap(),
                std::fs::read(&certificate).unwrap(),
            )
        }),
        generation_file: Some(data.join("server-generation")),
        emergency_series: None,
    }
}

/// An admin approves the request `id` on the server PC; the waiting `join` then ends.
fn approve(db: &Path, id: &str, mut join: Child) {
    let approved = as_admin(&[
        "workstation",
        "approve",
        "--db",
        path(db),
        "--as",
        "admin",
        "--id",
        id,
    ]);
    assert!(
        approved.status.success(),
        "{}",
        String::from_utf8_lossy(&approved.stderr)
    );
    assert!(join.wait().unwrap().success(), "join ends once approved");
}

/// A PC joined and approved.
fn joined(db: &Path, address: &str, root_pub: &Path, data: &Path, name: &str) -> PuskesmasLink {
    let (join, id) = start_join(address, root_pub, data, name);
    approve(db, &id, join);
    link_of(data, address)
}

#[test]
fn a_pc_joins_the_puskesmas_once_an_admin_approves_it_and_is_refused_once_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let db = clinic(dir.path());
    let (root_pub, node) = root_and_node(dir.path());
    let server = ClinicServer::start_with(&db, Some((&node, &root_pub)));
    let address = server.address();
    let data = dir.path().join("loket1");
    let (join, id) = start_join(&address, &root_pub, &data, "Loket 1");
    let err = Client::puskesmas(&link_of(&data, &address))
        .unwrap()
        .login("desk1", PASSWORD)
        .unwrap_err();
    assert!(
        matches!(err, LanError::NotApproved(_)),
        "before approval: {err:?}"
    );

    let listed = as_admin(&["workstation", "list", "--db", path(&db), "--as", "admin"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("Loket 1\twaiting"));
    approve(&db, &id, join);
    let client = Client::puskesmas(&link_of(&data, &address)).unwrap();
    let me = client
        .login("desk1", PASSWORD)
        .expect("an approved workstation");
    client.call(&me.token, Operation::QueueCounts).unwrap();

    let revoked = as_admin(&[
        "workstation",
        "revoke",
        "--db",
        path(&db),
        "--as",
        "admin",
        "--id",
        &id,
    ]);
    assert!(revoked.status.success());
    let err = client.call(&me.token, Operation::QueueCounts).unwrap_err();
    assert!(
        matches!(err, LanError::NotApproved(_)),
        "after revocation: {err:?}"
    );
    drop(server);
}

#[test]
fn a_promoted_standby_copy_serves_on_and_the_old_server_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = clinic(dir.path());
    let (root_pub, node) = root_and_node(dir.path());
    let old_server = ClinicServer::start_with(&db, Some((&node, &root_pub)));
    let old_address = old_server.address();
    let desk = joined(
        &db,
        &old_address,
        &root_pub,
        &dir.path().join("loket1"),
        "Loket 1",
    );
    let standby_folder = dir.path().join("standby");
    joined(&db, &old_address, &root_pub, &standby_folder, "Cadangan");
    let client = Client::puskesmas(&desk).unwrap();
    let me = client.login("desk1", PASSWORD).unwrap();
    let patient = NewPatient {
        name: "Sebelum Pindah".into(),
        birth_date: "1990-02-03".into(),
        sex: Some(Sex::Female),
        ..NewPatient::default()
    };
    client
        .call(
            &me.token,
            Operation::CreatePatient {
                patient: Box::new(patient),
            },
        )
        .unwrap();

    let copies = dir.path().join("copies");
    let copied = as_admin(&[
        "standby",
        "copy",
        "--data",
        path(&standby_folder),
        "--into",
        path(&copies),
        "--as",
        "admin",
        "--once",
    ]);
    assert!(
        copied.status.success(),
        "{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    let copy = kartika_store::backups_in(&copies, "P3674060").unwrap();
    assert_eq!(copy.len(), 1, "one copy");
    // Streamed from a file the server no longer names: nothing is left beside its store.
    let left: Vec<_> = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("standby-copy-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // The server PC is lost: the standby's copy is promoted and served with the
    // Puskesmas's authority (its lan/ folder copied to the standby once).
    let promoted = dir.path().join("promoted");
    std::fs::create_dir_all(promoted.join("lan")).unwrap();
    for entry in std::fs::read_dir(dir.path().join("lan")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), promoted.join("lan").join(entry.file_name())).unwrap();
    }
    let new_db = promoted.join("clinic.sqlite");
    let out = as_admin(&[
        "standby",
        "promote",
        "--copy",
        path(&copy[0]),
        "--db",
        path(&new_db),
        "--as",
        "admin",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("generation 2"));
    let new_server = ClinicServer::start_with(&new_db, Some((&node, &root_pub)));
    let on_new = Client::puskesmas(&PuskesmasLink {
        address: new_server.address(),
        ..desk.clone()
    })
    .unwrap();
    let me = on_new
        .login("desk1", PASSWORD)
        .expect("the same workstation, the new server");
    let found = on_new
        .call(
            &me.token,
            Operation::Search {
                queries: vec![kartika_store::PatientQuery::Name {
                    name: "sebelum".into(),
                    birth_date: None,
                }],
            },
        )
        .unwrap();
    assert!(
        matches!(found, Answer::Found(ref hits) if hits.len() == 1),
        "{found:?}"
    );

    // The old server PC comes back: the workstation, having seen generation 2, refuses it,
    // even as a new client (the generation it saw is kept in its folder).
    let err = Client::puskesmas(&desk)
        .unwrap()
        .login("desk1", PASSWORD)
        .unwrap_err();
    assert!(
        matches!(err, LanError::OldServer { seen: 2, server: 1 }),
        "{err:?}"
    );
    drop((old_server, new_server));
}
