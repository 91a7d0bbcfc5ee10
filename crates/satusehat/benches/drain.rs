//! The sender against the fake SATUSEHAT with a WAN's latency (50 ms each way, through the
//! testkit's delaying proxy): visits per second with pacing off and the sender's CPU time
//! per visit, beside the same Bundles posted one after another by a bare client (ureq, one
//! token, nothing kept) in the same run: the fake's own capacity over that link.
//!
//! Run: `cargo bench -p kartika-satusehat --bench drain` (`-- --visits N` for another
//! number than 10,000). Prints Markdown for docs/benchmarks.md.

use std::path::Path;
use std::time::{Duration, Instant};

use kartika_satusehat::{save_link_files, Secret, Sender};
use kartika_store::generate::GenerateOptions;
use kartika_store::{SatusehatLink, Store, SystemClock};
use kartika_testkit::clinic::store_with_desks;
use kartika_testkit::proxy::Delaying;
use kartika_testkit::satusehat::FakeSatusehat;

const PASSWORD: &str = "bench-password";
const SECRET: &str = "bench-secret";
const ORGANIZATION: &str = "10000004";
const ONE_WAY: Duration = Duration::from_millis(50);

/// This thread's CPU time so far (user and system), from /proc.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // The fields after the command's closing parenthesis; utime and stime are 14th and 15th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields counted from the state (3rd): utime is index 11, stime 12; 100 ticks a second.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// A fake and the delaying proxy in front of it, with their bases as a client sees them.
fn far_fake() -> (FakeSatusehat, Delaying, String, String) {
    let fake = FakeSatusehat::start("bench", SECRET, ORGANIZATION);
    let port: u16 = fake
        .fhir_url
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .and_then(|p| p.parse().ok())
        .expect("port");
    let proxy = Delaying::start(([127, 0, 0, 1], port).into(), ONE_WAY, Duration::ZERO);
    let proxy_port = proxy.url.rsplit(':').next().unwrap_or_default().to_owned();
    let auth = format!("https://localhost:{proxy_port}/oauth2/v1");
    let fhir = format!("https://localhost:{proxy_port}/fhir-r4/v1");
    (fake, proxy, auth, fhir)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut visits = 10_000u32;
    while let Some(arg) = args.next() {
        if arg == "--visits" {
            visits = args
                .next()
                .and_then(|v| v.parse().ok())
                .expect("--visits N");
        }
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    let db = dir.path().join("clinic.sqlite");
    store_with_desks(&db, std::sync::Arc::new(SystemClock), 1, PASSWORD);
    let mut store = Store::open(&db).expect("store");
    store
        .generate(&GenerateOptions {
            patients: visits / 3 + 1,
            visits,
            days: 90,
            seed: 11,
            until: None,
        })
        .expect("generate");
    drop(store);
    // Steady state: SATUSEHAT's index has given every patient with a NIK an IHS number.
    let sql = rusqlite::Connection::open(&db).expect("sql");
    sql.execute(
        "UPDATE patient SET ihs_number = 'P' || substr(nik, 1, 11) WHERE nik IS NOT NULL",
        [],
    )
    .expect("IHS numbers");
    drop(sql);
    let copy = dir.path().join("copy.sqlite");
    std::fs::copy(&db, &copy).expect("copy");

    let (sender_rate, cpu_per_visit, sent) = sender_run(&db);
    let (bare_rate, posted) = bare_run(&copy, sent);
    println!("| Measure (50 ms each way, pacing off) | Figure |");
    println!("|---|---|");
    println!("| Sender: visits delivered a second ({sent} visits) | {sender_rate:.2} |");
    println!("| Bare client: the same Bundles a second ({posted} Bundles) | {bare_rate:.2} |");
    println!("| Sender ÷ bare client | {:.2} |", sender_rate / bare_rate);
    println!(
        "| Sender's CPU time per visit | {:.2} ms |",
        cpu_per_visit.as_secs_f64() * 1000.0
    );
}

fn set_up(db: &Path, auth: &str, fhir: &str, ca: &str) {
    let mut store = Store::open(db).expect("store");
    let admin = store.login("admin", PASSWORD).expect("admin");
    store
        .set_satusehat_link(
            &admin,
            &SatusehatLink {
                auth_url: auth.into(),
                fhir_url: fhir.into(),
                client_id: "bench".into(),
                organization_id: ORGANIZATION.into(),
                pace: 0,
            },
        )
        .expect("link");
    save_link_files(db, &Secret::new(SECRET), Some(ca.as_bytes())).expect("secret");
}

fn sender_run(db: &Path) -> (f64, Duration, usize) {
    let (fake, _proxy, auth, fhir) = far_fake();
    set_up(db, &auth, &fhir, &fake.ca_pem);
    let mut store = Store::open(db).expect("store");
    let mut sender = Sender::open(&mut store, db, "bench").expect("sender");
    let (started, cpu) = (Instant::now(), thread_cpu());
    let mut sent = 0;
    loop {
        let drained = sender.drain(&mut store, |_| {}).expect("drain");
        sent += drained.sent;
        if drained.paused.is_none() {
            break;
        }
    }
    let (elapsed, cpu) = (started.elapsed(), thread_cpu() - cpu);
    assert_eq!(fake.encounters_by_identifier().len(), sent);
    (
        sent as f64 / elapsed.as_secs_f64(),
        cpu / u32::try_from(sent.max(1)).unwrap_or(1),
        sent,
    )
}

fn bare_run(copy: &Path, count: usize) -> (f64, usize) {
    let (fake, _proxy, auth, fhir) = far_fake();
    let mut store = Store::open(copy).expect("store");
    let facility = {
        let mut f = store.satusehat_facility().expect("facility");
        f.organization_id = ORGANIZATION.into();
        f
    };
    let bundles: Vec<Vec<u8>> = store
        .satusehat_due(usize::MAX)
        .expect("due")
        .iter()
        .filter(|due| due.patient.ihs_number.is_some())
        .take(count)
        .map(|due| {
            let bundle = kartika_fhir::satusehat_visit_bundle(
                &facility,
                &kartika_fhir::PatientRecord::from(&due.patient),
                &kartika_fhir::VisitRecord::from(&due.visit),
            );
            serde_json::to_vec(&bundle).expect("json")
        })
        .collect();
    let certs = kartika_sync::pem_certificates(fake.ca_pem.as_bytes()).expect("CA");
    let agent = ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                .build(),
        )
        .build()
        .new_agent();
    let token = agent
        .post(format!("{auth}/accesstoken?grant_type=client_credentials"))
        .send_form([("client_id", "bench"), ("client_secret", SECRET)])
        .expect("token")
        .body_mut()
        .read_to_vec()
        .expect("token answer");
    let token: serde_json::Value = serde_json::from_slice(&token).expect("token JSON");
    let bearer = format!("Bearer {}", token["access_token"].as_str().expect("token"));
    let started = Instant::now();
    for bundle in &bundles {
        agent
            .post(&fhir)
            .header("Authorization", &bearer)
            .content_type("application/fhir+json")
            .send(&bundle[..])
            .expect("posted")
            .body_mut()
            .read_to_vec()
            .expect("answer");
    }
    let elapsed = started.elapsed();
    assert_eq!(fake.encounters_by_identifier().len(), bundles.len());
    (bundles.len() as f64 / elapsed.as_secs_f64(), bundles.len())
}
