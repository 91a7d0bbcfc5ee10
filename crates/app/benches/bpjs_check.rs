//! The desk's BPJS check, on the app's own BPJS worker against the fake BPJS on loopback
//! HTTPS: a member asked about for the first time that day (the look audited, P-Care
//! asked), and again the
//! same day (the day's answer kept), each from the ask to the answer on the UI's side;
//! beside a bare round trip through a channel to a thread and back, the least a worker's
//! answer can cost.
//!
//! `cargo bench -p kartika-app --bench bpjs_check`

use std::sync::mpsc;
use std::time::{Duration, Instant};

use eframe::egui;
use kartika_app::workers::bpjs::{BpjsLine, BpjsWorker};
use kartika_app::workers::Waker;
use kartika_bpjs::{BpjsLink, BpjsSecrets, Peserta, Secret};
use kartika_testkit::bpjs::{Consumer, FakeBpjs};

const ROUNDS: usize = 1_000;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    let dir = tempfile::tempdir().expect("a folder");
    let store = dir.path().join("clinic.sqlite");
    kartika_testkit::clinic::store_with_desks(
        &store,
        std::sync::Arc::new(kartika_store::SystemClock),
        1,
        "bench-password",
    );
    let clerk = kartika_store::Store::open(&store)
        .and_then(|mut s| s.login("desk1", "bench-password"))
        .expect("the clerk");
    let fake = FakeBpjs::start(
        Consumer {
            cons_id: "1".into(),
            secret: "s".into(),
            pcare_user_key: "k".into(),
            pcare_user: "u".into(),
            pcare_password: "p".into(),
            antrean_user_key: "a".into(),
        },
        (0..ROUNDS)
            .map(|n| Peserta {
                no_kartu: format!("{n:013}"),
                aktif: true,
                ..Peserta::default()
            })
            .collect(),
    );
    kartika_bpjs::settings::save(
        &store,
        &BpjsLink {
            pcare_url: fake.pcare_url.clone(),
            antrean_url: fake.antrean_url.clone(),
            cons_id: "1".into(),
            pcare_user: "u".into(),
            provider_code: "0114U163".into(),
        },
        &BpjsSecrets {
            secret: Secret::new("s"),
            pcare_user_key: Secret::new("k"),
            antrean_user_key: Secret::new("a"),
            pcare_password: Secret::new("p"),
        },
        Some(fake.ca_pem.as_bytes()),
    )
    .expect("set up");
    let (woken, wakes) = mpsc::channel();
    let worker = BpjsWorker::start(store, Waker::new(&egui::Context::default(), Some(woken)));
    let ask = |card: &str| {
        let at = Instant::now();
        worker.check(card, None, "2026-12-07", &clerk);
        loop {
            wakes.recv().expect("the worker answers");
            if let Some((_, line)) = worker.answers().next() {
                assert!(matches!(line, BpjsLine::Active { .. }), "{line:?}");
                return at.elapsed();
            }
        }
    };
    let first: Vec<Duration> = (0..ROUNDS / 10).map(|n| ask(&format!("{n:013}"))).collect();
    let kept: Vec<Duration> = (0..ROUNDS)
        .map(|n| ask(&format!("{:013}", n % (ROUNDS / 10))))
        .collect();

    let (to_thread, asked) = mpsc::channel::<u32>();
    let (to_ui, answered) = mpsc::channel::<u32>();
    std::thread::spawn(move || {
        for n in asked {
            if to_ui.send(n).is_err() {
                return;
            }
        }
    });
    let bare: Vec<Duration> = (0..ROUNDS as u32)
        .map(|n| {
            let at = Instant::now();
            to_thread.send(n).expect("sent");
            answered.recv().expect("answered");
            at.elapsed()
        })
        .collect();

    println!("| measure | median | baseline, same run |");
    println!("|---|---|---|");
    println!(
        "| the desk's check, first of the day (P-Care asked on loopback HTTPS), {} members | {} | |",
        ROUNDS / 10,
        us(median(first))
    );
    println!(
        "| the desk's check, the day's answer kept, {ROUNDS} asks | {} | a bare channel round trip to a thread {} |",
        us(median(kept)),
        us(median(bare))
    );
}
