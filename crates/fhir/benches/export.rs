//! Exporting a FHIR transaction Bundle of 10,000 encounters with their conditions and
//! observations, beside a plain serde serialization of the same records in the same run.
//! Run: `cargo bench -p kartika-fhir --bench export`. Prints a Markdown table.

use std::time::{Duration, Instant};

use kartika_store::generate::GenerateOptions;
use kartika_store::{ExportSelection, FacilityProfile, NewStaff, Role, Store, TimeZone};

const ROUNDS: usize = 5;

fn median(mut run: impl FnMut() -> usize) -> (Duration, usize) {
    let mut size = 0;
    let mut samples: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            size = run();
            start.elapsed()
        })
        .collect();
    samples.sort_unstable();
    (samples[ROUNDS / 2], size)
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = FacilityProfile {
        code: "P3674060".into(),
        name: "Puskesmas Pamulang".into(),
        region_code: Some("36.74.06".into()),
        zone: TimeZone::Wib,
    };
    let mut store = Store::create(&dir.path().join("c.sqlite"), &profile).expect("create");
    store
        .add_first_admin(&NewStaff {
            username: "admin".into(),
            display_name: "Admin".into(),
            role: Role::Admin,
            password: "bench-password".into(),
        })
        .expect("admin");
    let admin = store.login("admin", "bench-password").expect("login");
    store
        .generate(&GenerateOptions {
            patients: 4_000,
            visits: 10_300,
            days: 60,
            seed: 3,
            until: None,
        })
        .expect("generate");
    let since = ExportSelection::Since("2000-01-01".into());
    let records = store.export_records(&admin, &since).expect("records");
    let encounters: usize = records.patients.iter().map(|p| p.visits.len()).sum();

    let (read, _) = median(|| {
        store
            .export_records(&admin, &since)
            .expect("records")
            .patients
            .len()
    });
    let (fhir, fhir_bytes) = median(|| {
        let mut bytes = Vec::new();
        records.write_fhir_bundle(&mut bytes).expect("bundle");
        bytes.len()
    });
    let (plain, plain_bytes) = median(|| serde_json::to_vec(&records).expect("json").len());
    let mut bytes = Vec::new();
    records.write_fhir_bundle(&mut bytes).expect("bundle");
    let bundle: serde_json::Value = serde_json::from_slice(&bytes).expect("the Bundle is JSON");
    let count = |kind: &str| {
        bundle["entry"].as_array().map_or(0, |e| {
            e.iter()
                .filter(|x| x["resource"]["resourceType"] == kind)
                .count()
        })
    };
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
    let mb = |b: usize| format!("{:.1} MB", b as f64 / 1e6);
    println!(
        "{encounters} encounters, {} conditions, {} observations, {} patients",
        count("Condition"),
        count("Observation"),
        count("Patient")
    );
    println!();
    println!("| step (median of {ROUNDS}) | time | size |");
    println!("|---|---|---|");
    println!("| the store's export read | {} | — |", ms(read));
    println!(
        "| FHIR transaction Bundle, mapped and serialized | {} | {} |",
        ms(fhir),
        mb(fhir_bytes)
    );
    println!(
        "| plain serde JSON of the same records (baseline) | {} | {} |",
        ms(plain),
        mb(plain_bytes)
    );
}
