//! Tap reads through the real PC/SC stack.

use std::time::{Duration, Instant};

use kartika_card::{CardError, CardSession, TransportError};
use kartika_reader::ReaderContext;
use kartika_testkit::fixtures::{challenge, issued_card, sample_identity, today, Pki};
use kartika_testkit::pcsc::{exclusive, reader_name, InsertOptions, InsertedCard};
use kartika_vcard::{CardOptions, LinkModel};

#[test]
fn a_genuine_card_reads_and_verifies_through_pcscd() {
    let _pcsc = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.json");
    let pki = Pki::new();
    drop(issued_card(
        &path,
        &pki,
        &sample_identity(),
        CardOptions::default(),
    ));
    let inserted = InsertedCard::insert(&path, 0, InsertOptions::default());

    let context = ReaderContext::establish().unwrap();
    let mut card = context.connect(&reader_name(0)).unwrap();
    assert_eq!(card.atr().unwrap(), kartika_card::ATR);
    let reading = card
        .with_transaction(|transport| {
            let mut session = CardSession::new(transport);
            let reading = session.verify_card(&pki.trust(), today(), &challenge())?;
            assert_eq!(session.counters().apdus, 4, "a tap read is four APDUs");
            Ok(reading)
        })
        .unwrap();
    assert!(reading.verdict.is_genuine(), "{:?}", reading.verdict);
    assert_eq!(reading.identity, sample_identity());
    drop(inserted);
}

#[test]
fn a_card_pulled_mid_read_fails_within_a_second_with_a_clear_error() {
    let _pcsc = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.json");
    let pki = Pki::new();
    drop(issued_card(
        &path,
        &pki,
        &sample_identity(),
        CardOptions::default(),
    ));
    let options = InsertOptions {
        link: Some(LinkModel { baud: 9600 }),
        pull_after_apdus: Some(3),
        ..Default::default()
    };
    let inserted = InsertedCard::insert(&path, 0, options);

    let context = ReaderContext::establish().unwrap();
    let mut card = context.connect(&reader_name(0)).unwrap();
    let started = Instant::now();
    let error = card
        .with_transaction(|transport| {
            CardSession::new(transport).verify_card(&pki.trust(), today(), &challenge())
        })
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(1),
        "the error took {elapsed:?}"
    );
    assert!(
        matches!(
            error,
            CardError::Transport(TransportError::CardRemoved | TransportError::CommunicationFailed)
        ),
        "unexpected error: {error:?}"
    );
    assert!(error.to_string().contains("tap it again"), "{error}");
    drop(inserted);
}
