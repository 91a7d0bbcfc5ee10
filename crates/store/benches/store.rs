//! The clinic store on a database of a million visits and two hundred thousand patients,
//! each figure beside the bare SQLite (or disk) figure for the same rows measured in the
//! same run. Run: `cargo bench -p kartika-store --bench store` (`-- --small` for a quick
//! look at 20,000 visits). Prints a Markdown table for docs/benchmarks.md.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use kartika_store::{Care, FacilityProfile, NewVisit, PatientQuery, Payer, Store};
use rusqlite::Connection;

#[path = "support/mod.rs"]
mod support;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn time_each<T>(items: &[T], mut run: impl FnMut(&T)) -> Duration {
    let samples = items
        .iter()
        .map(|item| {
            let start = Instant::now();
            run(item);
            start.elapsed()
        })
        .collect();
    median(samples)
}

/// One 4 KiB write and fdatasync in the database's folder: what one durable commit costs
/// at the least.
fn fdatasync_baseline(dir: &Path) -> Duration {
    let path = dir.join("fsync-probe");
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .expect("probe file");
    let block = [0x5Au8; 4096];
    let rounds: Vec<u32> = (0..300).collect();
    let d = time_each(&rounds, |_| {
        file.write_all(&block).expect("write");
        file.sync_data().expect("fdatasync");
    });
    drop(file);
    let _ = std::fs::remove_file(path);
    d
}

fn main() {
    let support::Bench {
        dir,
        db,
        profile,
        mut store,
        admin,
        generated: report,
        ..
    } = support::million_visits();
    let bare_rate = bare_bulk_copy(&db, &dir.path().join("copy.sqlite"), &profile);

    let fsync = fdatasync_baseline(dir.path());

    let conn = Connection::open(&db).expect("raw");
    // The store's own planner setting (see schema.rs), so bare and store plan alike.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .expect("qpsg");
    let numbers: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT patient_number FROM patient ORDER BY random() LIMIT 3000")
            .expect("prepare");
        stmt.query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };

    let register = time_each(&numbers, |number| {
        store
            .register_visit(
                &admin,
                &NewVisit {
                    patient_number: number.clone(),
                    unit_code: "general".into(),
                    payer: Payer::BpjsPbi,
                    care: Care::Sick,
                    complaint: Some("demam".into()),
                },
            )
            .expect("register");
    });
    let bare_register = bare_durable_insert(&conn, &numbers);

    let history = time_each(&numbers, |number| {
        store.patient_history(&admin, number).expect("history");
    });
    let bare_history = bare_history_reads(&conn, &numbers);

    let names: Vec<PatientQuery> = [
        "siti rah",
        "budi",
        "agus wij",
        "dewi",
        "nur hid",
        "rina sant",
    ]
    .iter()
    .cycle()
    .take(300)
    .map(|n| PatientQuery::Name {
        name: (*n).into(),
        birth_date: None,
    })
    .collect();
    let search = time_each(&names, |q| {
        store.search_patients(&admin, q).expect("search");
    });
    let bare_search = time_each(&names, |q| {
        let PatientQuery::Name { name, .. } = q else {
            return;
        };
        let fts: Vec<String> = name.split(' ').map(|w| format!("\"{w}\"*")).collect();
        let mut stmt = conn
            .prepare_cached(
                "SELECT p.patient_number, p.name FROM patient_name n JOIN patient p ON p.id = n.rowid
                 WHERE patient_name MATCH ?1 LIMIT 50",
            )
            .expect("prepare");
        let rows: Vec<(String, String)> = stmt
            .query_map([fts.join(" AND ")], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        std::hint::black_box(rows);
    });

    println!("| measure | Kartika | bare limit, same run | target |");
    println!("|---|---|---|---|");
    println!(
        "| bulk generation (visits with diagnoses) | {:.0} visits/s ({} visits, {} diagnoses in {:.1} s) | {:.0} visits/s (INSERT … SELECT of the same rows, indexes built after) | > 100,000/s |",
        report.visits_per_second(),
        report.visits,
        report.diagnoses,
        report.visit_time.as_secs_f64(),
        bare_rate
    );
    println!(
        "| register a visit (median of {}) | {} | {} (visit + audit + outbox INSERTs, one commit); fdatasync {} | < 3 × fdatasync = {} |",
        numbers.len(),
        ms(register),
        ms(bare_register),
        ms(fsync),
        ms(fsync * 3)
    );
    println!(
        "| patient history (median of {}) | {} | {} (the same SELECTs, no audit entry) | < 2 ms |",
        numbers.len(),
        ms(history),
        ms(bare_history)
    );
    println!(
        "| search by name (median of {}) | {} | {} (the FTS5 query alone) | < 10 ms |",
        names.len(),
        ms(search),
        ms(bare_search)
    );
    println!(
        "\n{} patients, {} visits; database {:.0} MB",
        report.patients,
        report.visits,
        std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0) as f64 / 1e6
    );
}

/// The same visit and diagnosis rows copied by SQLite alone into a fresh file of the same
/// schema: how fast the rows themselves can be written.
fn bare_bulk_copy(source: &Path, target: &Path, profile: &FacilityProfile) -> f64 {
    drop(Store::create(target, profile).expect("copy target"));
    let conn = Connection::open(target).expect("open copy");
    // The same page cache the generator uses.
    conn.execute_batch("PRAGMA cache_size = -262144")
        .expect("cache");
    conn.execute("ATTACH DATABASE ?1 AS g", [source.to_string_lossy()])
        .expect("attach");
    conn.execute_batch("INSERT INTO patient SELECT * FROM g.patient")
        .expect("patients");
    // The generator's own bulk technique: indexes dropped, rows in, indexes built.
    let indexes: Vec<(String, String)> = {
        let mut stmt = conn
            .prepare(
                "SELECT name, sql FROM main.sqlite_schema WHERE type = 'index'
                 AND tbl_name IN ('visit', 'diagnosis') AND sql IS NOT NULL",
            )
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("indexes")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let drops: String = indexes
        .iter()
        .map(|(n, _)| format!("DROP INDEX main.{n};"))
        .collect();
    let creates: String = indexes.iter().map(|(_, sql)| format!("{sql};")).collect();
    let start = Instant::now();
    conn.execute_batch(&format!(
        "BEGIN; {drops}
         INSERT INTO main.visit SELECT * FROM g.visit;
         INSERT INTO main.diagnosis SELECT * FROM g.diagnosis;
         {creates} COMMIT;"
    ))
    .expect("copy visits");
    let elapsed = start.elapsed();
    let visits: i64 = conn
        .query_row("SELECT count(*) FROM visit", [], |r| r.get(0))
        .expect("count");
    visits as f64 / elapsed.as_secs_f64()
}

/// A visit row, an audit row and an outbox row with values made beforehand, in one
/// durable transaction: the floor under `register_visit`.
fn bare_durable_insert(conn: &Connection, numbers: &[String]) -> Duration {
    conn.execute_batch("PRAGMA synchronous = FULL")
        .expect("pragma");
    let mut day = 0;
    time_each(numbers, |number| {
        day += 1;
        conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        conn.prepare_cached(
            "INSERT INTO visit (uuid, patient_id, facility_code, unit_code, queue_date, queue_number,
                payer, care, first_this_year, inside_catchment, status, arrived_at, arrived_by, complaint)
             SELECT randomblob(16), id, 'P3674060', 'general', '2099-01-01', ?1, 'bpjs_pbi', 'sick', 1, 1,
                'waiting', 0, 'admin', 'demam' FROM patient WHERE patient_number = ?2",
        )
        .expect("prepare")
        .execute(rusqlite::params![day, number])
        .expect("visit");
        conn.prepare_cached(
            "INSERT INTO audit_log (seq, at, actor, action, patient_number, detail, prev_hash, hash)
             VALUES (?2, 0, 'admin', 'visit.register', ?1, 'U-001 general', zeroblob(32), zeroblob(32))",
        )
        .expect("prepare")
        // Far above the chain's own numbers, which the store goes on using afterwards.
        .execute(rusqlite::params![number, 1_000_000_000 + day])
        .expect("audit");
        conn.prepare_cached(
            "INSERT INTO outbox (id, kind, record_id, payload, created_at)
             VALUES (randomblob(16), 'visit', ?1, '{\"version\":1}', 0)",
        )
        .expect("prepare")
        .execute([format!("bare-{number}")])
        .expect("outbox");
        conn.execute_batch("COMMIT").expect("commit");
    })
}

/// The reads of a history, without the audit entry and its commit.
fn bare_history_reads(conn: &Connection, numbers: &[String]) -> Duration {
    time_each(numbers, |number| {
        let id: i64 = conn
            .prepare_cached("SELECT id FROM patient WHERE patient_number = ?1")
            .expect("prepare")
            .query_row([number], |r| r.get(0))
            .expect("patient");
        let visits: Vec<(Vec<u8>, String)> = conn
            .prepare_cached(
                "SELECT uuid, status FROM visit WHERE patient_id = ?1 ORDER BY arrived_at DESC",
            )
            .expect("prepare")
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("visits")
            .collect::<Result<_, _>>()
            .expect("rows");
        let diagnoses: Vec<String> = conn
            .prepare_cached("SELECT code FROM diagnosis WHERE patient_id = ?1")
            .expect("prepare")
            .query_map([id], |r| r.get(0))
            .expect("diagnoses")
            .collect::<Result<_, _>>()
            .expect("rows");
        std::hint::black_box((visits, diagnoses));
    })
}
