//! The poli's costs on the UI thread, measured on the real app driven by egui_kittest over
//! a clinic store where one patient has a long history:
//!
//! - a frame with the history table of 10,000 visits on screen, beside an empty window's
//!   frame (both include egui's layout, AccessKit's tree, which kittest always builds, and
//!   tessellation);
//! - opening a patient with 1,000 visits (F2 until the frame that draws the visit), beside
//!   the store's history query alone;
//! - one keystroke in the ICD-10 search (the search and the frame that shows it), beside
//!   the list filter alone.
//!
//! `cargo bench -p kartika-app --bench poli`

use std::path::Path;
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use kartika_app::{AppConfig, KartikaApp};
use kartika_card::crypto::TrustAnchors;
use kartika_store::generate::GenerateOptions;
use kartika_store::{
    Care, FacilityProfile, NewStaff, NewVisit, Payer, Role, Store, SystemClock, TimeZone,
};

const NURSE: (&str, &str) = ("perawat", "perawat-bench");

fn main() {
    let empty = empty_window_frame();
    println!("empty window frame: median {}", ms(empty));
    for visits in [1_000u32, 10_000] {
        measure(visits);
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// A frame of a window with nothing in it, drawn the same way.
fn empty_window_frame() -> Duration {
    let mut harness = Harness::builder()
        .with_size([1280.0, 900.0])
        .build_ui(|ui| {
            ui.label("");
        });
    median((0..300).map(|_| timed_frame(&mut harness)).collect())
}

/// One frame: egui's pass (with AccessKit) and tessellation, as eframe would paint it.
fn timed_frame<S>(harness: &mut Harness<'_, S>) -> Duration {
    let started = Instant::now();
    harness.step();
    let shapes = harness.output().shapes.clone();
    let ppp = harness.output().pixels_per_point;
    std::hint::black_box(harness.ctx.tessellate(shapes, ppp));
    started.elapsed()
}

/// A store whose one patient has `visits` visits, and one more waiting today.
fn clinic(dir: &Path, visits: u32) -> (std::path::PathBuf, String, Duration) {
    let path = dir.join("clinic.sqlite");
    let mut store = Store::create(
        &path,
        &FacilityProfile {
            code: "P3674060".into(),
            name: "Puskesmas Pamulang".into(),
            region_code: Some("36.74.06".into()),
            zone: TimeZone::Wib,
        },
    )
    .expect("store");
    let staff = |username: &str, role, password: &str| NewStaff {
        username: username.into(),
        display_name: username.into(),
        role,
        password: password.into(),
    };
    store
        .add_first_admin(&staff("admin", Role::Admin, "admin-bench"))
        .expect("admin");
    let admin = store.login("admin", "admin-bench").expect("login");
    store
        .add_staff(&admin, &staff(NURSE.0, Role::Nurse, NURSE.1))
        .expect("nurse");
    store
        .generate(&GenerateOptions {
            patients: 1,
            visits,
            days: 3650,
            seed: 7,
            until: None,
        })
        .expect("history");
    let yesterday = store.today() - time::Duration::days(1);
    let iso = kartika_card::model::format_iso_date;
    let patient_number = (1..3650)
        .find_map(|back| {
            let day = iso(yesterday - time::Duration::days(back - 1));
            let entries = store.visits_on(&admin, Some(&day)).ok()?;
            entries.first().map(|e| e.patient_number.clone())
        })
        .expect("the patient");
    store
        .register_visit(
            &admin,
            &NewVisit {
                patient_number: patient_number.clone(),
                unit_code: "general".into(),
                payer: Payer::General,
                care: Care::Sick,
                complaint: None,
            },
        )
        .expect("today's visit");
    // The baseline: the store's history query alone, the median of a few.
    let bare = median(
        (0..7)
            .map(|_| {
                let started = Instant::now();
                std::hint::black_box(
                    store
                        .patient_history(&admin, &patient_number)
                        .expect("history"),
                );
                started.elapsed()
            })
            .collect(),
    );
    (path, patient_number, bare)
}

fn measure(visits: u32) {
    let dir = tempfile::tempdir().expect("folder");
    let (path, _, bare_history) = clinic(dir.path(), visits);
    let (hook, woken) = mpsc::channel();
    let config = AppConfig {
        store_path: path,
        output_dir: dir.path().to_owned(),
        trust: TrustAnchors::new(Vec::new()),
        pcsc: false,
        sync: None,
        server: None,
        demo: None,
        terminal: None,
        clock: Arc::new(SystemClock),
        wake_hook: Some(hook),
        report_timings: None,
    };
    let mut harness = Harness::builder()
        .with_size([1280.0, 900.0])
        .build_eframe(move |cc| KartikaApp::new(cc, config));
    until(&mut harness, &woken, |h| {
        h.query_by_label("Nama pengguna").is_some()
    });
    type_into(&mut harness, "Nama pengguna", NURSE.0);
    type_into(&mut harness, "Kata sandi", NURSE.1);
    harness.get_by_label("Masuk").click();
    until(&mut harness, &woken, |h| {
        !h.state().state().poli.queue.is_empty()
    });

    // Opening: F2 until the frame that draws the visit.
    let started = Instant::now();
    harness.key_press(egui::Key::F2);
    until(&mut harness, &woken, |h| {
        h.state().state().poli.open.is_some()
    });
    let opened = started.elapsed();
    let rows = harness
        .state()
        .state()
        .poli
        .open
        .as_ref()
        .map_or(0, |o| o.rows.len());
    println!(
        "{visits} visits: open the patient until drawn {} ({rows} rows); store history query alone {}",
        ms(opened),
        ms(bare_history)
    );

    // A keystroke in the ICD-10 search, on the examination tab.
    let field = "Cari diagnosa (kode atau kata), Enter menambahkan";
    harness.get_by_label(field).focus();
    harness.run_ok();
    // A rare disease in WHO's words: past its first letters the filter scans the whole
    // list, both titles of every code; then a staff word, which the short list answers
    // first.
    for typed in ["leptospirosis", "kencing manis"] {
        let mut keystrokes = Vec::new();
        let mut bare = Vec::new();
        for _round in 0..5 {
            for (i, c) in typed.char_indices() {
                let started = Instant::now();
                harness.get_by_label(field).type_text(&c.to_string());
                harness.step();
                keystrokes.push(started.elapsed());
                let prefix = &typed[..i + c.len_utf8()];
                let started = Instant::now();
                std::hint::black_box(kartika_store::icd10::search(prefix, 8));
                bare.push(started.elapsed());
            }
            // Clear the field for the next round.
            for _ in 0..typed.chars().count() {
                harness.key_press(egui::Key::Backspace);
            }
            harness.run_ok();
        }
        println!(
            "{visits} visits: ICD-10 keystroke to frame (\"{typed}\") median {}; list filter alone median {}",
            ms(median(keystrokes)),
            ms(median(bare))
        );
    }

    // The history table on screen.
    harness.get_by_label("Riwayat").click();
    harness.run_ok();
    let frames: Vec<Duration> = (0..300).map(|_| timed_frame(&mut harness)).collect();
    println!(
        "{visits} visits: frame with the history table median {}",
        ms(median(frames))
    );
}

fn type_into(harness: &mut Harness<'_, KartikaApp>, label: &str, text: &str) {
    let field = harness.get_by_label(label);
    field.focus();
    field.type_text(text);
    harness.run_ok();
}

/// Runs frames until `done`, waiting for the workers' wake-ups in between.
fn until(
    harness: &mut Harness<'_, KartikaApp>,
    woken: &Receiver<()>,
    done: impl Fn(&Harness<'_, KartikaApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        harness.step();
        if done(harness) {
            return;
        }
        assert!(Instant::now() < deadline, "the app did not answer");
        let _ = woken.recv_timeout(Duration::from_millis(100));
    }
}
