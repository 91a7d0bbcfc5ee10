//! The pull that carries a merge across Puskesmas to another node (issue 28): Pamulang's
//! record of Dewi (1,000 visits) and Serpong's (10 visits) linked once both agreed;
//! Serpong's next round applies the link and brings Pamulang's record, which it did not
//! hold (in the change feed, or fetched after it when the feed's cursor had moved past). Beside it, in the same run: a round with nothing new, and the bare GET of the same
//! history (the registry's answer alone, nothing applied). Then a link undone and made
//! again: the rounds that carry only the link, both records held. Run:
//! `cargo bench -p kartika-sync --bench link`. Prints a Markdown table.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kartika_card::model::Sex;
use kartika_registry::sqlite::SqliteBackend;
use kartika_store::{
    Care, FacilityProfile, ManualClock, NewPatient, NewStaff, NewVisit, Payer, Role, Session,
    Store, TimeZone,
};
use kartika_sync::{MergeDecision, SyncConfig, Syncer};
use kartika_testkit::registry::{enroll, RunningRegistry};

const NIK: &str = "3674014302800002";
const SERPONGS: usize = 7;

fn clinic(dir: &std::path::Path, code: &str) -> (Store, Session, ManualClock) {
    let profile = FacilityProfile {
        code: code.into(),
        name: format!("Puskesmas {code}"),
        region_code: None,
        zone: TimeZone::Wib,
    };
    let clock = ManualClock::new(time::OffsetDateTime::now_utc() - time::Duration::days(1_100));
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

/// Dewi with `visits` visits, one a day.
fn dewi(store: &mut Store, admin: &Session, clock: &ManualClock, visits: usize) -> String {
    let number = store
        .create_patient(
            admin,
            &NewPatient {
                nik: Some(NIK.into()),
                name: "Dewi Lestari".into(),
                birth_date: "1980-02-03".into(),
                sex: Some(Sex::Female),
                ..NewPatient::default()
            },
        )
        .expect("Dewi")
        .patient
        .patient_number;
    for _ in 0..visits {
        clock.advance(time::Duration::days(1));
        store
            .register_visit(
                admin,
                &NewVisit {
                    patient_number: number.clone(),
                    unit_code: "general".into(),
                    payer: Payer::BpjsPbi,
                    care: Care::Sick,
                    complaint: Some("batuk pilek".into()),
                },
            )
            .expect("visit");
    }
    number
}

fn timed(work: impl FnOnce()) -> Duration {
    let start = Instant::now();
    work();
    start.elapsed()
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let codes: Vec<String> = std::iter::once("P3674060".to_owned())
        .chain((0..SERPONGS).map(|n| format!("P36750{}0", n + 1)))
        .collect();
    let mut backend = SqliteBackend::open(&dir.path().join("registry.sqlite")).expect("registry");
    let tokens: Vec<String> = codes.iter().map(|c| enroll(&mut backend, c)).collect();
    let registry = RunningRegistry::start(Box::new(backend));
    let link =
        |i: usize| Syncer::new(SyncConfig::new(&registry.url(), &tokens[i])).expect("syncer");

    let (mut pamulang, admin, clock) = clinic(dir.path(), &codes[0]);
    let survivor = dewi(&mut pamulang, &admin, &clock, 1_000);
    link(0).round(&mut pamulang).expect("Pamulang syncs");

    let (mut first, mut idle, mut bare, mut again) = (vec![], vec![], vec![], vec![]);
    let http = ureq::Agent::new_with_defaults();
    for i in 1..=SERPONGS {
        let (mut serpong, admin, clock) = clinic(dir.path(), &codes[i]);
        let retired = dewi(&mut serpong, &admin, &clock, 10);
        let to_serpong = link(i);
        to_serpong.round(&mut serpong).expect("Serpong syncs");
        idle.push(timed(|| {
            to_serpong.round(&mut serpong).expect("idle round");
        }));
        let proposal = link(0)
            .propose_merge(&survivor, &retired)
            .expect("proposed");
        to_serpong
            .decide_merge(&proposal.id, MergeDecision::Accept)
            .expect("accepted");
        first.push(timed(|| {
            to_serpong
                .round(&mut serpong)
                .expect("the round with the link");
        }));
        let one = serpong.patient_history(&admin, &retired).expect("history");
        assert_eq!(one.visits.len(), 1_010, "one person, one history");
        let history = format!("{}/v1/patients/{survivor}/history", registry.url());
        bare.push(timed(|| {
            let body = http
                .get(&history)
                .header("Authorization", &format!("Bearer {}", tokens[i]))
                .call()
                .expect("history")
                .body_mut()
                .read_to_string()
                .expect("body");
            assert!(body.len() > 100_000, "the whole history");
        }));
        to_serpong
            .decide_merge(&proposal.id, MergeDecision::Undo)
            .expect("undone");
        again.push(timed(|| {
            to_serpong
                .round(&mut serpong)
                .expect("the round with the undo");
        }));
        let history = serpong.patient_history(&admin, &retired).expect("history");
        assert_eq!(history.visits.len(), 10, "two records again");
    }
    println!("| measure (median of {SERPONGS}) | ms |");
    println!("|---|---|");
    println!(
        "| round that brings the link and the 1,000-visit record | {:.1} |",
        median(first)
    );
    println!(
        "| bare GET of the same history (not applied) | {:.1} |",
        median(bare)
    );
    println!(
        "| round that brings the undo (both held) | {:.1} |",
        median(again)
    );
    println!("| round with nothing new | {:.1} |", median(idle));
}
