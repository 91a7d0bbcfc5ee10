//! Issuing a card and the life cycle around it.

use kartika_card::model::LifeCycle;
use kartika_card::{CardError, CardSession, IssueRequest, StatusError};
use kartika_testkit::fixtures::{
    blank_card, challenge, issued_card, pin, sample_identity, today, IssuedCard, Pki,
};
use kartika_vcard::{CardOptions, VirtualCard};

use crate::support::PullAfter;

fn request<'a>(
    pki: &'a Pki,
    identity: &'a kartika_card::model::Identity,
    pin: &'a kartika_card::model::Pin,
) -> IssueRequest<'a> {
    IssueRequest {
        identity,
        pin,
        issuer: &pki.node,
        root: &pki.root,
    }
}

#[test]
fn an_issued_card_reads_back_as_genuine_in_four_apdus() {
    let IssuedCard {
        dir: _dir,
        pki,
        mut card,
    } = IssuedCard::new(CardOptions::default());
    let mut session = CardSession::new(&mut card);
    let reading = session
        .verify_card(&pki.trust(), today(), &challenge())
        .unwrap();
    assert!(reading.verdict.is_genuine(), "{:?}", reading.verdict);
    assert_eq!(reading.identity, sample_identity());
    let counters = session.counters();
    assert_eq!(counters.apdus, 4);
    assert!(
        counters.bytes_sent + counters.bytes_received < 1024,
        "{counters:?}"
    );
}

#[test]
fn the_card_survives_removal_with_its_state_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c");
    let pki = Pki::new();
    drop(issued_card(
        &path,
        &pki,
        &sample_identity(),
        CardOptions::default(),
    ));
    let mut reopened = VirtualCard::open(&path).unwrap();
    assert_eq!(reopened.life_cycle(), LifeCycle::Operational);
    let reading = CardSession::new(&mut reopened)
        .verify_card(&pki.trust(), today(), &challenge())
        .unwrap();
    assert!(reading.verdict.is_genuine());
}

#[test]
fn an_issued_card_cannot_be_issued_again() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let identity = sample_identity();
    let mut card = issued_card(
        &dir.path().join("c"),
        &pki,
        &identity,
        CardOptions::default(),
    );
    let error = CardSession::new(&mut card)
        .personalize(&request(&pki, &identity, &pin()))
        .unwrap_err();
    assert_eq!(error, CardError::AlreadyIssued);
}

#[test]
fn personalization_interrupted_after_any_command_leaves_a_card_that_can_be_issued_again() {
    let pki = Pki::new();
    let identity = sample_identity();
    let full_issuance_apdus = 7; // SELECT, GENERATE KEY PAIR, 3 × PUT DATA, CHANGE REFERENCE DATA, ACTIVATE
    for lose_answer in [false, true] {
        for pulled_at in 0..full_issuance_apdus {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("c");
            let mut card = blank_card(&path, CardOptions::default());
            let mut torn = PullAfter {
                card: &mut card,
                remaining: pulled_at,
                lose_answer,
            };
            let error = CardSession::new(&mut torn)
                .personalize(&request(&pki, &identity, &pin()))
                .unwrap_err();
            assert!(matches!(error, CardError::Transport(_)), "{error:?}");
            drop(card);

            let mut reinserted = VirtualCard::open(&path).unwrap();
            let activated = lose_answer && pulled_at == full_issuance_apdus - 1;
            if activated {
                // ACTIVATE ran; only its answer was lost. The card is whole and genuine.
                let reading = CardSession::new(&mut reinserted)
                    .verify_card(&pki.trust(), today(), &challenge())
                    .unwrap();
                assert!(reading.verdict.is_genuine());
                continue;
            }
            assert_eq!(
                reinserted.life_cycle(),
                LifeCycle::Personalization,
                "pulled at APDU {pulled_at}"
            );
            let refused =
                CardSession::new(&mut reinserted).verify_card(&pki.trust(), today(), &challenge());
            assert_eq!(
                refused.unwrap_err(),
                CardError::NotActivated,
                "pulled at APDU {pulled_at}"
            );

            let mut session = CardSession::new(&mut reinserted);
            session
                .personalize(&request(&pki, &identity, &pin()))
                .unwrap();
            let reading = session
                .verify_card(&pki.trust(), today(), &challenge())
                .unwrap();
            assert!(reading.verdict.is_genuine(), "pulled at APDU {pulled_at}");
        }
    }
}

#[test]
fn a_blank_card_refuses_operational_commands_with_6985() {
    let dir = tempfile::tempdir().unwrap();
    let mut card = blank_card(&dir.path().join("c"), CardOptions::default());
    let mut session = CardSession::new(&mut card);
    session.select().unwrap();
    let error = session.internal_authenticate(&challenge()).unwrap_err();
    assert_eq!(
        error,
        CardError::Status {
            operation: "checking that the card is the original",
            status: StatusError::ConditionsNotSatisfied
        }
    );
    assert!(matches!(
        session.verify_pin(&pin()),
        Err(CardError::Status {
            status: StatusError::ConditionsNotSatisfied,
            ..
        })
    ));
}

#[test]
fn a_terminated_card_answers_only_select() {
    let IssuedCard {
        dir: _dir,
        pki,
        mut card,
    } = IssuedCard::new(CardOptions::default());
    let mut session = CardSession::new(&mut card);
    session.select().unwrap();
    session.terminal_authenticate(&pki.node).unwrap();
    session.terminate().unwrap();
    assert_eq!(session.select().unwrap().life_cycle, LifeCycle::Terminated);
    assert!(matches!(
        session.read_identity(),
        Err(CardError::Status {
            status: StatusError::ConditionsNotSatisfied,
            ..
        })
    ));
    assert_eq!(
        session
            .verify_card(&pki.trust(), today(), &challenge())
            .unwrap_err(),
        CardError::Terminated
    );
}

#[test]
fn a_short_apdu_only_card_works_through_chaining_and_get_response() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let identity = sample_identity();
    let mut short = issued_card(
        &dir.path().join("short"),
        &pki,
        &identity,
        CardOptions {
            short_apdu_only: true,
        },
    );
    let mut session = CardSession::new(&mut short);
    session.select().unwrap();
    session.terminal_authenticate(&pki.node).unwrap();
    let visits = crate::security::ten_visits();
    for visit in &visits {
        session
            .append_visit(visit, kartika_testkit::fixtures::today())
            .unwrap();
    }
    let before = session.counters().apdus;
    let log = session.read_visits().unwrap();
    let log_apdus = session.counters().apdus - before;
    assert_eq!(log.len(), 10);
    assert_eq!(log[0], visits[9], "newest first");
    assert!(
        log_apdus >= 3,
        "a log over 512 bytes takes GET RESPONSE rounds, got {log_apdus} APDUs"
    );
    let reading = session
        .verify_card(&pki.trust(), today(), &challenge())
        .unwrap();
    assert!(reading.verdict.is_genuine());
    assert!(session.fci().is_some_and(|f| !f.extended_length));
}
