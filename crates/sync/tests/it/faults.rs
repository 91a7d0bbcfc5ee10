//! A link that breaks: every change arrives exactly once and the outbox ends empty.

use std::sync::atomic::Ordering;

use crate::support::{registry, syncer_with_batch, Clinic, ClosesWhenReused, CuttingProxy};
use kartika_store::OutboxKind;

#[test]
fn ten_thousand_visits_through_a_hundred_cuts_arrive_exactly_once() {
    let (registry, tokens, dir) = registry(&["P3674060"]);
    let path = dir.path().join("registry.sqlite");
    through_a_hundred_cuts(&registry, &tokens[0], &|| {
        rusqlite::Connection::open(&path)
            .unwrap()
            .query_row(VISITS_STORED, [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
    });
}

#[test]
fn the_same_cuts_on_a_postgresql_registry_with_a_connection_pool() {
    let server = kartika_testkit::postgres::TestPostgres::start();
    let (registry, tokens, url) =
        crate::support::registry_on_postgres(&server, "sync_cuts", &["P3674060"]);
    through_a_hundred_cuts(&registry, &tokens[0], &|| {
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

fn through_a_hundred_cuts(
    registry: &kartika_testkit::registry::RunningRegistry,
    token: &str,
    stored: &dyn Fn() -> (i64, i64),
) {
    let mut clinic = Clinic::new("P3674060", "Puskesmas Pamulang");
    let units = [
        "general",
        "dental",
        "maternal_child",
        "family_planning",
        "immunization",
    ];
    let patients: Vec<String> = (0..2_000)
        .map(|n| clinic.patient(&format!("Pasien {}", letters(n))))
        .collect();
    for unit in units {
        for p in &patients {
            clinic.visit(p, unit);
        }
    }
    let proxy = CuttingProxy::start(registry.addr(), 100, 7);
    // Small batches: many requests, so a hundred cuts fall on every kind of moment.
    let syncer = syncer_with_batch(&proxy.url, token, 50);
    let mut failed_rounds = 0;
    loop {
        match syncer.round(&mut clinic.store) {
            Ok(_) if clinic.store.sync_health().unwrap().pending == 0 => break,
            Ok(_) => {}
            Err(error) => {
                assert!(error.is_transient(), "a cut is worth retrying: {error}");
                failed_rounds += 1;
                assert!(failed_rounds <= 1_000, "sync never got through");
            }
        }
    }
    assert_eq!(
        proxy.cuts.load(Ordering::SeqCst),
        100,
        "every planned cut happened"
    );
    assert_eq!(
        clinic.store.sync_health().unwrap().pending,
        0,
        "the outbox ends empty"
    );
    assert_eq!(clinic.store.sync_health().unwrap().set_aside, 0);
    let (visits, distinct) = stored();
    assert_eq!(
        (visits, distinct),
        (10_000, 10_000),
        "each visit stored exactly once"
    );
}

fn letters(mut n: usize) -> String {
    let mut text = String::new();
    loop {
        text.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
        if n == 0 {
            return text;
        }
    }
}

#[test]
fn refused_records_are_set_aside_with_their_reason_and_never_block_the_queue() {
    // A clinic syncing with another facility's token: its visits are not that node's.
    let (registry, tokens, _dir) = registry(&["P3674010"]);
    let mut clinic = Clinic::new("P3674060", "Puskesmas Pamulang");
    let p = clinic.patient("Rina Wulandari");
    clinic.visit(&p, "general");
    clinic.visit(&p, "dental");
    let report = crate::support::syncer(&registry.url(), &tokens[0])
        .round(&mut clinic.store)
        .unwrap();
    assert_eq!(
        (report.sent, report.set_aside),
        (0, 3),
        "the patient (not a number of that node's) and both visits are refused"
    );
    let health = clinic.store.sync_health().unwrap();
    assert_eq!((health.pending, health.set_aside), (0, 3));
    assert!(health.last_success.is_some() && health.last_error.is_none());
    let aside = clinic.store.set_aside(10).unwrap();
    assert!(
        aside.iter().all(|a| match a.kind {
            OutboxKind::Patient => a.reason.contains("not one of facility P3674010's numbers"),
            _ => a.reason.contains("may push only its own"),
        }),
        "{aside:?}"
    );
}

#[test]
fn a_kept_alive_connection_closed_as_it_is_reused_costs_no_round() {
    let (registry, tokens, _dir) = registry(&["P3674060"]);
    let proxy = ClosesWhenReused::start(registry.addr());
    let mut clinic = Clinic::new("P3674060", "Puskesmas Pamulang");
    let patient = clinic.patient("Siti Rahayu");
    clinic.visit(&patient, "general");
    // Small batches: several requests, each after the first on a kept-alive connection.
    let syncer = syncer_with_batch(&proxy.url, &tokens[0], 1);
    let report = syncer
        .round(&mut clinic.store)
        .expect("the round gets through");
    assert_eq!(report.sent, 2);
    assert!(
        proxy.dropped.load(Ordering::SeqCst) > 0,
        "requests were sent on connections closed under them"
    );
    assert_eq!(clinic.store.sync_health().unwrap().pending, 0);
}
