//! Several processes on one file, as a desk window and a nurse window on one PC, and a
//! process killed in the middle of registering visits.
//!
//! The worker is this test binary itself, started again with `WORKER_ENV` set and asked to
//! run only `processes::visit_worker`.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use kartika_store::{ManualClock, Store};

use crate::support::{numbered, sick_visit, Clinic, PASSWORD};

const WORKER_ENV: &str = "KARTIKA_STORE_TEST_WORKER";

/// The time every process of these tests lives at (10:00 WIB): no run crosses midnight,
/// which would start the queue numbers again.
const NOW: time::OffsetDateTime = time::macros::datetime!(2026-11-28 03:00 UTC);

fn at_now() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(NOW))
}

/// Registers a visit at Poli Umum for each patient in a range and prints each ticket.
/// Started by the tests below through `WORKER_ENV` (`DB;FIRST;COUNT`); run on its own, it
/// serves a clinic of its own, so it is a test of the worker as well.
#[test]
fn visit_worker() {
    match std::env::var(WORKER_ENV) {
        Ok(spec) => {
            let parts: Vec<&str> = spec.split(';').collect();
            let (first, count) = (parts[1].parse().unwrap(), parts[2].parse().unwrap());
            let pause_at = parts.get(3).and_then(|p| p.parse().ok());
            register_visits(Path::new(parts[0]), first, count, pause_at);
        }
        Err(_) => {
            let clinic = with_patients(5);
            register_visits(&clinic.path, 0, 5, None);
            assert_eq!(visit_count(&clinic.path), 5);
        }
    }
}

/// Registers visits; with `pause_at`, the visit of that index stops inside its
/// transaction, after its writes and before COMMIT, says "inside" and waits to be killed.
fn register_visits(db: &Path, first: usize, count: usize, pause_at: Option<usize>) {
    let mut store = Store::open_with_clock(db, at_now()).unwrap();
    let desk = store.login("desk", PASSWORD).unwrap();
    let numbers = patient_numbers(db);
    for (index, number) in numbers[first..first + count].iter().enumerate() {
        if pause_at == Some(index) {
            let _ = kartika_store::test_hooks::BEFORE_COMMIT.set(|| {
                println!("inside the transaction");
                let _ = std::io::Write::flush(&mut std::io::stdout());
                std::thread::sleep(std::time::Duration::from_secs(3600));
            });
        }
        let ticket = store
            .register_visit(&desk, &sick_visit(number, "general"))
            .unwrap();
        println!("ticket {} {}", ticket.ticket, ticket.visit_id);
    }
}

fn with_patients(count: u32) -> Clinic {
    let mut clinic = Clinic::new();
    // The workers live at the same moment, so all agree on the day.
    clinic.clock.set(NOW);
    for n in 0..count {
        clinic.patient(&numbered(n));
    }
    clinic
}

fn patient_numbers(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT patient_number FROM patient ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn visit_count(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT count(*) FROM visit", [], |r| r.get(0))
        .unwrap()
}

/// How many visits carry the id of a worker's ticket line (`ticket U-001 <id>`).
fn visits_with_id(conn: &rusqlite::Connection, line: &str) -> i64 {
    let id = line.split(' ').nth(2).unwrap();
    conn.query_row(
        "SELECT count(*) FROM visit WHERE lower(hex(uuid)) = replace(?1, '-', '')",
        [id],
        |r| r.get(0),
    )
    .unwrap()
}

fn spawn_worker(db: &Path, first: usize, count: usize) -> Child {
    spawn_worker_pausing(db, first, count, None)
}

fn spawn_worker_pausing(db: &Path, first: usize, count: usize, pause_at: Option<usize>) -> Child {
    let pause = pause_at.map(|p| format!(";{p}")).unwrap_or_default();
    Command::new(std::env::current_exe().unwrap())
        .args([
            "processes::visit_worker",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            WORKER_ENV,
            format!("{};{first};{count}{pause}", db.display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// The worker's ticket lines, as it prints them.
fn ticket_lines(child: &mut Child) -> impl Iterator<Item = String> {
    let stdout = child.stdout.take().unwrap();
    BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        // libtest's "test … " may share the line with the first ticket.
        .filter_map(|line| line.find("ticket ").map(|at| line[at..].to_owned()))
}

fn tickets(child: &mut Child, limit: usize) -> Vec<String> {
    ticket_lines(child).take(limit).collect()
}

#[test]
fn two_processes_allocating_queue_numbers_at_once_never_share_one() {
    let clinic = with_patients(200);
    let mut a = spawn_worker(&clinic.path, 0, 100);
    let mut b = spawn_worker(&clinic.path, 100, 100);
    let mut all = tickets(&mut a, usize::MAX);
    all.extend(tickets(&mut b, usize::MAX));
    assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
    let numbers: HashSet<&str> = all.iter().map(|l| l.split(' ').nth(1).unwrap()).collect();
    assert_eq!(all.len(), 200);
    assert_eq!(numbers.len(), 200, "a queue number was handed out twice");
    let expected: HashSet<String> = (1..=200).map(|n| format!("U-{n:03}")).collect();
    assert_eq!(numbers, expected.iter().map(String::as_str).collect());
}

#[test]
fn a_process_killed_while_registering_leaves_whole_visits_or_none() {
    let clinic = with_patients(400);
    for round in 0..3 {
        let first = round * 130;
        let mut worker = spawn_worker(&clinic.path, first, 130);
        // Kill at a different moment each round, while the worker is busy.
        let seen = tickets(&mut worker, 20 + round * 37);
        worker.kill().unwrap();
        worker.wait().unwrap();
        let store = Store::open_with_clock(&clinic.path, at_now()).unwrap();
        assert_eq!(store.verify_audit().unwrap().problem, None);
        let conn = rusqlite::Connection::open(&clinic.path).unwrap();
        let orphans: i64 = conn
            .query_row(
                "SELECT
                   (SELECT count(*) FROM visit v WHERE NOT EXISTS
                      (SELECT 1 FROM outbox o WHERE o.kind = 'visit'
                         AND replace(o.record_id, '-', '') = lower(hex(v.uuid))))
                 + (SELECT count(*) FROM outbox o WHERE o.kind = 'visit' AND NOT EXISTS
                      (SELECT 1 FROM visit v
                         WHERE replace(o.record_id, '-', '') = lower(hex(v.uuid))))
                 + abs((SELECT count(*) FROM visit)
                       - (SELECT count(*) FROM audit_log WHERE action = 'visit.register'))",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            orphans, 0,
            "round {round}: a visit without its audit entry or outbox row, or the reverse"
        );
        for line in &seen {
            assert_eq!(
                visits_with_id(&conn, line),
                1,
                "a ticket that was handed out must survive"
            );
        }
    }
}

#[test]
fn a_backup_taken_while_another_process_registers_holds_every_visit_committed_before_it() {
    let clinic = with_patients(300);
    let mut worker = spawn_worker(&clinic.path, 0, 300);
    // The worker has committed (and printed) these before the backup begins.
    let mut lines = ticket_lines(&mut worker);
    let committed: Vec<String> = lines.by_ref().take(60).collect();
    let store = Store::open(&clinic.path).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let report = store.backup_into(folder.path(), 3).unwrap();
    assert!(report.bytes > 0);
    let rest: Vec<String> = lines.collect();
    assert!(worker.wait().unwrap().success());
    assert!(
        !rest.is_empty(),
        "the worker was still registering during the backup"
    );

    let restored = folder.path().join("restored.sqlite");
    let restore = Store::restore(&report.path, &restored).unwrap();
    assert_eq!(restore.kept_aside, None);
    let copy = Store::open(&restored).unwrap();
    assert_eq!(
        copy.verify_audit().unwrap().problem,
        None,
        "kartika audit verify passes"
    );
    let conn = rusqlite::Connection::open(&restored).unwrap();
    for line in &committed {
        assert_eq!(
            visits_with_id(&conn, line),
            1,
            "a visit committed before the backup is in it"
        );
    }
}

#[test]
fn a_process_killed_inside_a_registration_leaves_nothing_of_that_visit() {
    let clinic = with_patients(20);
    let mut worker = spawn_worker_pausing(&clinic.path, 0, 20, Some(7));
    let stdout = worker.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
    // Seven committed, then the eighth stops between its writes and its COMMIT.
    let mut committed = Vec::new();
    for line in lines.by_ref() {
        if line.contains("inside the transaction") {
            break;
        }
        if let Some(at) = line.find("ticket ") {
            committed.push(line[at..].to_owned());
        }
    }
    assert_eq!(committed.len(), 7, "{committed:?}");
    worker.kill().unwrap();
    worker.wait().unwrap();

    let conn = rusqlite::Connection::open(&clinic.path).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT count(*) FROM visit"),
        7,
        "the eighth visit left no row"
    );
    assert_eq!(
        count("SELECT count(*) FROM audit_log WHERE action = 'visit.register'"),
        7,
        "nor an audit entry"
    );
    assert_eq!(
        count("SELECT count(*) FROM outbox WHERE kind = 'visit'"),
        7,
        "nor an outbox row"
    );
    for line in &committed {
        assert_eq!(visits_with_id(&conn, line), 1);
    }
    let store = Store::open(&clinic.path).unwrap();
    assert_eq!(store.verify_audit().unwrap().problem, None);
}
