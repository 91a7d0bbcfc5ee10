//! Validation at construction: what a clerk may type, and what a card may hold.

use kartika_card::model::{
    CardNumber, Icd10Code, Identity, IdentityFields, IdentityJson, Nik, PatientNumber, Pin,
    RegionCode, Sex,
};
use kartika_card::DataError;
use kartika_testkit::fixtures::{date, sample_identity};

fn with(change: impl FnOnce(&mut IdentityFields)) -> Result<Identity, DataError> {
    let mut fields = sample_identity().fields().clone();
    change(&mut fields);
    Identity::new(fields)
}

fn reason(result: Result<Identity, DataError>) -> String {
    result.expect_err("should be refused").to_string()
}

#[test]
fn card_numbers_need_sixteen_digits_and_a_luhn_check_digit() {
    assert!(CardNumber::new("6037990000000014").is_ok());
    assert!(CardNumber::new("6037990000000015")
        .unwrap_err()
        .to_string()
        .contains("check digit"));
    assert!(CardNumber::new("603799000000001").is_err());
    assert!(CardNumber::new("60379900000000a4").is_err());
}

#[test]
fn patient_numbers_end_in_a_mod30_check_character() {
    assert!(PatientNumber::new("P367401000001C").is_ok());
    assert!(PatientNumber::new("P367401000001D").is_err());
    assert!(
        PatientNumber::new("P36740100000IC").is_err(),
        "I is not in the alphabet"
    );
    assert!(PatientNumber::new(&"1".repeat(33)).is_err());
}

#[test]
fn a_womans_nik_carries_the_birth_day_plus_forty() {
    // Siti, born 10 January 1990: digits 7-12 are 500190.
    assert!(with(|_| {}).is_ok());
    let as_man = reason(with(|f| f.sex = Sex::Male));
    assert!(as_man.contains("woman's NIK"), "{as_man}");
    let wrong_day = reason(with(|f| f.birth_date = date(1990, 1, 11)));
    assert!(
        wrong_day.contains("do not match the birth date"),
        "{wrong_day}"
    );
    let mans_nik = reason(with(|f| {
        f.nik = Some(Nik::new("3674031001900003").unwrap())
    }));
    assert!(mans_nik.contains("man's NIK"), "{mans_nik}");
    assert!(with(|f| {
        f.nik = Some(Nik::new("3674031001900003").unwrap());
        f.sex = Sex::Male;
    })
    .is_ok());
    assert!(Nik::new("367403500190000").is_err());
    assert_eq!(
        Nik::new("3674035001900003").unwrap().district_code(),
        "36.74.03"
    );
}

#[test]
fn dates_names_and_addresses_are_checked() {
    assert!(
        reason(with(|f| f.birth_date = date(2026, 2, 1))).contains("after the card's issue date")
    );
    assert!(reason(with(|f| f.expiry_date = date(2025, 1, 1))).contains("before the issue date"));
    assert!(reason(with(|f| f.name = " ".into())).contains("empty"));
    assert!(reason(with(|f| f.name = "a".repeat(81))).contains("at most 80"));
    assert!(with(|f| f.name = "Ñoman Dewa Ayu Kadek Ketut".into()).is_ok());
    assert!(reason(with(|f| f.name = "Siti\u{0}".into())).contains("control"));
    assert!(reason(with(|f| f.address = Some("x".repeat(121)))).contains("at most 120"));
}

#[test]
fn codes_have_their_published_shapes() {
    assert!(RegionCode::new("36.74.03.1001").is_ok());
    assert!(RegionCode::new("36.74").is_ok());
    assert!(RegionCode::new("36.74.3").is_err());
    assert!(Icd10Code::new("J06.9").is_ok());
    assert!(Icd10Code::new("A09").is_ok());
    assert!(Icd10Code::new("j06").is_err());
    assert!(Icd10Code::new("J06.").is_err());
    assert!(Pin::new("123").is_err());
    assert!(Pin::new("123456789").is_err());
    assert!(Pin::new("12a4").is_err());
    assert_eq!(format!("{:?}", Pin::new("1234").unwrap()), "Pin(REDACTED)");
}

#[test]
fn identity_json_uses_the_published_names_and_round_trips() {
    let identity = sample_identity();
    let json = serde_json::to_value(IdentityJson::from(&identity)).unwrap();
    for name in [
        "card_number",
        "patient_number",
        "nik",
        "bpjs_number",
        "name",
        "birth_date",
        "sex",
        "blood_group",
        "address",
        "region_code",
        "facility_code",
        "issue_date",
        "expiry_date",
    ] {
        assert!(json.get(name).is_some(), "{name} missing from {json}");
    }
    assert_eq!(json["sex"], "female");
    assert_eq!(json["birth_date"], "1990-01-10");
    let back: IdentityJson = serde_json::from_value(json).unwrap();
    assert_eq!(Identity::try_from(back).unwrap(), identity);
}

#[test]
fn an_identity_with_unknown_tags_is_read_and_one_missing_a_mandatory_tag_is_refused() {
    let tlv = sample_identity().to_tlv();
    // Insert an unknown private tag DF7F after the template header (FF20 81 len).
    let body = &tlv[4..];
    let mut extended_body = vec![0xDF, 0x7F, 0x02, 0xAB, 0xCD];
    extended_body.extend_from_slice(body);
    let forward = kartika_card::tlv::encode(0xFF20, &extended_body);
    assert_eq!(Identity::from_tlv(&forward).unwrap(), sample_identity());

    let mut fields = sample_identity().fields().clone();
    fields.nik = None;
    let without_nik = Identity::new(fields).unwrap().to_tlv();
    // Remove DF05 (name) to break the template.
    let position = without_nik
        .windows(2)
        .position(|w| w == [0xDF, 0x05])
        .unwrap();
    let length = usize::from(without_nik[position + 2]);
    let mut broken_body = without_nik[4..position].to_vec();
    broken_body.extend_from_slice(&without_nik[position + 3 + length..]);
    let broken = kartika_card::tlv::encode(0xFF20, &broken_body);
    assert_eq!(
        Identity::from_tlv(&broken).unwrap_err(),
        DataError::Missing { field: "name" }
    );
}
