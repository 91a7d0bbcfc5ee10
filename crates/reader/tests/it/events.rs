//! The monitor thread against a real pcscd: cards coming and going, pcscd restarting.

use std::time::{Duration, Instant};

use kartika_reader::{Monitor, ReaderEvent};
use kartika_testkit::fixtures::blank_card;
use kartika_testkit::pcsc::{
    ensure_pcscd, exclusive, reader_name, start_pcscd, stop_pcscd, InsertOptions, InsertedCard,
};
use kartika_vcard::CardOptions;

/// Waits for the first event that `wanted` accepts; fails with every event seen otherwise.
fn expect_event(monitor: &Monitor, what: &str, wanted: impl Fn(&ReaderEvent) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match monitor.events().recv_timeout(left) {
            Ok(event) if wanted(&event) => return,
            Ok(event) => seen.push(event),
            Err(_) => break,
        }
    }
    panic!("no {what} event; saw {seen:?}");
}

#[test]
fn the_monitor_reports_a_card_inserted_and_removed() {
    let _pcsc = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card");
    drop(blank_card(&path, CardOptions::default()));
    let reader = reader_name(0);
    let monitor = Monitor::start();
    expect_event(&monitor, "reader added", |e| {
        *e == ReaderEvent::ReaderAdded(reader.clone())
    });

    let inserted = InsertedCard::insert(&path, 0, InsertOptions::default());
    expect_event(
        &monitor,
        "card inserted",
        |e| matches!(e, ReaderEvent::CardInserted { reader: r, atr } if *r == reader && atr[..] == kartika_card::ATR),
    );
    inserted.pull();
    expect_event(&monitor, "card removed", |e| {
        *e == ReaderEvent::CardRemoved {
            reader: reader.clone(),
        }
    });
    monitor.stop();
}

#[test]
fn the_monitor_survives_a_pcscd_restart_and_sees_the_next_card() {
    let _pcsc = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card");
    drop(blank_card(&path, CardOptions::default()));
    let reader = reader_name(0);
    let monitor = Monitor::start();
    expect_event(&monitor, "reader added", |e| {
        *e == ReaderEvent::ReaderAdded(reader.clone())
    });

    stop_pcscd();
    expect_event(&monitor, "service lost", |e| *e == ReaderEvent::ServiceLost);
    start_pcscd();
    ensure_pcscd();
    expect_event(&monitor, "service restored", |e| {
        *e == ReaderEvent::ServiceRestored
    });

    let inserted = InsertedCard::insert(&path, 0, InsertOptions::default());
    expect_event(
        &monitor,
        "card inserted after the restart",
        |e| matches!(e, ReaderEvent::CardInserted { reader: r, .. } if *r == reader),
    );
    drop(inserted);
    monitor.stop();
}
