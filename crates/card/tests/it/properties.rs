//! Round trips of every APDU form and data object, and parsers that never panic.

use kartika_card::apdu::{Command, Response};
use kartika_card::crypto::{NodeCertificate, PublicKey, Roles};
use kartika_card::model::{
    BloodGroup, CardNumber, FacilityCode, Fci, Icd10Code, Identity, IdentityFields, LifeCycle,
    MedicalSummary, Nik, Sex, VisitRecord,
};
use kartika_card::tlv::Template;
use kartika_card::StatusWord;
use kartika_testkit::fixtures::{card_number, date, patient_number};
use proptest::prelude::*;
use time::{Date, PrimitiveDateTime, Time};

fn dates() -> impl Strategy<Value = Date> {
    (1920i32..2025, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| date(y, m, d))
}

fn identities() -> impl Strategy<Value = Identity> {
    (
        "[0-9]{15}",
        "[0-9ACDEFGHJKLMNPRTUVWXY]{4,20}",
        "\\PC{1,20}",
        dates(),
        prop_oneof![
            Just(Sex::Male),
            Just(Sex::Female),
            Just(Sex::Unknown),
            Just(Sex::NotApplicable)
        ],
        proptest::option::of("[A-Za-z0-9 .,/]{1,100}"),
        any::<bool>(),
        proptest::option::of(prop_oneof![Just("A+"), Just("AB-"), Just("O")]),
    )
        .prop_filter_map(
            "name must not be blank",
            |(card, patient, name, birth, sex, address, with_nik, blood)| {
                if name.trim().is_empty() || name.len() > 80 || name.chars().any(char::is_control) {
                    return None;
                }
                if address.as_deref().is_some_and(|a| a.trim().is_empty()) {
                    return None;
                }
                let day = birth.day() + if sex == Sex::Female { 40 } else { 0 };
                let nik = format!(
                    "367403{day:02}{:02}{:02}0001",
                    u8::from(birth.month()),
                    birth.year() % 100
                );
                Identity::new(IdentityFields {
                    card_number: CardNumber::new(&card_number(&card)).ok()?,
                    patient_number: patient_number(&patient),
                    nik: with_nik.then(|| Nik::new(&nik).ok()).flatten(),
                    bpjs_number: None,
                    name,
                    birth_date: birth,
                    sex,
                    blood_group: blood.and_then(|b| BloodGroup::new(b).ok()),
                    address,
                    region_code: None,
                    facility_code: FacilityCode::new("P3674010").ok()?,
                    issue_date: date(2026, 1, 15),
                    expiry_date: date(2031, 1, 14),
                })
                .ok()
            },
        )
}

proptest! {
    #[test]
    fn every_command_apdu_form_round_trips(
        header in any::<[u8; 4]>(),
        data in proptest::collection::vec(any::<u8>(), 0..600),
        le in proptest::option::of(1usize..=65_536),
    ) {
        let command = Command { cla: header[0], ins: header[1], p1: header[2], p2: header[3], data, le };
        let encoding = command.needed_encoding();
        let bytes = command.encode(encoding).unwrap();
        prop_assert_eq!(Command::parse(&bytes).unwrap(), (command, encoding));
    }

    #[test]
    fn short_commands_round_trip_in_extended_form_too(
        data in proptest::collection::vec(any::<u8>(), 0..255),
        le in proptest::option::of(1usize..=256),
    ) {
        let command = Command { cla: 0, ins: 0xCA, p1: 0xFF, p2: 0x20, data, le };
        let bytes = command.encode(kartika_card::apdu::LengthEncoding::Extended).unwrap();
        prop_assert_eq!(Command::parse(&bytes).unwrap().0, command);
    }

    #[test]
    fn responses_round_trip(data in proptest::collection::vec(any::<u8>(), 0..300), sw in any::<u16>()) {
        let response = Response::new(data, StatusWord(sw));
        prop_assert_eq!(Response::parse(&response.to_bytes()).unwrap(), response);
    }

    #[test]
    fn identities_round_trip_through_tlv(identity in identities()) {
        prop_assert_eq!(Identity::from_tlv(&identity.to_tlv()).unwrap(), identity);
    }

    #[test]
    fn visit_records_round_trip(
        id in any::<[u8; 16]>(),
        day in dates(),
        hour in 0u8..24,
        minute in 0u8..60,
        unit in "[A-Z0-9-]{1,16}",
        codes in proptest::collection::vec("[A-Z][0-9]{2}(\\.[0-9])?", 0..5),
    ) {
        let time = PrimitiveDateTime::new(day, Time::from_hms(hour, minute, 0).unwrap());
        let codes = codes.iter().map(|c| Icd10Code::new(c).unwrap()).collect();
        let visit = VisitRecord::new(id, time, FacilityCode::new("P3674010").unwrap(), &unit, codes).unwrap();
        prop_assert_eq!(VisitRecord::from_tlv(&visit.to_tlv()).unwrap(), visit);
    }

    #[test]
    fn medical_summaries_round_trip(
        allergies in proptest::option::of("[a-zA-Z ,]{1,100}"),
        codes in proptest::collection::vec("[A-Z][0-9]{2}", 0..10),
    ) {
        prop_assume!(allergies.as_deref().is_none_or(|a| !a.trim().is_empty()));
        let codes = codes.iter().map(|c| Icd10Code::new(c).unwrap()).collect();
        let summary = MedicalSummary::new(allergies, codes).unwrap();
        prop_assert_eq!(MedicalSummary::from_tlv(&summary.to_tlv()).unwrap(), summary);
    }

    #[test]
    fn fci_round_trips(life in 1u8..=3, extended in any::<bool>(), cmd in any::<u16>(), rsp in any::<u16>()) {
        let fci = Fci {
            spec_version: 1,
            life_cycle: LifeCycle::from_code(life).unwrap(),
            extended_length: extended,
            max_command_data: cmd,
            max_response_data: rsp,
        };
        prop_assert_eq!(Fci::from_tlv(&fci.to_tlv()).unwrap(), fci);
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        let _ = Command::parse(&bytes);
        let _ = Response::parse(&bytes);
        let _ = Identity::from_tlv(&bytes);
        let _ = kartika_card::crypto::SecurityObject::from_tlv(&bytes);
        let _ = NodeCertificate::from_tlv(&bytes);
        let _ = MedicalSummary::from_tlv(&bytes);
        let _ = VisitRecord::list_from_tlv(&bytes);
        let _ = Fci::from_tlv(&bytes);
        let _ = Template::parse_sequence(&bytes, "fuzz");
        let _ = PublicKey::from_bytes(&bytes);
    }

    #[test]
    fn parsers_never_panic_on_mutated_objects(flip in 0usize..400, value in any::<u8>(), cut in 0usize..400) {
        let mut tlv = kartika_testkit::fixtures::sample_identity().to_tlv();
        let flip = flip % tlv.len();
        tlv[flip] = value;
        tlv.truncate(cut.max(1));
        let _ = Identity::from_tlv(&tlv);
    }
}

#[test]
fn node_certificates_round_trip_and_verify() {
    let root = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let node = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let certificate = NodeCertificate::issue(
        &root,
        "P3674010",
        PublicKey::of(&node),
        date(2030, 1, 1),
        Roles(3),
    )
    .unwrap();
    let parsed = NodeCertificate::from_tlv(&certificate.to_tlv()).unwrap();
    assert_eq!(parsed, certificate);
    assert!(parsed.verifies_under(&PublicKey::of(&root)));
    assert!(!parsed.verifies_under(&PublicKey::of(&node)));
}
