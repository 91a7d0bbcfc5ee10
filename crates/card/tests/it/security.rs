//! What makes a card trustworthy, and what the card itself guards.

use kartika_card::apdu::Command;
use kartika_card::crypto::{PublicKey, Roles, SecurityObject};
use kartika_card::model::{FacilityCode, Icd10Code, MedicalSummary, Pin, VisitRecord};
use kartika_card::tlv::{encode, tags};
use kartika_card::verify::{Rejection, Verdict};
use kartika_card::{CardError, CardSession, PinStatus, StatusError, StatusWord, Transport};
use kartika_testkit::fixtures::{
    blank_card, card_number, challenge, date, identity_with_card_number, issued_card, pin,
    sample_identity, today, IssuedCard, Pki,
};
use kartika_vcard::{CardOptions, VirtualCard};
use time::{PrimitiveDateTime, Time};

use crate::support::edit_card_file;

pub fn ten_visits() -> Vec<VisitRecord> {
    (0..10u8)
        .map(|i| {
            let when =
                PrimitiveDateTime::new(date(2026, 3, 1 + i), Time::from_hms(2, 30, 0).unwrap());
            VisitRecord::new(
                [i; 16],
                when,
                FacilityCode::new("P3674010").unwrap(),
                "UMUM",
                vec![
                    Icd10Code::new("J06.9").unwrap(),
                    Icd10Code::new("I10").unwrap(),
                ],
            )
            .unwrap()
        })
        .collect()
}

fn verdict_of(card: &mut VirtualCard, pki: &Pki) -> Verdict {
    CardSession::new(card)
        .verify_card(&pki.trust(), today(), &challenge())
        .unwrap()
        .verdict
}

#[test]
fn three_wrong_pins_block_and_a_staff_terminal_unblocks() {
    let IssuedCard {
        dir: _dir,
        pki,
        mut card,
    } = IssuedCard::new(CardOptions::default());
    let mut session = CardSession::new(&mut card);
    session.select().unwrap();
    let wrong = Pin::new("0000").unwrap();
    let status = |s: &mut CardSession<_>| match s.verify_pin(&wrong) {
        Err(CardError::Status { status, .. }) => status,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(
        status(&mut session),
        StatusError::WrongPin { tries_left: 2 }
    );
    assert_eq!(
        status(&mut session),
        StatusError::WrongPin { tries_left: 1 }
    );
    assert_eq!(status(&mut session), StatusError::PinBlocked);
    assert!(matches!(
        session.verify_pin(&pin()),
        Err(CardError::Status {
            status: StatusError::PinBlocked,
            ..
        })
    ));
    assert_eq!(session.pin_status().unwrap(), PinStatus::Blocked);

    let new_pin = Pin::new("24680").unwrap();
    assert!(matches!(
        session.reset_pin(&new_pin),
        Err(CardError::Status {
            status: StatusError::SecurityNotSatisfied,
            ..
        })
    ));
    session.terminal_authenticate(&pki.node).unwrap();
    session.reset_pin(&new_pin).unwrap();
    session.verify_pin(&new_pin).unwrap();
    assert_eq!(session.pin_status().unwrap(), PinStatus::Verified);
}

#[test]
fn the_pin_counter_survives_pulling_the_card() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c");
    let pki = Pki::new();
    let mut card = issued_card(&path, &pki, &sample_identity(), CardOptions::default());
    let mut session = CardSession::new(&mut card);
    session.select().unwrap();
    let _ = session.verify_pin(&Pin::new("9999").unwrap());
    drop(card);
    let mut reinserted = VirtualCard::open(&path).unwrap();
    let mut session = CardSession::new(&mut reinserted);
    session.select().unwrap();
    assert_eq!(session.pin_status().unwrap(), PinStatus::TriesLeft(2));
}

#[test]
fn the_patient_changes_their_pin() {
    let IssuedCard {
        dir: _dir,
        pki: _,
        mut card,
    } = IssuedCard::new(CardOptions::default());
    let mut session = CardSession::new(&mut card);
    session.select().unwrap();
    let new_pin = Pin::new("97531").unwrap();
    session.change_pin(&pin(), &new_pin).unwrap();
    session.select().unwrap();
    assert!(session.verify_pin(&pin()).is_err());
    session.verify_pin(&new_pin).unwrap();
}

#[test]
fn visit_log_and_medical_summary_need_the_pin_or_a_staff_terminal() {
    let IssuedCard {
        dir: _dir,
        pki,
        mut card,
    } = IssuedCard::new(CardOptions::default());
    let mut session = CardSession::new(&mut card);
    session.select().unwrap();
    let visits = ten_visits();
    assert!(matches!(
        session.append_visit(&visits[0], today()),
        Err(CardError::Status {
            status: StatusError::SecurityNotSatisfied,
            ..
        })
    ));
    let summary = MedicalSummary::new(
        Some("Penisilin".into()),
        vec![Icd10Code::new("E11.9").unwrap()],
    )
    .unwrap();
    assert!(matches!(
        session.write_medical_summary(&summary),
        Err(CardError::Status {
            status: StatusError::SecurityNotSatisfied,
            ..
        })
    ));
    assert!(matches!(
        session.read_medical_summary(),
        Err(CardError::Status {
            status: StatusError::SecurityNotSatisfied,
            ..
        })
    ));

    session.terminal_authenticate(&pki.node).unwrap();
    for visit in &visits {
        session.append_visit(visit, today()).unwrap();
    }
    session.append_visit(&visits[0], today()).unwrap();
    let log = session.read_visits().unwrap();
    assert_eq!(log.len(), 10, "the card keeps the newest ten");
    assert_eq!(log[0], visits[0]);
    assert_eq!(log[1], visits[9]);
    session.write_medical_summary(&summary).unwrap();

    session.select().unwrap();
    // Contract v1.1: the visit log, with its diagnoses, is as private as the summary.
    assert!(matches!(
        session.read_visits(),
        Err(CardError::Status {
            status: StatusError::SecurityNotSatisfied,
            ..
        })
    ));
    session.verify_pin(&pin()).unwrap();
    assert_eq!(session.read_medical_summary().unwrap(), Some(summary));
    assert_eq!(session.read_visits().unwrap().len(), 10, "with the PIN");
}

#[test]
fn a_visit_dated_years_ahead_is_refused_by_the_host_and_locks_no_terminal_out() {
    let IssuedCard {
        dir: _dir,
        pki,
        mut card,
    } = IssuedCard::new(CardOptions::default());
    let mut session = CardSession::new(&mut card);
    session.select().unwrap();
    session.terminal_authenticate(&pki.node).unwrap();
    let ahead = VisitRecord::new(
        [7; 16],
        PrimitiveDateTime::new(date(2034, 1, 1), Time::from_hms(2, 0, 0).unwrap()),
        FacilityCode::new("P3674010").unwrap(),
        "UMUM",
        vec![Icd10Code::new("J06.9").unwrap()],
    )
    .unwrap();
    let refused = session.append_visit(&ahead, today());
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("after tomorrow")),
        "{refused:?}"
    );
    // A host whose clock said 2034 wrote it anyway.
    session.append_visit(&ahead, date(2034, 1, 1)).unwrap();
    // A terminal whose certificate ends in 2030 still authenticates: the visit's date
    // does not decide which certificates the card accepts (contract v1.1).
    session.select().unwrap();
    session.terminal_authenticate(&pki.node).unwrap();
    assert_eq!(session.read_visits().unwrap().len(), 1);
}

#[test]
fn a_terminal_without_the_terminal_role_or_from_another_registry_is_refused() {
    let IssuedCard {
        dir: _dir,
        pki,
        mut card,
    } = IssuedCard::new(CardOptions::default());
    let issuer_only = pki.node("ISSUER1", Roles::ISSUER, date(2030, 1, 1));
    let stranger = Pki::new().node;
    let expired = pki.node("OLD", Roles::TERMINAL, date(2025, 12, 31));
    let mut session = CardSession::new(&mut card);
    session.select().unwrap();
    for terminal in [&issuer_only, &stranger, &expired] {
        assert!(
            matches!(
                session.terminal_authenticate(terminal),
                Err(CardError::Status {
                    status: StatusError::SecurityNotSatisfied,
                    ..
                })
            ),
            "{terminal:?} was accepted"
        );
    }
}

#[test]
fn a_copy_of_a_cards_data_on_another_card_fails_the_challenge() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let original = dir.path().join("original");
    drop(issued_card(
        &original,
        &pki,
        &sample_identity(),
        CardOptions::default(),
    ));
    let copy = dir.path().join("copy");
    std::fs::copy(&original, &copy).unwrap();
    // The copy has every data object, but its own key: the original's never leaves the chip.
    let other_key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    edit_card_file(&copy, |card| {
        card["card_key"] = hex::encode(other_key.to_bytes()).into()
    });
    let mut copied = VirtualCard::open(&copy).unwrap();
    assert_eq!(
        verdict_of(&mut copied, &pki),
        Verdict::NotGenuine(Rejection::ChallengeFailed)
    );
}

#[test]
fn one_changed_byte_in_the_identity_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let path = dir.path().join("c");
    drop(issued_card(
        &path,
        &pki,
        &sample_identity(),
        CardOptions::default(),
    ));
    edit_card_file(&path, |card| {
        let ff20 = card["objects"]["FF20"].as_str().unwrap().to_owned();
        let siti = hex::encode_upper("Siti");
        assert!(ff20.contains(&siti));
        card["objects"]["FF20"] = ff20.replacen(&siti, &hex::encode_upper("Sita"), 1).into();
    });
    let mut card = VirtualCard::open(&path).unwrap();
    assert_eq!(
        verdict_of(&mut card, &pki),
        Verdict::NotGenuine(Rejection::AlteredData)
    );
}

#[test]
fn a_card_from_an_untrusted_root_is_rejected() {
    let IssuedCard {
        dir: _dir,
        pki: _,
        mut card,
    } = IssuedCard::new(CardOptions::default());
    let other = Pki::new();
    assert_eq!(
        verdict_of(&mut card, &other),
        Verdict::NotGenuine(Rejection::UntrustedIssuer)
    );
}

#[test]
fn an_expired_card_is_not_accepted() {
    let IssuedCard {
        dir: _dir,
        pki,
        mut card,
    } = IssuedCard::new(CardOptions::default());
    let reading = CardSession::new(&mut card)
        .verify_card(&pki.trust(), date(2031, 1, 15), &challenge())
        .unwrap();
    assert_eq!(
        reading.verdict,
        Verdict::NotGenuine(Rejection::Expired("2031-01-14".into()))
    );
}

/// Issues with raw APDUs, signing with any node, as a rogue issuing program would.
fn issue_signed_by(
    card: &mut VirtualCard,
    signer: &kartika_card::crypto::NodeCredentials,
    root: &PublicKey,
) {
    let mut send = |command: Command| {
        let response = card
            .transmit(&command.encode(command.needed_encoding()).unwrap())
            .unwrap();
        assert_eq!(
            &response[response.len() - 2..],
            StatusWord::OK.to_bytes(),
            "{command:?}"
        );
        response[..response.len() - 2].to_vec()
    };
    send(
        Command::new(0, 0xA4, 4, 0)
            .with_data(kartika_card::AID)
            .with_le(256),
    );
    let generated = send(Command::new(0, 0x47, 0x80, 0).with_le(256));
    let card_key = PublicKey::from_bytes(&generated[generated.len() - 65..]).unwrap();
    let identity = identity_with_card_number(&card_number("603799000000002"));
    let identity_tlv = identity.to_tlv();
    let security = SecurityObject::issue(signer, &identity_tlv, card_key);
    send(Command::new(0, 0xDA, 0xFF, 0x20).with_data(identity_tlv));
    send(Command::new(0, 0xDA, 0xFF, 0x21).with_data(security.to_tlv()));
    send(
        Command::new(0, 0xDA, 0xDF, 0x70)
            .with_data(encode(tags::ROOT_PUBLIC_KEY, &root.to_bytes())),
    );
    send(Command::new(0, 0x24, 0, 0x81).with_data(encode(tags::PIN_NEW, b"1234")));
    send(Command::new(0, 0x44, 0, 0));
}

#[test]
fn a_card_signed_by_a_node_without_the_issuer_role_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let terminal_only = pki.node("DESK1", Roles::TERMINAL, date(2030, 1, 1));
    let mut card = blank_card(&dir.path().join("c"), CardOptions::default());
    issue_signed_by(&mut card, &terminal_only, &pki.root);
    assert_eq!(
        verdict_of(&mut card, &pki),
        Verdict::NotGenuine(Rejection::IssuerNotAllowed)
    );

    // The honest host refuses to issue with such a node at all.
    let mut blank = blank_card(&dir.path().join("b"), CardOptions::default());
    let refused = CardSession::new(&mut blank).personalize(&kartika_card::IssueRequest {
        identity: &sample_identity(),
        pin: &pin(),
        issuer: &terminal_only,
        root: &pki.root,
    });
    assert!(matches!(refused, Err(CardError::Data(_))), "{refused:?}");
}

#[test]
fn a_high_s_signature_from_a_java_card_is_accepted() {
    use p256::ecdsa::signature::Signer;
    let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let message = b"KARTIKA-AUTH-V1 challenge";
    let signed: p256::ecdsa::Signature = key.sign(message);
    let low = signed.normalize_s().unwrap_or(signed);
    let (r, s) = low.split_scalars();
    let high = p256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
    assert!(
        high.normalize_s().is_some(),
        "the flipped signature is the high-s form"
    );
    let public = PublicKey::of(&key);
    assert!(public.verifies(message, low.to_der().as_bytes()));
    assert!(public.verifies(message, high.to_der().as_bytes()));
}

#[test]
fn a_card_issued_after_its_issuers_certificate_ended_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    // The identity is issued in 2026; this node's certificate ended in 2025.
    let lapsed = pki.node(
        "P3674010",
        Roles::TERMINAL | Roles::ISSUER,
        date(2025, 12, 31),
    );
    let mut card = blank_card(&dir.path().join("c"), CardOptions::default());
    issue_signed_by(&mut card, &lapsed, &pki.root);
    assert_eq!(
        verdict_of(&mut card, &pki),
        Verdict::NotGenuine(Rejection::IssuerCertificateExpired("2025-12-31".into()))
    );
}

#[test]
fn a_security_object_that_does_not_parse_is_rejected_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new();
    let path = dir.path().join("c");
    drop(issued_card(
        &path,
        &pki,
        &sample_identity(),
        CardOptions::default(),
    ));
    // A well-formed FF21 template whose content is no security object.
    let junk = encode(tags::SECURITY_OBJECT, &encode(0xDF7F, &[0xAB; 8]));
    edit_card_file(&path, |card| {
        card["objects"]["FF21"] = hex::encode_upper(&junk).into();
    });
    let mut card = VirtualCard::open(&path).unwrap();
    assert!(
        matches!(
            verdict_of(&mut card, &pki),
            Verdict::NotGenuine(Rejection::MalformedSecurityObject(_))
        ),
        "a malformed security object is a rejection"
    );
}

#[test]
fn a_challenge_answer_replayed_under_a_new_challenge_fails() {
    let IssuedCard {
        dir: _dir,
        pki,
        mut card,
    } = IssuedCard::new(CardOptions::default());
    let mut session = CardSession::new(&mut card);
    session.select().unwrap();
    let (identity, identity_tlv) = session.read_identity().unwrap();
    let recorded = session.internal_authenticate(&[1; 32]).unwrap();
    drop(session);
    // GET DATA FF21 with an extended Le: the security object is longer than 256 bytes.
    let answer = card
        .transmit(&[0x00, 0xCA, 0xFF, 0x21, 0x00, 0x00, 0x00])
        .unwrap();
    let (security_tlv, status) = answer.split_at(answer.len() - 2);
    assert_eq!(status, StatusWord::OK.to_bytes());
    let security = SecurityObject::from_tlv(security_tlv).unwrap();
    // A copy that only replays what the genuine card once answered.
    let evidence = kartika_card::verify::Evidence {
        identity: &identity,
        identity_tlv: &identity_tlv,
        security_object: Ok(&security),
        challenge: &[2; 32],
        challenge_signature: &recorded,
    };
    assert_eq!(
        kartika_card::verify::judge(&evidence, &pki.trust(), today()),
        Verdict::NotGenuine(Rejection::ChallengeFailed)
    );
    // The same answer under its own challenge is genuine: the replay alone fails.
    let honest = kartika_card::verify::Evidence {
        challenge: &[1; 32],
        ..evidence
    };
    assert_eq!(
        kartika_card::verify::judge(&honest, &pki.trust(), today()),
        Verdict::Genuine
    );
}
