//! Tap-read benchmark through the real PC/SC stack (pcscd + vpcd + software card):
//! APDUs, bytes, and median time of SELECT-to-verified-identity, against the same number
//! of bare APDU round trips measured in the same run; then the same read over modelled
//! contact links. Run with `cargo bench --bench tap_read` (pcscd must be running:
//! `scripts/setup.sh`).

use std::time::{Duration, Instant};

use kartika_card::CardSession;
use kartika_reader::ReaderContext;
use kartika_testkit::fixtures::{challenge, issued_card, sample_identity, today, Pki};
use kartika_testkit::pcsc::{exclusive, reader_name, InsertOptions, InsertedCard};
use kartika_vcard::{CardOptions, LinkModel};

/// An APDU the card answers with a status word alone, at once: GET DATA of no object.
const BARE_APDU: [u8; 5] = [0x00, 0xCA, 0x00, 0x01, 0x00];

struct Stats {
    median: Duration,
    p95: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    Stats {
        median: samples[samples.len() / 2],
        p95: samples[(samples.len() * 95 / 100).min(samples.len() - 1)],
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let _pcsc = exclusive();
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("card.json");
    let pki = Pki::new();
    let trust = pki.trust();
    drop(issued_card(
        &path,
        &pki,
        &sample_identity(),
        CardOptions::default(),
    ));

    // In-process: host over the software card, no daemon.
    let mut card = kartika_vcard::VirtualCard::open(&path).expect("open card");
    let in_process: Vec<Duration> = (0..2000)
        .map(|_| {
            let started = Instant::now();
            let reading = CardSession::new(&mut card)
                .verify_card(&trust, today(), &challenge())
                .expect("read");
            assert!(reading.verdict.is_genuine());
            started.elapsed()
        })
        .collect();
    drop(card);

    let context = ReaderContext::establish().expect("pcscd");
    let mut rows = Vec::new();
    let mut apdus = 0;
    let mut bytes = (0, 0);
    for (label, link, iterations) in [
        ("vpcd, no link model", None, 2000),
        (
            "115200 baud link model",
            Some(LinkModel { baud: 115_200 }),
            40,
        ),
        ("9600 baud link model", Some(LinkModel { baud: 9_600 }), 8),
    ] {
        let inserted = InsertedCard::insert(
            &path,
            0,
            InsertOptions {
                link,
                ..Default::default()
            },
        );
        let mut reader_card = context.connect(&reader_name(0)).expect("connect");
        let mut tap = Vec::with_capacity(iterations);
        let mut bare = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let started = Instant::now();
            let (reading, counters) = reader_card
                .with_transaction(|transport| {
                    let mut session = CardSession::new(transport);
                    let reading = session.verify_card(&trust, today(), &challenge())?;
                    Ok((reading, session.counters()))
                })
                .expect("tap read");
            tap.push(started.elapsed());
            assert!(reading.verdict.is_genuine());
            apdus = counters.apdus;
            bytes = (counters.bytes_sent, counters.bytes_received);

            let started = Instant::now();
            reader_card
                .with_transaction(|transport| {
                    for _ in 0..counters.apdus {
                        transport.transmit(&BARE_APDU)?;
                    }
                    Ok(())
                })
                .expect("bare APDUs");
            bare.push(started.elapsed());
        }
        drop(reader_card);
        inserted.pull();
        rows.push((label, stats(tap), stats(bare)));
    }

    let (sign, verify) = crypto_costs();
    let ring_verify = ring_verify_cost();
    let local = stats(in_process);
    println!(
        "one ECDSA P-256 verification: {} with ring (used by the host), {} with the pure-Rust p256 crate; one p256 signature {}",
        ms(ring_verify.median),
        ms(verify.median),
        ms(sign.median)
    );
    println!(
        "tap read: {apdus} APDUs, {} bytes sent, {} bytes received",
        bytes.0, bytes.1
    );
    println!(
        "in-process (no daemon): median {}, p95 {}",
        ms(local.median),
        ms(local.p95)
    );
    println!();
    println!("| path | tap read median | p95 | {apdus} bare APDUs median | ratio |");
    println!("|---|---|---|---|---|");
    for (label, tap, bare) in rows {
        println!(
            "| {label} | {} | {} | {} | {:.2} |",
            ms(tap.median),
            ms(tap.p95),
            ms(bare.median),
            tap.median.as_secs_f64() / bare.median.as_secs_f64()
        );
    }
}

/// What one ECDSA P-256 signature costs here: the floor under a tap read, which needs one
/// signature on the card and up to three verifications on the host.
fn crypto_costs() -> (Stats, Stats) {
    use p256::ecdsa::signature::{Signer, Verifier};
    let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let message = [7u8; 64];
    let mut signs = Vec::new();
    let mut verifies = Vec::new();
    for _ in 0..500 {
        let started = Instant::now();
        let signature: p256::ecdsa::Signature = key.sign(&message);
        signs.push(started.elapsed());
        let started = Instant::now();
        assert!(key.verifying_key().verify(&message, &signature).is_ok());
        verifies.push(started.elapsed());
    }
    (stats(signs), stats(verifies))
}

fn ring_verify_cost() -> Stats {
    use p256::ecdsa::signature::Signer;
    let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let message = [7u8; 64];
    let signature: p256::ecdsa::Signature = key.sign(&message);
    let der = signature.to_der();
    let public = kartika_card::crypto::PublicKey::of(&key);
    stats(
        (0..500)
            .map(|_| {
                let started = Instant::now();
                assert!(public.verifies(&message, der.as_bytes()));
                started.elapsed()
            })
            .collect(),
    )
}
