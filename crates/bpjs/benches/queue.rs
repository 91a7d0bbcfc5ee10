//! BPJS's queue at scale, on a clinic store with a long history (generated, BPJS paying
//! about three visits in four) already at BPJS:
//!
//! - the sender's idle look (forgetting what is settled, then the due calls), as it runs
//!   every five seconds, beside the bare `SELECT count(*)` of the visits left to look at;
//!   and the same look if it had to read every BPJS visit (the to-do set's reason);
//! - a morning of BPJS visits registered, then drained to the fake BPJS on loopback
//!   HTTPS (pendaftaran and antrean each): time per call, beside the same number of bare
//!   signed GETs of the same fake by the same client.
//!
//! Run: `cargo bench -p kartika-bpjs --bench queue` (`-- --visits N`, default 200,000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use kartika_bpjs::fake::{Consumer, FakeBpjs};
use kartika_bpjs::{BpjsLink, BpjsSecrets, Client, Member, Peserta, Secret, Sender};
use kartika_store::generate::GenerateOptions;
use kartika_store::{BpjsCode, Care, NewVisit, Payer, Store, SystemClock};
use kartika_testkit::clinic::store_with_desks;

const PASSWORD: &str = "bench-password";
const SECRET: &str = "bench-secret";
const MORNING: i64 = 100;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let mut visits = 200_000u32;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--visits" {
            visits = args.next().and_then(|v| v.parse().ok()).unwrap_or(visits);
        }
    }
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("clinic.sqlite");
    store_with_desks(&path, Arc::new(SystemClock), 1, PASSWORD);
    let mut store = Store::open(&path).expect("the store");
    store
        .generate(&GenerateOptions {
            patients: visits / 3 + 1,
            visits,
            days: 365,
            seed: 11,
            until: None,
        })
        .expect("a year of visits");
    let admin = store.login("admin", PASSWORD).expect("admin");
    for code in [
        BpjsCode::Unit {
            unit: "general".into(),
            kd_poli: "001".into(),
        },
        BpjsCode::Staff {
            username: "nurse".into(),
            kd_dokter: "131491".into(),
        },
    ] {
        store.set_bpjs_code(&admin, &code).expect("mapped");
    }
    let started = Instant::now();
    let settled = store
        .settle_bpjs_before(
            &admin,
            &store.today().next_day().expect("a day").to_string(),
        )
        .expect("settled");
    println!(
        "{visits} visits; {settled} BPJS calls counted as sent in {}",
        ms(started.elapsed())
    );

    // The idle look, as the sender makes it, beside the bare count of what it reads.
    let look: Vec<Duration> = (0..50)
        .map(|_| {
            let at = Instant::now();
            store.prune_bpjs_todo().expect("pruned");
            let due = store.bpjs_due(20).expect("due");
            assert!(due.is_empty());
            at.elapsed()
        })
        .collect();
    let conn = rusqlite::Connection::open(&path).expect("a bare connection");
    let bare: Vec<Duration> = (0..50)
        .map(|_| {
            let at = Instant::now();
            let _: i64 = conn
                .query_row("SELECT count(*) FROM bpjs_todo", [], |r| r.get(0))
                .expect("count");
            at.elapsed()
        })
        .collect();
    // What the look would cost reading every BPJS visit: the visits put back to look at.
    conn.execute(
        "INSERT OR IGNORE INTO bpjs_todo (visit_id)
         SELECT id FROM visit WHERE payer IN ('bpjs_pbi', 'bpjs_non_pbi')",
        [],
    )
    .expect("every visit to look at");
    let every: Vec<Duration> = (0..5)
        .map(|_| {
            let at = Instant::now();
            let due = store.bpjs_due(20).expect("due");
            assert!(due.is_empty());
            at.elapsed()
        })
        .collect();
    store.prune_bpjs_todo().expect("pruned");

    // A morning of BPJS visits, drained to the fake.
    let fake = FakeBpjs::start(
        Consumer {
            cons_id: "1".into(),
            secret: SECRET.into(),
            pcare_user_key: "k".into(),
            pcare_user: "u".into(),
            pcare_password: "p".into(),
            antrean_user_key: "a".into(),
        },
        vec![Peserta::default()],
    );
    fake.take_every_card();
    let link = BpjsLink {
        pcare_url: fake.pcare_url.clone(),
        antrean_url: fake.antrean_url.clone(),
        cons_id: "1".into(),
        pcare_user: "u".into(),
        provider_code: "0114U163".into(),
    };
    let secrets = BpjsSecrets {
        secret: Secret::new(SECRET),
        pcare_user_key: Secret::new("k"),
        antrean_user_key: Secret::new("a"),
        pcare_password: Secret::new("p"),
    };
    kartika_bpjs::settings::save(&path, &link, &secrets, Some(fake.ca_pem.as_bytes()))
        .expect("set up");
    let members: Vec<String> = conn
        .prepare("SELECT patient_number FROM patient WHERE bpjs_number IS NOT NULL LIMIT ?1")
        .and_then(|mut s| {
            s.query_map([MORNING], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .expect("members");
    for number in &members {
        store
            .register_visit(
                &admin,
                &NewVisit {
                    patient_number: number.clone(),
                    unit_code: "general".into(),
                    payer: Payer::BpjsPbi,
                    care: Care::Sick,
                    complaint: None,
                },
            )
            .expect("registered");
    }
    let mut sender = Sender::open(&path, "bench").expect("sender");
    let at = Instant::now();
    let drained = sender.drain(&mut store, |_| {}).expect("drained");
    let drain = at.elapsed();
    assert_eq!(drained.sent, 2 * members.len(), "{drained:?}");
    let client = Client::new(
        link,
        secrets,
        Some(fake.ca_pem.as_bytes()),
        Duration::from_secs(5),
    )
    .expect("client");
    let at = Instant::now();
    for _ in 0..drained.sent {
        client
            .peserta(&Member::Card("0001234567890".into()))
            .expect("asked");
    }
    let bare_calls = at.elapsed();
    let calls = u32::try_from(drained.sent).unwrap_or(1);

    println!();
    println!("| measure | BPJS's queue | baseline | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| idle look (prune, then due), {visits} visits, median of 50 | {} | {} (bare count of the to-do set) | {:.1}× |",
        ms(median(look.clone())),
        ms(median(bare.clone())),
        median(look).as_secs_f64() / median(bare).as_secs_f64().max(1e-9)
    );
    println!(
        "| the same look reading every BPJS visit, median of 5 | {} | | |",
        ms(median(every))
    );
    println!(
        "| a morning of {} BPJS visits drained ({} calls), per call | {} | {} (a bare signed GET of the fake) | {:.1}× |",
        members.len(),
        drained.sent,
        ms(drain / calls),
        ms(bare_calls / calls),
        drain.as_secs_f64() / bare_calls.as_secs_f64()
    );
}
