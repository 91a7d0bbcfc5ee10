//! `Syncer::run` against a registry that is down: it waits longer after each failure,
//! within its jitter, and goes back to its normal pace after a success.

use std::sync::mpsc;
use std::time::Duration;

use kartika_sync::{backoff, Progress};

use crate::support::{registry, syncer, Clinic, DeadThenAlive};

#[test]
fn the_wait_after_a_failure_doubles_within_its_jitter_up_to_five_minutes() {
    for failures in 1..=12u32 {
        let ceiling = Duration::from_secs(1 << failures.min(20)).min(Duration::from_secs(300));
        for _ in 0..200 {
            let wait = backoff(failures);
            assert!(
                wait >= ceiling / 2 && wait <= ceiling,
                "{failures}: {wait:?}"
            );
        }
    }
    assert!(backoff(u32::MAX) <= Duration::from_secs(300));
}

#[test]
fn run_backs_off_while_the_registry_is_down_and_resets_after_it_answers() {
    let (registry, tokens, _dir) = registry(&["P3674060"]);
    let mut clinic = Clinic::new("P3674060", "Puskesmas Pamulang");
    clinic.patient("Siti Rahayu");
    // Each request is sent once more on a dropped connection: two rounds, two each.
    let down_twice = DeadThenAlive::start(registry.addr(), 4);
    let (seen, progress) = mpsc::channel::<Progress>();
    let syncer = syncer(&down_twice.url, &tokens[0]).observe(move |p| {
        let _ = seen.send(p.clone());
    });
    let (stop, stopped) = mpsc::channel::<()>();
    let running = std::thread::spawn(move || {
        syncer.run(&mut clinic.store, Duration::from_secs(3600), &stopped);
        clinic
    });

    // Each change of the announced wait, in order, until one round succeeds.
    let mut waits: Vec<Option<Duration>> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let p = progress
            .recv_timeout(left)
            .expect("the syncer reports its progress");
        if !p.running && waits.last() != Some(&p.retry_in) {
            waits.push(p.retry_in);
            errors.extend(p.last_error.clone());
        }
        if waits.len() >= 2 && p.retry_in.is_none() && p.last_error.is_none() && !p.running {
            break;
        }
    }
    drop(stop);
    let clinic = running.join().unwrap();
    let failed: Vec<Duration> = waits.iter().flatten().copied().collect();
    assert_eq!(failed.len(), 2, "{waits:?}: {errors:?}");
    for (k, wait) in (0u32..).zip(&failed) {
        let ceiling = Duration::from_secs(2 << k);
        assert!(
            *wait >= ceiling / 2 && *wait <= ceiling,
            "wait {k}: {wait:?} of {waits:?}"
        );
    }
    assert_eq!(
        waits.last(),
        Some(&None),
        "after a success, no backoff is announced"
    );
    assert_eq!(
        clinic.store.sync_health().unwrap().pending,
        0,
        "then it got through"
    );
}
