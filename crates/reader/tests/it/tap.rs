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

/// A card issued with `options`, inserted in vpcd's first slot.
fn inserted(dir: &std::path::Path, pki: &Pki, options: CardOptions) -> InsertedCard {
    let path = dir.join("card.json");
    drop(issued_card(&path, pki, &sample_identity(), options));
    InsertedCard::insert(&path, 0, InsertOptions::default())
}

#[test]
fn a_card_reset_by_another_program_is_reconnected_and_read_again_from_select() {
    let _pcsc = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let inserted = inserted(dir.path(), &pki, CardOptions::default());
    let context = ReaderContext::establish().unwrap();
    let mut card = context.connect(&reader_name(0)).unwrap();
    let mut selects = 0;
    let mut read = |card: &mut kartika_reader::ReaderCard| {
        card.with_transaction(|transport| {
            selects += 1;
            CardSession::new(transport).verify_card(&pki.trust(), today(), &challenge())
        })
    };
    assert!(read(&mut card).unwrap().verdict.is_genuine());

    // Another program on this PC (a browser's smart-card module, say) resets the card
    // between two of our transactions; the card forgets our session.
    let other = pcsc::Context::establish(pcsc::Scope::User).unwrap();
    let name = std::ffi::CString::new(reader_name(0)).unwrap();
    let intruder = other
        .connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
        .unwrap();
    intruder
        .disconnect(pcsc::Disposition::ResetCard)
        .map_err(|(_, e)| e)
        .unwrap();

    let reading = read(&mut card).expect("read again after reconnecting");
    assert!(reading.verdict.is_genuine(), "{:?}", reading.verdict);
    assert!(selects >= 2, "the read began again from SELECT");
    drop(inserted);
}

#[test]
fn a_card_spoken_to_in_t0_with_short_apdus_reads_through_pcscd() {
    let _pcsc = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    // Short APDUs only: every long answer comes in pieces through GET RESPONSE (61xx).
    let inserted = inserted(
        dir.path(),
        &pki,
        CardOptions {
            short_apdu_only: true,
        },
    );
    let context = pcsc::Context::establish(pcsc::Scope::User).unwrap();
    let name = std::ffi::CString::new(reader_name(0)).unwrap();
    let card = context
        .connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::T0)
        .unwrap();
    let mut names = [0u8; 256];
    let mut atr = [0u8; pcsc::MAX_ATR_SIZE];
    let status = card.status2(&mut names, &mut atr).unwrap();
    assert_eq!(status.protocol2(), Some(pcsc::Protocol::T0));

    struct T0(pcsc::Card);
    impl kartika_card::Transport for T0 {
        fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
            let mut buffer = [0u8; pcsc::MAX_BUFFER_SIZE];
            self.0
                .transmit(command, &mut buffer)
                .map(<[u8]>::to_vec)
                .map_err(|_| TransportError::CommunicationFailed)
        }
    }
    let mut transport = T0(card);
    let mut session = CardSession::new(&mut transport);
    let reading = session
        .verify_card(&pki.trust(), today(), &challenge())
        .unwrap();
    assert!(reading.verdict.is_genuine(), "{:?}", reading.verdict);
    assert!(
        session.counters().apdus > 4,
        "the long answers came through GET RESPONSE"
    );
    drop(inserted);
}
