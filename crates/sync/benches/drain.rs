//! Sync at scale: 100,000 visits drained from one clinic to the registry over loopback;
//! the registry's ingest rate on SQLite and on PostgreSQL beside a bare insert (COPY for
//! PostgreSQL) of the same rows; pulling them all (120,000 changes with the patients) into
//! a second clinic, beside the registry's paging of the same changes alone. Run:
//! `cargo bench -p kartika-sync --bench drain` (`-- --small` for 10,000 visits;
//! `--slow-link[=MS]` pulls only, through a slow link modelled here).
//! Prints a Markdown table for docs/benchmarks.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kartika_card::model::Sex;
use kartika_protocol::{Kind, PushRecord};
use kartika_registry::postgres_backend::PostgresBackend;
use kartika_registry::sqlite::SqliteBackend;
use kartika_registry::validate::{validate, ValidRecord};
use kartika_registry::{node, Backend, Node};
use kartika_store::{
    Care, FacilityProfile, ManualClock, NewPatient, NewStaff, NewVisit, Payer, Role, Store,
    TimeZone,
};
use kartika_sync::{SyncConfig, Syncer};
use kartika_testkit::postgres::TestPostgres;
use kartika_testkit::registry::{enroll, RunningRegistry};

const UNITS: [&str; 5] = [
    "general",
    "dental",
    "maternal_child",
    "elderly",
    "immunization",
];
/// The records a clinic pushes at once, as the registry takes them in.
const BATCH: usize = kartika_protocol::MAX_PUSH_RECORDS;

fn clinic(dir: &std::path::Path, code: &str) -> (Store, kartika_store::Session, ManualClock) {
    let profile = FacilityProfile {
        code: code.into(),
        name: format!("Puskesmas {code}"),
        region_code: None,
        zone: TimeZone::Wib,
    };
    let clock = ManualClock::new(time::OffsetDateTime::now_utc());
    let mut store = Store::create_with_clock(
        &dir.join(format!("{code}.sqlite")),
        &profile,
        Arc::new(clock.clone()),
    )
    .expect("clinic");
    store
        .add_first_admin(&NewStaff {
            username: "admin".into(),
            display_name: "Admin".into(),
            role: Role::Admin,
            password: "bench-password".into(),
        })
        .expect("admin");
    let admin = store.login("admin", "bench-password").expect("login");
    (store, admin, clock)
}

/// Patients and their visits through the store's own operations, so the outbox holds what
/// a busy clinic's would: a thousand visits a day, over a hundred days.
fn fill(store: &mut Store, admin: &kartika_store::Session, clock: &ManualClock, visits: usize) {
    let patients = visits.div_ceil(UNITS.len());
    let mut made = 0;
    clock.advance(time::Duration::days(-((visits / 1_000) as i64)));
    for n in 0..patients {
        if n % 200 == 0 && n > 0 {
            clock.advance(time::Duration::days(1));
        }
        let number = store
            .create_patient(
                admin,
                &NewPatient {
                    name: format!("Siti Rahayu {}", letters(n)),
                    birth_date: format!("19{:02}-0{}-1{}", 40 + n % 60, 1 + n % 9, n % 10),
                    sex: Some(Sex::Female),
                    region_code: Some("36.74.06.1001".into()),
                    ..NewPatient::default()
                },
            )
            .expect("patient")
            .patient
            .patient_number;
        for unit in UNITS {
            if made == visits {
                return;
            }
            store
                .register_visit(
                    admin,
                    &NewVisit {
                        patient_number: number.clone(),
                        unit_code: unit.into(),
                        payer: Payer::BpjsPbi,
                        care: Care::Sick,
                        complaint: Some("batuk pilek".into()),
                    },
                )
                .expect("visit");
            made += 1;
        }
    }
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

fn records(store: &Store) -> Vec<PushRecord> {
    store
        .outbox_pending(usize::MAX)
        .expect("outbox")
        .into_iter()
        .map(PushRecord::from)
        .collect()
}

/// Records a second before, validated as the API would.
fn validated(node: &Node, records: &[PushRecord]) -> Vec<Result<ValidRecord, String>> {
    records.iter().map(|r| validate(node, r)).collect()
}

fn ingest(backend: &mut dyn Backend, node: &Node, records: &[Result<ValidRecord, String>]) -> f64 {
    settle();
    let start = Instant::now();
    for batch in records.chunks(BATCH) {
        backend.push(node, batch).expect("push");
    }
    records.len() as f64 / start.elapsed().as_secs_f64()
}

fn bare_sqlite(path: &std::path::Path, records: &[Result<ValidRecord, String>]) -> f64 {
    let mut conn = rusqlite::Connection::open(path).expect("open");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE bare (change_id BLOB, facility TEXT, kind TEXT, record_id TEXT,
             patient_number TEXT, payload TEXT, received_at INTEGER);",
    )
    .expect("bare table");
    settle();
    let start = Instant::now();
    for batch in records.chunks(BATCH) {
        let tx = conn.transaction().expect("tx");
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO bare VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)")
                .expect("prepare");
            for r in batch.iter().flatten() {
                insert
                    .execute(rusqlite::params![
                        &r.change_id[..],
                        r.facility,
                        r.kind.as_str(),
                        r.record_id,
                        r.patient_number,
                        r.payload
                    ])
                    .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    records.len() as f64 / start.elapsed().as_secs_f64()
}

fn bare_copy(url: &str, records: &[Result<ValidRecord, String>], streams: usize) -> f64 {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    client
        .batch_execute(
            "CREATE TABLE bare (change_id BYTEA, facility TEXT, kind TEXT, record_id TEXT,
                 patient_number TEXT, payload TEXT, received_at BIGINT)",
        )
        .expect("bare table");
    let parts = shards(records, streams);
    settle();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for part in parts {
            scope.spawn(move || copy_stream(url, &part));
        }
    });
    records.len() as f64 / start.elapsed().as_secs_f64()
}

/// COPY in the text format, one transaction per batch like the registry's pushes.
fn copy_stream(url: &str, records: &[Result<ValidRecord, String>]) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    let escape = |t: &str| {
        t.replace('\\', "\\\\")
            .replace('\t', "\\t")
            .replace('\n', "\\n")
    };
    for batch in records.chunks(BATCH) {
        let mut text = String::new();
        for r in batch.iter().flatten() {
            text.push_str(&format!(
                "\\\\x{}\t{}\t{}\t{}\t{}\t{}\t0\n",
                r.change_id
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>(),
                r.facility,
                r.kind.as_str(),
                escape(&r.record_id),
                escape(&r.patient_number),
                escape(&r.payload)
            ));
        }
        let mut tx = client.transaction().expect("tx");
        let mut writer = tx.copy_in("COPY bare FROM STDIN").expect("copy");
        std::io::Write::write_all(&mut writer, text.as_bytes()).expect("copy rows");
        writer.finish().expect("copy finish");
        tx.commit().expect("commit");
    }
}

/// The records split by patient over `count` connections, as several clinics pushing at
/// once: each patient's records stay in order on one connection.
fn shards(
    records: &[Result<ValidRecord, String>],
    count: usize,
) -> Vec<Vec<Result<ValidRecord, String>>> {
    let mut shards = vec![Vec::new(); count];
    for record in records {
        let key = record
            .as_ref()
            .map(|r| r.patient_number.bytes().map(usize::from).sum::<usize>())
            .unwrap_or(0);
        shards[key % count].push(record.clone());
    }
    shards
}

fn ingest_parallel(
    backends: Vec<Box<dyn Backend>>,
    node: &Node,
    records: &[Result<ValidRecord, String>],
) -> f64 {
    let parts = shards(records, backends.len());
    settle();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for (mut backend, part) in backends.into_iter().zip(parts) {
            scope.spawn(move || {
                for batch in part.chunks(BATCH) {
                    backend.push(node, batch).expect("push");
                }
            });
        }
    });
    records.len() as f64 / start.elapsed().as_secs_f64()
}

/// PostgreSQL's ingest on one connection beside the bare COPY, three times over.
fn postgres_alone(all: &[PushRecord]) {
    let pamulang_node = node("P3674060", "terminal,issuer").expect("node");
    let checked = validated(&pamulang_node, all);
    let server = TestPostgres::start();
    for round in 0..3 {
        let url = server.new_database(&format!("ingest{round}"));
        let mut pg = PostgresBackend::connect(&url).expect("postgres");
        let rate = ingest(&mut pg, &pamulang_node, &checked);
        let bare = bare_copy(&server.new_database(&format!("bare{round}")), &checked, 1);
        println!("PostgreSQL, one connection: {rate:.0} records/s; bare COPY {bare:.0} rows/s");
    }
}

/// Writes the dirty pages the previous measure left in the page cache to the disk first:
/// otherwise each measure pays for the writes of the one before it (a gigabyte by the
/// time PostgreSQL's turn comes) in its own fsyncs.
fn settle() {
    let synced = std::process::Command::new("sync").status();
    assert!(synced.is_ok_and(|s| s.success()), "sync(1) failed");
}

/// Pulls measured, each into a fresh clinic; the median is reported, as this shared
/// machine's speed wanders between runs.
const PULLS: usize = 3;

/// A pull into a fresh clinic, then the same pages over HTTP, read and parsed by the
/// clinic but not applied: how many changes, and the two times.
fn pull_once(into: &std::path::Path, registry: &str, token: &str) -> (usize, Duration, Duration) {
    std::fs::create_dir(into).expect("pull folder");
    let (mut serpong, _, _) = clinic(into, "P3674010");
    let puller = Syncer::new(SyncConfig::new(registry, token)).expect("syncer");
    settle();
    let cpu_before = process_cpu();
    let started = Instant::now();
    let pulled = puller.round(&mut serpong).expect("pull").applied;
    let pull = started.elapsed();
    // The registry's threads and the clinic's, together.
    let cpu = process_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after - before);

    let agent = ureq::Agent::new_with_defaults();
    settle();
    let started = Instant::now();
    let mut after = 0;
    loop {
        let body = agent
            .get(&format!("{registry}/v1/changes?after={after}&limit=2000"))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .expect("page")
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .expect("page body");
        let page: kartika_protocol::ChangePage = serde_json::from_slice(&body).expect("page json");
        after = page.next_after;
        if !page.more {
            break;
        }
    }
    let http_paging = started.elapsed();
    eprintln!(
        "pull {} ({} on the processors); pages over HTTP {}",
        secs(pull),
        cpu.map_or("unknown".into(), secs),
        secs(http_paging)
    );
    (pulled, pull, http_paging)
}

/// One pull and the registry's paging alone right after it.
struct PullRound {
    pulled: usize,
    pull: Duration,
    http_paging: Duration,
    paging: Duration,
}

fn median_ratio(rounds: &[PullRound]) -> f64 {
    let mut ratios: Vec<f64> = rounds
        .iter()
        .map(|r| r.pull.as_secs_f64() / r.paging.as_secs_f64())
        .collect();
    ratios.sort_unstable_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

/// The registry's paging alone: every page the second clinic pulls, read from its file
/// with nothing else open, no HTTP.
fn paging_alone(registry_path: &std::path::Path) -> Duration {
    let mut paging = SqliteBackend::open(registry_path).expect("reopen");
    let serpong_node = node("P3674010", "terminal").expect("node");
    settle();
    let cpu_before = thread_cpu();
    let started = Instant::now();
    let mut after = 0;
    loop {
        let page = paging.changes(&serpong_node, after, 2_000).expect("page");
        after = page.next_after;
        if !page.more {
            break;
        }
    }
    let elapsed = started.elapsed();
    // How much of it the processor took: the rest is waiting, for the disk.
    let cpu = thread_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    eprintln!(
        "paging alone {} ({} of it on the processor)",
        secs(elapsed),
        cpu.map_or("unknown".into(), secs)
    );
    elapsed
}

/// The processor time this thread has taken so far (Linux).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// The processor time this process has taken so far, in clock ticks of 10 ms (Linux).
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command's name (in parentheses): state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn median(times: impl Iterator<Item = Duration>) -> Duration {
    let mut times: Vec<Duration> = times.collect();
    times.sort_unstable();
    times[times.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn main() {
    let small = std::env::args().any(|a| a == "--small");
    // Only the drain and the pull, for working on the pull.
    let pull_only = std::env::args().any(|a| a == "--pull-only");
    // Only PostgreSQL's ingest on one connection, for working on it.
    let postgres_only = std::env::args().any(|a| a == "--postgres-only");
    // Only the pull, through a slow link (best with `--small`): `--slow-link` is a mobile
    // connection (50 ms each way), `--slow-link=300` a satellite one.
    let slow_link = std::env::args().find_map(|a| match a.strip_prefix("--slow-link") {
        Some("") => Some(50),
        Some(ms) => ms.strip_prefix('=')?.parse().ok(),
        None => None,
    });
    let visits = if small { 10_000 } else { 100_000 };
    let dir = tempfile::tempdir().expect("temp dir");
    // `--log`: the registry's log at info, written to a file, as `registry serve` writes it.
    let _flushed = std::env::args().any(|a| a == "--log").then(|| {
        let (writer, guard) = tracing_appender::non_blocking(tracing_appender::rolling::never(
            dir.path(),
            "registry.log",
        ));
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_writer(writer)
            .with_ansi(false)
            .init();
        println!("Logging at info to a file.");
        guard
    });

    let started = Instant::now();
    let (mut pamulang, admin, clock) = clinic(dir.path(), "P3674060");
    fill(&mut pamulang, &admin, &clock, visits);
    let fill_time = started.elapsed();
    let all = records(&pamulang);
    let patients = all.iter().filter(|r| r.kind == Kind::Patient).count();
    if postgres_only {
        postgres_alone(&all);
        return;
    }

    // 1. The drain, over HTTP on loopback, into the SQLite registry.
    let registry_path = dir.path().join("registry.sqlite");
    let mut backend = SqliteBackend::open(&registry_path).expect("registry");
    let token_a = enroll(&mut backend, "P3674060");
    let token_b = enroll(&mut backend, "P3674010");
    let registry = RunningRegistry::start(Box::new(backend));
    let syncer = Syncer::new(SyncConfig::new(&registry.url(), &token_a)).expect("syncer");
    settle();
    let started = Instant::now();
    let report = syncer.round(&mut pamulang).expect("drain");
    let drain = started.elapsed();
    assert_eq!(report.sent, all.len());

    // 2. Pull: a second Puskesmas whose desk has seen every one of these patients.
    {
        let conn = rusqlite::Connection::open(&registry_path).expect("registry file");
        conn.execute(
            "INSERT INTO patient_seen (node, patient_number) SELECT 'P3674010', patient_number FROM patient",
            [],
        )
        .expect("seen");
    }
    // A Puskesmas on a slow connection: the same pulls through a link of its speed.
    if let Some(ms) = slow_link {
        let link = SlowLink::start(registry.addr(), Duration::from_millis(ms));
        let pulls: Vec<(usize, Duration, Duration)> = (0..PULLS)
            .map(|round| {
                pull_once(
                    &dir.path().join(format!("pull-{round}")),
                    &link.url(),
                    &token_b,
                )
            })
            .collect();
        println!(
            "pull {} changes through {}: {} (HTTP + apply); the pages over the link, one after another, not applied: {}",
            pulls[0].0,
            link.describe(),
            secs(median(pulls.iter().map(|p| p.1))),
            secs(median(pulls.iter().map(|p| p.2)))
        );
        return;
    }
    drop(registry);
    // Each round serves the registry's file afresh for a pull, then pages it alone right
    // after, also afresh: both halves of a ratio start from the same empty page cache
    // and meet this shared machine in the same mood. (The paging alone once ran three
    // times on one connection, the last two on pages the first had left in its cache.)
    let rounds: Vec<PullRound> = (0..PULLS)
        .map(|round| {
            let registry = RunningRegistry::start(Box::new(
                SqliteBackend::open(&registry_path).expect("registry"),
            ));
            let (pulled, pull, http_paging) = pull_once(
                &dir.path().join(format!("pull-{round}")),
                &registry.url(),
                &token_b,
            );
            drop(registry);
            PullRound {
                pulled,
                pull,
                http_paging,
                paging: paging_alone(&registry_path),
            }
        })
        .collect();
    let pulled = rounds[0].pulled;
    let pull = median(rounds.iter().map(|r| r.pull));
    let http_paging = median(rounds.iter().map(|r| r.http_paging));
    let paging_time = median(rounds.iter().map(|r| r.paging));
    let ratio = median_ratio(&rounds);

    if pull_only {
        println!(
            "drain {} records over HTTP: {}; pull {pulled} changes: {} (HTTP + apply); registry paging {}; pages over HTTP {}; pull / paging {ratio:.2} (median of the rounds' ratios)",
            all.len(),
            secs(drain),
            secs(pull),
            secs(paging_time),
            secs(http_paging)
        );
        return;
    }

    // 3. Ingest without HTTP, per backend, beside the bare insert of the same rows.
    let pamulang_node = node("P3674060", "terminal,issuer").expect("node");
    let checked = validated(&pamulang_node, &all);
    let mut fresh = SqliteBackend::open(&dir.path().join("ingest.sqlite")).expect("ingest db");
    let sqlite_rate = ingest(&mut fresh, &pamulang_node, &checked);
    let sqlite_bare = bare_sqlite(&dir.path().join("bare.sqlite"), &checked);
    let server = TestPostgres::start();
    let url = server.new_database("ingest");
    let mut pg = PostgresBackend::connect(&url).expect("postgres");
    let pg_rate = ingest(&mut pg, &pamulang_node, &checked);
    let pg_bare = bare_copy(&server.new_database("bare"), &checked, 1);
    let url2 = server.new_database("ingest2");
    let pair: Vec<Box<dyn Backend>> = (0..2)
        .map(|_| Box::new(PostgresBackend::connect(&url2).expect("postgres")) as Box<dyn Backend>)
        .collect();
    let pg_pair = ingest_parallel(pair, &pamulang_node, &checked);
    let pg_pair_bare = bare_copy(&server.new_database("bare2"), &checked, 2);
    // As many as the registry's pool opens: what it takes in while several nodes push.
    let url4 = server.new_database("ingest4");
    let pool: Vec<Box<dyn Backend>> = (0..4)
        .map(|_| Box::new(PostgresBackend::connect(&url4).expect("postgres")) as Box<dyn Backend>)
        .collect();
    let pg_pool = ingest_parallel(pool, &pamulang_node, &checked);

    println!("| measure | Kartika | bare limit, same run | target |");
    println!("|---|---|---|---|");
    println!(
        "| drain {visits} visits (+{patients} patients) over loopback, SQLite registry | {} | — | < 5 s (never > 20 s) |",
        secs(drain)
    );
    println!(
        "| request bytes per visit (gzip bodies, {} requests) | {:.0} B | — | < 300 B |",
        all.len().div_ceil(BATCH),
        report.bytes_sent as f64 / visits as f64
    );
    println!(
        "| registry ingest, SQLite (batches of {BATCH}) | {sqlite_rate:.0} records/s | {sqlite_bare:.0} rows/s (INSERT, same rows, same commits) | 50,000/s |"
    );
    println!(
        "| registry ingest, PostgreSQL (batches of {BATCH}) | {pg_rate:.0} records/s | {pg_bare:.0} rows/s (COPY, same rows, same commits) | 50,000/s |"
    );
    println!(
        "| registry ingest, PostgreSQL, two connections side by side | {pg_pair:.0} records/s | {pg_pair_bare:.0} rows/s (two COPY streams) | 50,000/s |"
    );
    println!(
        "| registry ingest, PostgreSQL, four connections (the registry's pool) | {pg_pool:.0} records/s | — | 50,000/s |"
    );
    println!(
        "| pull {pulled} changes into a second clinic (HTTP + apply; median of {PULLS} rounds) | {} ({ratio:.2} × the paging, the median of the rounds' ratios) | {} (the registry's paging alone, no HTTP, right after each pull); {} (the same pages over HTTP, parsed, not applied) | at most twice the paging |",
        secs(pull),
        secs(paging_time),
        secs(http_paging)
    );
    println!(
        "\nsetup: {patients} patients and {visits} visits registered through the store in {}",
        secs(fill_time)
    );
}

/// A slow connection between a Puskesmas and the registry: `latency` each way and
/// `BYTES_PER_SECOND` in each direction, shared by all connections across it, as one
/// link is. Each chunk read is delivered once the chunks before it in its direction have
/// gone through at the link's speed, and the latency has passed.
struct SlowLink {
    addr: std::net::SocketAddr,
    latency: Duration,
}

impl SlowLink {
    const BYTES_PER_SECOND: f64 = 1_000_000.0;

    fn start(registry: std::net::SocketAddr, latency: Duration) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("link port");
        let addr = listener.local_addr().expect("link address");
        // When each direction is free again.
        let up = Arc::new(std::sync::Mutex::new(Instant::now()));
        let down = Arc::new(std::sync::Mutex::new(Instant::now()));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = std::net::TcpStream::connect(registry) else {
                    continue;
                };
                let (client_out, server_out) = (
                    client.try_clone().expect("client socket"),
                    server.try_clone().expect("server socket"),
                );
                let (up, down) = (Arc::clone(&up), Arc::clone(&down));
                std::thread::spawn(move || carry(client, server_out, &up, latency));
                std::thread::spawn(move || carry(server, client_out, &down, latency));
            }
        });
        Self { addr, latency }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn describe(&self) -> String {
        format!(
            "a link of {} ms each way and {} MB/s",
            self.latency.as_millis(),
            Self::BYTES_PER_SECOND / 1e6
        )
    }
}

/// Carries one direction of a connection across the link.
fn carry(
    mut from: std::net::TcpStream,
    mut into: std::net::TcpStream,
    free_at: &std::sync::Mutex<Instant>,
    latency: Duration,
) {
    use std::io::{Read, Write};
    let (read_in, read) = std::sync::mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        let mut buffer = vec![0; 16 * 1024];
        while let Ok(n) = from.read(&mut buffer) {
            if n == 0
                || read_in
                    .send((Instant::now(), buffer[..n].to_vec()))
                    .is_err()
            {
                break;
            }
        }
    });
    for (read_at, chunk) in read {
        let sent = {
            let mut free_at = free_at.lock().expect("link");
            let start = read_at.max(*free_at);
            *free_at =
                start + Duration::from_secs_f64(chunk.len() as f64 / SlowLink::BYTES_PER_SECOND);
            *free_at
        };
        // The link is modelled in time, so the benchmark waits as the bytes would.
        std::thread::sleep((sent + latency).saturating_duration_since(Instant::now()));
        if into.write_all(&chunk).is_err() {
            break;
        }
    }
    let _ = into.shutdown(std::net::Shutdown::Write);
}
