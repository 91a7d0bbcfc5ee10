//! Registering and finding patients, and every way the desk can type something wrong.

use kartika_card::checks::mod30_valid;
use kartika_card::model::Sex;
use kartika_store::{NewPatient, PatientQuery, StoreError, Warning};

use crate::support::{numbered, siti, Clinic};

#[test]
fn a_new_patient_gets_a_facility_prefixed_number_with_a_check_character() {
    let mut clinic = Clinic::new();
    let first = clinic.store.create_patient(&clinic.desk, &siti()).unwrap();
    let second = clinic.patient(&numbered(1));
    let number = &first.patient.patient_number;
    // Facility code, a seven-digit sequence, a check character.
    assert!(
        number.starts_with("P36740600000001") && number.len() == 16,
        "{number}"
    );
    assert!(
        second.starts_with("P36740600000002") && second.len() == 16,
        "{second}"
    );
    assert!(mod30_valid(number) && mod30_valid(&second));
    assert!(first.warnings.is_empty(), "{:?}", first.warnings);
    assert_eq!(first.patient.origin_facility, "P3674060");
}

#[test]
fn a_nik_registered_already_is_refused_with_the_existing_patient() {
    let mut clinic = Clinic::new();
    let existing = clinic.patient(&siti());
    let mut again = siti();
    again.name = "Siti R.".into();
    let err = clinic
        .store
        .create_patient(&clinic.desk, &again)
        .unwrap_err();
    match &err {
        StoreError::DuplicateNik {
            existing_patient_number,
            existing_name,
            ..
        } => {
            assert_eq!(existing_patient_number, &existing);
            assert_eq!(existing_name, "Siti Rahayu");
        }
        other => panic!("expected a duplicate NIK, got {other:?}"),
    }
    assert!(err.to_string().contains(&existing), "{err}");
}

#[test]
fn same_name_birth_date_and_sex_is_allowed_but_flagged_for_the_admin() {
    let mut clinic = Clinic::new();
    let first = clinic.patient(&siti());
    let mut twin = siti();
    twin.nik = None;
    twin.name = "SITI  rahayu".into();
    let created = clinic.store.create_patient(&clinic.desk, &twin).unwrap();
    assert!(matches!(
        created.warnings.as_slice(),
        [Warning::PossibleDuplicate { patient_number, .. }] if *patient_number == first
    ));
    let flags = clinic.store.possible_duplicates(&clinic.admin).unwrap();
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].other_patient_number, first);
    assert_eq!(flags[0].patient_number, created.patient.patient_number);
}

#[test]
fn a_nik_from_an_unknown_district_is_a_warning_not_a_refusal() {
    let mut clinic = Clinic::new();
    let mut p = siti();
    p.nik = Some("9999995001900003".into());
    let created = clinic.store.create_patient(&clinic.desk, &p).unwrap();
    assert_eq!(
        created.warnings,
        vec![Warning::UnknownNikDistrict {
            district: "99.99.99".into()
        }]
    );
}

fn refused(clinic: &mut Clinic, patient: &NewPatient, field: &str) -> String {
    let err = clinic
        .store
        .create_patient(&clinic.desk, patient)
        .expect_err("must be refused");
    let message = err.to_string();
    assert!(
        message.starts_with(field),
        "expected an error about {field}, got: {message}"
    );
    message
}

#[test]
fn bad_input_is_refused_with_what_is_wrong_and_nothing_is_written() {
    let mut clinic = Clinic::new();
    let before = clinic.store.outbox_pending_count().unwrap();
    let with = |f: &dyn Fn(&mut NewPatient)| {
        let mut p = siti();
        f(&mut p);
        p
    };
    refused(
        &mut clinic,
        &with(&|p| p.nik = Some("36740650019".into())),
        "NIK",
    );
    refused(
        &mut clinic,
        &with(&|p| p.nik = Some("36740650019000AB".into())),
        "NIK",
    );
    let msg = refused(
        &mut clinic,
        &with(&|p| p.nik = Some("3674061001900003".into())),
        "NIK",
    );
    assert!(msg.contains("man's NIK"), "{msg}");
    refused(
        &mut clinic,
        &with(&|p| p.nik = Some("3674065002900003".into())),
        "NIK",
    );
    refused(
        &mut clinic,
        &with(&|p| {
            p.nik = None;
            p.birth_date = "2026-11-29".into();
        }),
        "birth date",
    );
    refused(
        &mut clinic,
        &with(&|p| p.birth_date = "1990-02-30".into()),
        "birth date",
    );
    refused(
        &mut clinic,
        &with(&|p| p.birth_date = "10/01/1990".into()),
        "birth date",
    );
    refused(&mut clinic, &with(&|p| p.name = "   ".into()), "name");
    refused(&mut clinic, &with(&|p| p.name = "Siti ".repeat(20)), "name");
    refused(
        &mut clinic,
        &with(&|p| p.name = "Siti\u{0}Rahayu".into()),
        "name",
    );
    refused(&mut clinic, &with(&|p| p.name = "---".into()), "name");
    refused(
        &mut clinic,
        &with(&|p| p.bpjs_number = Some("12345".into())),
        "BPJS number",
    );
    refused(
        &mut clinic,
        &with(&|p| p.family_card_number = Some("KK123".into())),
        "family card number",
    );
    refused(
        &mut clinic,
        &with(&|p| p.blood_group = Some("C".into())),
        "blood group",
    );
    refused(
        &mut clinic,
        &with(&|p| p.region_code = Some("36.74.6".into())),
        "region code",
    );
    refused(
        &mut clinic,
        &with(&|p| p.phone = Some("call me".into())),
        "phone",
    );
    refused(&mut clinic, &with(&|p| p.sex = None), "sex");
    refused(
        &mut clinic,
        &with(&|p| p.address = Some("Jl. ".repeat(40))),
        "address",
    );
    assert_eq!(clinic.store.outbox_pending_count().unwrap(), before);
    let found = clinic
        .store
        .search_patients(&clinic.desk, &PatientQuery::Nik("3674065001900003".into()))
        .unwrap();
    assert!(found.is_empty());
}

#[test]
fn patients_are_found_by_every_number_they_carry() {
    let mut clinic = Clinic::new();
    let number = clinic.patient(&siti());
    clinic
        .store
        .issue_card(&clinic.admin, &number, "6037990000000014")
        .unwrap();
    for query in [
        PatientQuery::Nik("3674065001900003".into()),
        PatientQuery::PatientNumber(number.to_lowercase()),
        PatientQuery::CardNumber("6037990000000014".into()),
        PatientQuery::BpjsNumber("0001234567890".into()),
        PatientQuery::FamilyCard("3674061201150007".into()),
    ] {
        let hits = clinic.store.search_patients(&clinic.nurse, &query).unwrap();
        assert_eq!(hits.len(), 1, "{query:?}");
        assert_eq!(hits[0].patient_number, number, "{query:?}");
    }
    assert_eq!(PatientQuery::guess(" 0001234567890 ").len(), 1);
    assert!(matches!(
        PatientQuery::guess(&number.to_lowercase()).as_slice(),
        [PatientQuery::PatientNumber(n)] if *n == number
    ));
}

#[test]
fn names_are_found_by_word_prefixes_ignoring_case_and_accents() {
    let mut clinic = Clinic::new();
    let mut rene = numbered(7);
    rene.name = "René Ma'ruf Sitompul".into();
    let rene_number = clinic.patient(&rene);
    let siti_number = clinic.patient(&siti());
    for (typed, expected) in [
        ("rene", &rene_number),
        ("RENÉ", &rene_number),
        ("maruf sit", &rene_number),
        ("sit rah", &siti_number),
        ("  siti   RAHAYU ", &siti_number),
    ] {
        let hits = search_name(&mut clinic, typed, None);
        assert_eq!(hits, vec![expected.clone()], "typed {typed:?}");
    }
    assert_eq!(search_name(&mut clinic, "sit", None).len(), 2);
    assert_eq!(
        search_name(&mut clinic, "sit", Some("1990-01-10")),
        vec![siti_number]
    );
    assert!(search_name(&mut clinic, "rahayu", Some("1991-01-10")).is_empty());
}

#[test]
fn search_text_that_looks_like_sql_or_fts_syntax_is_just_text() {
    let mut clinic = Clinic::new();
    clinic.patient(&siti());
    for typed in [
        "'; DROP TABLE patient; --",
        "\" OR 1=1 --",
        "siti* OR NEAR(a b)",
        "NOT siti",
        "sit\" AND \"x",
    ] {
        let hits = search_name(&mut clinic, typed, None);
        assert!(hits.len() <= 1, "{typed}: {hits:?}");
    }
    let err = clinic
        .store
        .search_patients(
            &clinic.desk,
            &PatientQuery::Name {
                name: "%%".into(),
                birth_date: None,
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("at least one letter"), "{err}");
    // The table is still there.
    assert_eq!(search_name(&mut clinic, "siti", None).len(), 1);
}

fn search_name(clinic: &mut Clinic, name: &str, birth: Option<&str>) -> Vec<String> {
    clinic
        .store
        .search_patients(
            &clinic.desk,
            &PatientQuery::Name {
                name: name.into(),
                birth_date: birth.map(Into::into),
            },
        )
        .unwrap()
        .into_iter()
        .map(|p| p.patient_number)
        .collect()
}

#[test]
fn editing_a_patient_keeps_the_number_and_counts_the_version() {
    let mut clinic = Clinic::new();
    let number = clinic.patient(&siti());
    let mut changed = siti();
    changed.name = "Siti Rahayu Lestari".into();
    changed.sex = Some(Sex::Female);
    let patient = clinic
        .store
        .update_patient(&clinic.desk, &number, &changed)
        .unwrap();
    assert_eq!(patient.patient_number, number);
    assert_eq!(patient.version, 2);
    assert_eq!(
        search_name(&mut clinic, "lestari", None),
        vec![number.clone()]
    );
    let mut other = numbered(2);
    other.nik = None;
    let second = clinic.patient(&other);
    let mut steal = numbered(2);
    steal.nik = Some("3674061506850001".into());
    clinic
        .store
        .update_patient(&clinic.desk, &second, &steal)
        .unwrap();
    let mut clash = siti();
    clash.nik = Some("3674061506850001".into());
    clash.sex = Some(Sex::Male);
    clash.birth_date = "1985-06-15".into();
    let err = clinic
        .store
        .update_patient(&clinic.desk, &number, &clash)
        .unwrap_err();
    assert!(matches!(err, StoreError::DuplicateNik { .. }), "{err:?}");
}
