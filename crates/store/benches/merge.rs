//! Merging a patient with 1,000 visits (and their diagnoses) into another, and undoing it,
//! through the store (checks, the rows moved and kept for the undo, the audit entry, one
//! durable commit), beside the same rows moved by bare UPDATEs in one durable transaction,
//! in the same run, on the generated clinic file.
//! `cargo bench -p kartika-store --bench merge` (`-- --small` for a quick look).

mod support;

use std::time::{Duration, Instant};

use kartika_card::model::Sex;
use kartika_store::NewPatient;

const ROUNDS: usize = 15;
const VISITS: i64 = 1_000;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let support::Bench {
        db,
        mut store,
        admin,
        dir: _kept_until_the_end,
        ..
    } = support::million_visits();
    let person = |phone: &str| NewPatient {
        name: "Siti Rahayu Gandawati".into(),
        birth_date: "1990-01-10".into(),
        sex: Some(Sex::Female),
        phone: Some(phone.into()),
        ..NewPatient::default()
    };
    let kept = store
        .create_patient(&admin, &person("0812 3456 7001"))
        .expect("kept")
        .patient;
    let retired = store
        .create_patient(&admin, &person("0812 3456 7002"))
        .expect("retired")
        .patient;
    let raw = rusqlite::Connection::open(&db).expect("open raw");
    raw.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;",
    )
    .expect("pragmas");
    let id_of = |number: &str| -> i64 {
        raw.query_row(
            "SELECT id FROM patient WHERE patient_number = ?1",
            [number],
            |r| r.get(0),
        )
        .expect("patient id")
    };
    let (kept_id, retired_id) = (id_of(&kept.patient_number), id_of(&retired.patient_number));
    // The retired record's history: a thousand generated visits, with their diagnoses.
    raw.execute_batch(&format!(
        "BEGIN;
         CREATE TEMP TABLE chosen AS SELECT id FROM visit ORDER BY id LIMIT {VISITS};
         UPDATE visit SET patient_id = {retired_id} WHERE id IN (SELECT id FROM chosen);
         UPDATE diagnosis SET patient_id = {retired_id} WHERE visit_id IN (SELECT id FROM chosen);
         COMMIT;"
    ))
    .expect("give the retired record its visits");
    let diagnoses: i64 = raw
        .query_row(
            "SELECT count(*) FROM diagnosis WHERE patient_id = ?1",
            [retired_id],
            |r| r.get(0),
        )
        .expect("count");

    let (mut merges, mut undos, mut bare_there, mut bare_back) = (vec![], vec![], vec![], vec![]);
    let bare_move = |from: i64, to: i64| -> Duration {
        let started = Instant::now();
        raw.execute_batch(&format!(
            "BEGIN IMMEDIATE;
             UPDATE visit SET patient_id = {to} WHERE patient_id = {from};
             UPDATE diagnosis SET patient_id = {to} WHERE patient_id = {from};
             UPDATE card SET patient_id = {to} WHERE patient_id = {from};
             COMMIT;"
        ))
        .expect("bare move");
        started.elapsed()
    };
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let plan = store
            .merge_patients(&admin, &kept.patient_number, &retired.patient_number, &[])
            .expect("merge");
        merges.push(started.elapsed());
        assert_eq!(plan.visits as i64, VISITS);
        let started = Instant::now();
        store
            .unmerge_patient(&admin, &retired.patient_number)
            .expect("unmerge");
        undos.push(started.elapsed());
        bare_there.push(bare_move(retired_id, kept_id));
        bare_back.push(bare_move(kept_id, retired_id));
    }
    let (merge, undo) = (median(merges), median(undos));
    let (there, back) = (median(bare_there), median(bare_back));
    println!(
        "| measure (median of {ROUNDS}) | Kartika | bare UPDATEs, same run | ratio | target |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| merge: {VISITS} visits, {diagnoses} diagnoses | {} | {} | {:.1} | ≤ 3 |",
        ms(merge),
        ms(there),
        merge.as_secs_f64() / there.as_secs_f64()
    );
    println!(
        "| undo | {} | {} | {:.1} | ≤ 3 |",
        ms(undo),
        ms(back),
        undo.as_secs_f64() / back.as_secs_f64()
    );
}
