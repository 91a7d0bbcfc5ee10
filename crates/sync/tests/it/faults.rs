//! A link that breaks: every change arrives exactly once and the outbox ends empty.

use std::io::{BufRead, Write};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::Duration;

use crate::support::{registry, syncer_with_batch, Clinic, ClosesWhenReused, CuttingProxy};
use kartika_store::OutboxKind;
use kartika_sync::SyncError;

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

/// A registry (or whatever answers in its place) whose first page links, as the next,
/// a page further on than the first page ends: changes 6 to 9 would be skipped.
fn registry_with_a_lying_link() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let request = request_head(&stream);
            let (page, link) = if request.starts_with("GET /v1/changes?after=0&") {
                (
                    page_of(5, "6037990000000048", true),
                    "Link: </v1/changes?after=9&limit=2000>; rel=\"next\"\r\n",
                )
            } else {
                (page_of(10, "6037990000000055", false), "")
            };
            let body = page.to_string();
            let _ = (&stream).write_all(answer_head(link, &body).as_bytes());
            let _ = (&stream).write_all(body.as_bytes());
        }
    });
    url
}

/// A request's line and headers, up to the empty line (a GET has no body).
fn request_head(stream: &std::net::TcpStream) -> String {
    let mut reader = std::io::BufReader::new(stream);
    let mut request = String::new();
    while reader.read_line(&mut request).is_ok_and(|n| n > 2) {}
    request
}

/// The head of a page's answer, with `link` as it should appear among the headers.
fn answer_head(link: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{link}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
}

/// A page of one pulled change, revoking `card`, that says whether `more` follow.
fn page_of(seq: i64, card: &str, more: bool) -> serde_json::Value {
    let revocation = serde_json::json!({"seq": seq, "facility": "P3674060",
        "kind": "revocation", "record_id": card, "payload": {"reason": "hilang"}});
    serde_json::json!({"changes": [revocation], "next_after": seq, "more": more})
}

#[test]
fn a_next_page_link_that_skips_changes_is_refused_and_nothing_is_applied() {
    let url = registry_with_a_lying_link();
    let mut clinic = Clinic::new("P3674010", "Puskesmas Serpong");
    let error = syncer_with_batch(&url, "token", 500)
        .round(&mut clinic.store)
        .unwrap_err();
    assert!(
        matches!(error, SyncError::BadAnswer(_)) && error.to_string().contains("links"),
        "{error}"
    );
    assert!(error.is_transient(), "tried again at the next round");
    // Neither page is applied: the first's cursor would have been moved past the gap.
    for card in ["6037990000000048", "6037990000000055"] {
        assert_eq!(clinic.store.revocation_reason(card).unwrap(), None);
    }
    let health = clinic.store.sync_health().unwrap();
    assert_eq!(health.pull_after, 0);
    assert!(health.last_error.is_some_and(|e| e.contains("links")));
}

/// A registry at the end of a slow link: the first page's head, linking the next page,
/// comes at once, but its body only once the next page has been asked for (or after ten
/// seconds). Says, once the first page's body is sent, whether the next page was asked
/// for while it was held back.
fn registry_on_a_slow_link() -> (String, mpsc::Receiver<bool>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let next_asked = Arc::new((Mutex::new(false), Condvar::new()));
    let (verdict_in, verdict) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (next_asked, verdict_in) = (Arc::clone(&next_asked), verdict_in.clone());
            // The client asks for the next page on a connection of its own.
            std::thread::spawn(move || {
                let request = request_head(&stream);
                let (page, link) = if request.starts_with("GET /v1/changes?after=0&") {
                    (
                        page_of(5, "6037990000000048", true),
                        "Link: </v1/changes?after=5&limit=2000>; rel=\"next\"\r\n",
                    )
                } else if request.starts_with("GET /v1/changes?after=5&") {
                    let (asked, told) = &*next_asked;
                    *asked.lock().unwrap() = true;
                    told.notify_all();
                    (page_of(10, "6037990000000055", false), "")
                } else {
                    let _ = (&stream).write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    return;
                };
                let body = page.to_string();
                let _ = (&stream).write_all(answer_head(link, &body).as_bytes());
                if !link.is_empty() {
                    let (asked, told) = &*next_asked;
                    let (asked, _) = told
                        .wait_timeout_while(asked.lock().unwrap(), Duration::from_secs(10), |a| !*a)
                        .unwrap();
                    let _ = verdict_in.send(*asked);
                }
                let _ = (&stream).write_all(body.as_bytes());
            });
        }
    });
    (url, verdict)
}

#[test]
fn over_a_slow_link_the_next_page_is_asked_for_while_the_one_before_travels() {
    let (url, asked_ahead) = registry_on_a_slow_link();
    let mut clinic = Clinic::new("P3674010", "Puskesmas Serpong");
    let report = syncer_with_batch(&url, "token", 500)
        .round(&mut clinic.store)
        .expect("both pages pulled");
    assert!(
        asked_ahead.recv().unwrap(),
        "the second page was asked for only once the first had arrived whole"
    );
    assert_eq!(report.applied, 2);
    for card in ["6037990000000048", "6037990000000055"] {
        assert!(clinic.store.revocation_reason(card).unwrap().is_some());
    }
    assert_eq!(clinic.store.sync_health().unwrap().pull_after, 10);
}
