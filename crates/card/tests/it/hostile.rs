//! Cards that lie, stall, or talk nonsense: typed errors, no panic, bounded memory.

use kartika_card::apdu::Command;
use kartika_card::model::{Fci, LifeCycle};
use kartika_card::{CardError, CardSession, StatusError, StatusWord};
use kartika_testkit::fixtures::{challenge, today, Pki};
use kartika_vcard::{CardOptions, VirtualCard};
use proptest::prelude::*;

use crate::support::{hex, Scripted};

fn fci_answer() -> Vec<u8> {
    let fci = Fci {
        spec_version: 1,
        life_cycle: LifeCycle::Operational,
        extended_length: false,
        max_command_data: 255,
        max_response_data: 256,
    };
    [fci.to_tlv(), vec![0x90, 0x00]].concat()
}

#[test]
fn a_6cxx_answer_is_repeated_once_with_the_exact_le() {
    let mut card = Scripted::new([hex("6C 09"), [vec![0xAA; 9], vec![0x90, 0x00]].concat()]);
    let mut session = CardSession::new(&mut card);
    let signature = session.internal_authenticate(&[7; 32]).unwrap();
    assert_eq!(signature, vec![0xAA; 9]);
    assert_eq!(
        card.sent[1][card.sent[1].len() - 1],
        0x09,
        "resent with Le = 09"
    );
}

#[test]
fn a_card_that_keeps_saying_more_data_is_cut_off() {
    let endless = [vec![0x55; 256], vec![0x61, 0x00]].concat();
    let mut card = Scripted::new(std::iter::repeat_n(endless, 1000));
    let error = CardSession::new(&mut card)
        .internal_authenticate(&[1; 32])
        .unwrap_err();
    assert!(matches!(error, CardError::Malformed { .. }), "{error:?}");
    assert!(
        card.sent.len() < 100,
        "gave up after {} APDUs",
        card.sent.len()
    );
}

#[test]
fn a_foreign_card_is_told_apart() {
    let mut card = Scripted::new([hex("6A 82")]);
    let error = CardSession::new(&mut card).select().unwrap_err();
    assert!(
        error.to_string().contains("not a Kartika patient card"),
        "{error}"
    );
}

#[test]
fn unknown_status_words_and_truncated_objects_become_typed_errors() {
    let mut card = Scripted::new([fci_answer(), hex("6F 00")]);
    let mut session = CardSession::new(&mut card);
    session.select().unwrap();
    assert!(matches!(
        session.read_identity(),
        Err(CardError::Status {
            status: StatusError::Unknown(StatusWord(0x6F00)),
            ..
        })
    ));

    let truncated = [hex("FF 20 81 C0 DF 01 10 36 30"), vec![0x90, 0x00]].concat();
    let absurd = [hex("FF 20 84 FF FF FF FF DF 01"), vec![0x90, 0x00]].concat();
    for answer in [truncated, absurd, hex("90"), Vec::new()] {
        let mut card = Scripted::new([fci_answer(), answer.clone()]);
        let mut session = CardSession::new(&mut card);
        session.select().unwrap();
        let error = session.read_identity().unwrap_err();
        assert!(
            matches!(error, CardError::Malformed { .. }),
            "{answer:02X?} gave {error:?}"
        );
    }
}

#[test]
fn deeply_nested_templates_do_not_exhaust_the_stack() {
    let nested: Vec<u8> = std::iter::repeat_n([0xE0u8, 0x01], 1024)
        .flatten()
        .collect();
    assert!(kartika_card::model::Identity::from_tlv(&nested).is_err());
}

proptest! {
    #[test]
    fn random_answers_never_panic_the_tap_read(
        answers in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8),
        good_select in any::<bool>(),
    ) {
        let mut script = Vec::new();
        if good_select {
            script.push(fci_answer());
        }
        script.extend(answers);
        let mut card = Scripted::new(script);
        let pki = Pki::new();
        let reading = CardSession::new(&mut card).verify_card(&pki.trust(), today(), &challenge());
        // Whatever a hostile card answers, it is never taken as genuine.
        if let Ok(reading) = reading {
            prop_assert!(!reading.verdict.is_genuine(), "{:?}", reading.verdict);
        }
    }

    #[test]
    fn the_software_card_never_panics_on_arbitrary_apdus(
        apdus in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..80), 1..20),
        select_first in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut card = VirtualCard::create(&dir.path().join("c"), CardOptions::default()).unwrap();
        if select_first {
            let select = Command::new(0, 0xA4, 4, 0).with_data(kartika_card::AID).with_le(256);
            card.process(&select.encode(select.needed_encoding()).unwrap());
        }
        for apdu in apdus {
            let response = card.process(&apdu);
            prop_assert!(response.len() >= 2);
        }
    }
}
