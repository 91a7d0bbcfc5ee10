//! Issuing a card through the real PC/SC stack (pcscd + vpcd + software card): time,
//! APDUs and bytes of personalizing a blank card (key generation on the card, identity,
//! the issuer's signature, the registry key, the first PIN, activation), against the same
//! number of bare APDU round trips on the same card in the same run; and the same
//! personalization in-process, without the daemon. Run with `cargo bench --bench
//! issue_card` (pcscd must be running: `scripts/setup.sh`).

use std::time::{Duration, Instant};

use kartika_card::{CardSession, IssueRequest};
use kartika_reader::ReaderContext;
use kartika_testkit::fixtures::{blank_card, pin, sample_identity, Pki};
use kartika_testkit::pcsc::{exclusive, reader_name, InsertOptions, InsertedCard};
use kartika_vcard::CardOptions;

/// An APDU the card answers with a status word alone, at once: GET DATA of no object.
const BARE_APDU: [u8; 5] = [0x00, 0xCA, 0x00, 0x01, 0x00];
const ROUNDS: usize = 40;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let _pcsc = exclusive();
    let dir = tempfile::tempdir().expect("temporary folder");
    let pki = Pki::new();
    let identity = sample_identity();
    let pin = pin();
    let request = IssueRequest {
        identity: &identity,
        pin: &pin,
        issuer: &pki.node,
        root: &pki.root,
    };

    let in_process: Vec<Duration> = (0..ROUNDS)
        .map(|i| {
            let mut card = blank_card(
                &dir.path().join(format!("local-{i}.json")),
                CardOptions::default(),
            );
            let started = Instant::now();
            CardSession::new(&mut card)
                .personalize(&request)
                .expect("issue");
            started.elapsed()
        })
        .collect();

    let context = ReaderContext::establish().expect("pcscd");
    let (mut issue, mut bare) = (Vec::new(), Vec::new());
    let mut traffic = None;
    for i in 0..ROUNDS {
        let path = dir.path().join(format!("vpcd-{i}.json"));
        drop(blank_card(&path, CardOptions::default()));
        let inserted = InsertedCard::insert(&path, 0, InsertOptions::default());
        let mut reader_card = context.connect(&reader_name(0)).expect("connect");
        let started = Instant::now();
        let counters = reader_card
            .with_transaction(|transport| {
                let mut session = CardSession::new(transport);
                session.personalize(&request)?;
                Ok(session.counters())
            })
            .expect("issue through pcscd");
        issue.push(started.elapsed());
        traffic = Some(counters);
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
        drop(reader_card);
        inserted.pull();
    }
    let traffic = traffic.expect("at least one round");
    let (issue, bare) = (median(issue), median(bare));
    println!(
        "personalization: {} APDUs, {} bytes sent, {} bytes received",
        traffic.apdus, traffic.bytes_sent, traffic.bytes_received
    );
    println!("through pcscd and vpcd, median of {ROUNDS}: {}", ms(issue));
    println!(
        "{} bare APDUs, same card, same run: {}",
        traffic.apdus,
        ms(bare)
    );
    println!("ratio {:.2}", issue.as_secs_f64() / bare.as_secs_f64());
    println!("in-process (no daemon), median: {}", ms(median(in_process)));
}
