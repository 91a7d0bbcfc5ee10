//! The clinic store on the LAN: each operation in-process (the same `apply` a standalone
//! workstation runs), over loopback HTTP and HTTPS, and over HTTPS with a LAN's latency
//! added; registrations per second from 8 and 15 desks at once; and the time from a
//! registration to every subscribed screen having re-read its queue. Baselines in the same
//! run: the bare durable SQLite INSERT, and an empty HTTPS request.
//!
//! Run: `cargo bench -p kartika-lan --bench lan` (`-- --small` for a quick look). Prints
//! Markdown for docs/benchmarks.md.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use kartika_lan::{apply, Answer, Client, Operation};
use kartika_store::generate::GenerateOptions;
use kartika_store::{Care, NewVisit, PatientQuery, Payer, Store, SystemClock};
use kartika_testkit::lan::RunningServer;
use kartika_testkit::proxy::Delaying;

const PASSWORD: &str = "bench-password";
const SAMPLES: usize = 300;
const UNITS: [&str; 3] = ["general", "dental", "maternal_child"];

/// Patients not yet queued at a unit today, handed out one registration at a time.
struct Registrations {
    patients: Vec<String>,
    next: AtomicUsize,
}

impl Registrations {
    fn next(&self) -> NewVisit {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        NewVisit {
            patient_number: self.patients[n % self.patients.len()].clone(),
            unit_code: UNITS[(n / self.patients.len()) % UNITS.len()].into(),
            payer: Payer::General,
            care: Care::Sick,
            complaint: None,
        }
    }
}

struct Percentiles {
    median: Duration,
    p99: Duration,
}

fn percentiles(mut samples: Vec<Duration>) -> Percentiles {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    Percentiles {
        median: at(0.5),
        p99: at(0.99),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// An operation's name, and how to make it afresh for each call.
type Measured<'a> = (&'static str, Box<dyn Fn() -> Operation + 'a>);

/// The operations measured, each made fresh for every sample.
fn operations<'a>(registrations: &'a Registrations, history_of: &'a str) -> Vec<Measured<'a>> {
    let names = ["siti", "budi sant", "dewi", "nur hid", "rina sant", "agus"];
    let turn = AtomicUsize::new(0);
    vec![
        (
            "register a visit",
            Box::new(|| Operation::RegisterVisit {
                visit: registrations.next(),
            }),
        ),
        (
            "today's queue of a unit",
            Box::new(|| Operation::UnitQueue {
                unit_code: "general".into(),
            }),
        ),
        (
            "a patient's history",
            Box::new(move || Operation::History {
                patient_number: history_of.to_owned(),
            }),
        ),
        (
            "search by name",
            Box::new(move || {
                let n = turn.fetch_add(1, Ordering::Relaxed);
                Operation::Search {
                    queries: vec![PatientQuery::Name {
                        name: names[n % names.len()].into(),
                        birth_date: None,
                    }],
                }
            }),
        ),
    ]
}

fn main() {
    let small = std::env::args().any(|a| a == "--small");
    // `--log`: the servers' log at info, written to a file, as serve-clinic writes it.
    let log_dir = tempfile::tempdir().expect("temp dir");
    let _flushed = std::env::args().any(|a| a == "--log").then(|| {
        let (writer, guard) = tracing_appender::non_blocking(tracing_appender::rolling::never(
            log_dir.path(),
            "clinic.log",
        ));
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_writer(writer)
            .with_ansi(false)
            .init();
        println!("Logging at info to a file.\n");
        guard
    });
    let (patients, visits) = if small {
        (4_000, 20_000)
    } else {
        (20_000, 100_000)
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("clinic.sqlite");
    let (patient_numbers, history_of) = make_store(&db, patients, visits);
    let registrations = Registrations {
        patients: patient_numbers,
        next: AtomicUsize::new(0),
    };

    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("server.crt"), dir.path().join("server.key"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let acceptor = kartika_listener::acceptor(&cert, &key).expect("TLS");
    let ca = std::fs::read(&cert).unwrap();
    let https = RunningServer::start_with(
        &db,
        Arc::new(SystemClock),
        "127.0.0.1:0".parse().unwrap(),
        Some(acceptor),
        |_| {},
    );
    let http = RunningServer::start(&db, Arc::new(SystemClock));
    let https_url = format!("https://localhost:{}", https.addr.port());

    println!(
        "Store: {patients} patients, {visits} visits; each figure the median and 99th percentile of {SAMPLES} calls, in ms.\n"
    );
    println!("| operation | in-process | loopback HTTP | loopback HTTPS | +0.25 ms each way | +1 ms each way | +5 ± 2 ms each way |");
    println!("|---|---|---|---|---|---|---|");
    let delayed: Vec<String> = [
        (Duration::from_micros(250), Duration::ZERO),
        (Duration::from_millis(1), Duration::ZERO),
        (Duration::from_millis(5), Duration::from_millis(2)),
    ]
    .into_iter()
    .map(|(delay, jitter)| {
        let proxy = Delaying::start(https.addr, delay, jitter);
        let port = proxy.url.rsplit(':').next().unwrap_or_default().to_owned();
        format!("https://localhost:{port}")
    })
    .collect();
    let mut store = Store::open(&db).expect("store");
    let desk = store.login("desk1", PASSWORD).expect("login");
    let remote: Vec<(Client, String)> = [http.url.clone(), https_url.clone()]
        .into_iter()
        .chain(delayed)
        .map(|url| {
            let client =
                Client::new(&url, url.starts_with("https").then_some(&ca[..])).expect("client");
            let token = client.login("desk1", PASSWORD).expect("login").token;
            (client, token)
        })
        .collect();
    for (name, make) in operations(&registrations, &history_of) {
        let local = time(|| {
            apply(&mut store, &desk, make(), None).expect("in-process");
        });
        let mut cells = vec![cell(&local)];
        for (client, token) in &remote {
            let over = time(|| {
                client.call(token, make()).expect("over the LAN");
            });
            cells.push(cell(&over));
        }
        println!("| {name} | {} |", cells.join(" | "));
    }
    let bare_insert = bare_durable_insert(dir.path());
    let (client, _) = &remote[1];
    let empty = time(|| {
        client.facility().expect("facility");
    });
    println!(
        "| baseline: bare durable SQLite INSERT / empty HTTPS request | {} | | {} | | | |",
        cell(&bare_insert),
        cell(&empty)
    );

    println!("\n| desks registering at once (HTTPS) | registrations/s |");
    println!("|---|---|");
    for desks in [1, 8, 15] {
        let rate = registrations_per_second(&https_url, &ca, desks, &registrations);
        println!("| {desks} | {rate:.0} |");
    }

    let (p50, p95, p99) = commit_to_screens(&https_url, &ca, 15, &registrations);
    println!(
        "\nFrom a registration sent to 15 subscribed screens each having re-read the unit's queue (HTTPS, 200 registrations): median {} ms, 95th percentile {} ms, 99th {} ms.",
        ms(p50),
        ms(p95),
        ms(p99)
    );
}

fn cell(p: &Percentiles) -> String {
    format!("{} / {}", ms(p.median), ms(p.p99))
}

fn time(mut run: impl FnMut()) -> Percentiles {
    // A few calls first: connections, caches.
    for _ in 0..5 {
        run();
    }
    percentiles(
        (0..SAMPLES)
            .map(|_| {
                let start = Instant::now();
                run();
                start.elapsed()
            })
            .collect(),
    )
}

fn make_store(db: &Path, patients: u32, visits: u32) -> (Vec<String>, String) {
    kartika_testkit::clinic::store_with_desks(db, Arc::new(SystemClock), 15, PASSWORD);
    let mut store = Store::open(db).expect("the store");
    store
        .generate(&GenerateOptions {
            patients,
            visits,
            days: 730,
            seed: 7,
            until: None,
        })
        .expect("generate");
    drop(store);
    let sql = rusqlite::Connection::open(db).expect("sql");
    let numbers = sql
        .prepare("SELECT patient_number FROM patient ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<Vec<String>, _>>()
        .unwrap();
    let busiest: String = sql
        .query_row(
            "SELECT p.patient_number FROM visit v JOIN patient p ON p.id = v.patient_id
             GROUP BY v.patient_id ORDER BY COUNT(*) DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (numbers, busiest)
}

/// One row and its COMMIT in WAL with `synchronous=FULL`, as the store writes.
fn bare_durable_insert(dir: &Path) -> Percentiles {
    let conn = rusqlite::Connection::open(dir.join("bare.sqlite")).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);",
    )
    .unwrap();
    time(|| {
        conn.execute("INSERT INTO t (v) VALUES ('U-001 general')", [])
            .unwrap();
    })
}

fn registrations_per_second(
    url: &str,
    ca: &[u8],
    desks: usize,
    registrations: &Registrations,
) -> f64 {
    const EACH: usize = 200;
    let start = Barrier::new(desks + 1);
    let took = std::thread::scope(|scope| {
        for desk in 1..=desks {
            let start = &start;
            scope.spawn(move || {
                let client = Client::new(url, Some(ca)).expect("client");
                let token = client
                    .login(&format!("desk{desk}"), PASSWORD)
                    .expect("login")
                    .token;
                start.wait();
                for _ in 0..EACH {
                    let answer = client
                        .call(
                            &token,
                            Operation::RegisterVisit {
                                visit: registrations.next(),
                            },
                        )
                        .expect("registered");
                    assert!(matches!(answer, Answer::Registered(_)));
                }
            });
        }
        start.wait();
        Instant::now()
    });
    (desks * EACH) as f64 / took.elapsed().as_secs_f64()
}

/// Screens follow the change stream and re-read the queue on each change, as the app
/// does; a desk registers every 50 ms. For each registration, the time until the last of
/// the screens has the queue that holds it.
fn commit_to_screens(
    url: &str,
    ca: &[u8],
    screens: usize,
    registrations: &Registrations,
) -> (Duration, Duration, Duration) {
    const WRITES: usize = 200;
    let counts = Arc::new(Mutex::new(Vec::<(usize, usize, Instant)>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let desk = Client::new(url, Some(ca)).expect("client");
    let token = desk.login("desk1", PASSWORD).expect("login").token;
    let queue_len = |client: &Client, token: &str| match client
        .call(
            token,
            Operation::UnitQueue {
                unit_code: "elderly".into(),
            },
        )
        .expect("queue")
    {
        Answer::UnitQueue(queue) => queue.len(),
        other => panic!("not a queue: {other:?}"),
    };
    let ready = Arc::new(Barrier::new(screens + 1));
    let followers: Vec<_> = (0..screens)
        .map(|n| {
            let (url, ca, counts, stop, ready) = (
                url.to_owned(),
                ca.to_vec(),
                Arc::clone(&counts),
                Arc::clone(&stop),
                Arc::clone(&ready),
            );
            std::thread::spawn(move || {
                let client = Client::new(&url, Some(&ca)).expect("client");
                let token = client
                    .login(&format!("desk{}", 1 + n % 15), PASSWORD)
                    .expect("login")
                    .token;
                let mut version = client.next_change(&token, u64::MAX).expect("version");
                ready.wait();
                while !stop.load(Ordering::SeqCst) {
                    let now = client.next_change(&token, version).expect("stream");
                    if now != version {
                        version = now;
                        let len = queue_len(&client, &token);
                        if let Ok(mut counts) = counts.lock() {
                            counts.push((n, len, Instant::now()));
                        }
                    }
                }
            })
        })
        .collect();
    ready.wait();
    let mut sent = Vec::new();
    for _ in 0..WRITES {
        let mut visit = registrations.next();
        visit.unit_code = "elderly".into();
        let at = Instant::now();
        desk.call(&token, Operation::RegisterVisit { visit })
            .expect("registered");
        sent.push(at);
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::SeqCst);
    for follower in followers {
        let _ = follower.join();
    }
    let counts = counts.lock().map(|c| c.clone()).unwrap_or_default();
    // The nth registration is on a screen once it read a queue longer than n; the latest
    // of the screens' first such reads is when every screen had it.
    let mut delays: Vec<Duration> = sent
        .iter()
        .enumerate()
        .filter_map(|(n, at)| {
            (0..screens)
                .map(|screen| {
                    counts
                        .iter()
                        .filter(|(s, len, _)| *s == screen && *len > n)
                        .map(|(_, _, when)| *when)
                        .min()
                })
                .collect::<Option<Vec<Instant>>>()?
                .into_iter()
                .max()
                .map(|last| last.saturating_duration_since(*at))
        })
        .collect();
    delays.sort_unstable();
    let at = |q: f64| delays[((delays.len() as f64 * q) as usize).min(delays.len() - 1)];
    (at(0.5), at(0.95), at(0.99))
}
