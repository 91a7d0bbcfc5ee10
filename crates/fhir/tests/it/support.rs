//! A finished visit in a real clinic store, and the FHIR R4 JSON Schema.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use kartika_card::model::Sex;
use kartika_fhir::Facility;
use kartika_store::{
    Care, DiagnosisRank, Examination, FacilityProfile, ManualClock, NewPatient, NewStaff, NewVisit,
    Patient, Payer, Role, Store, TimeZone, VisitDetail, VisitStatus, Vitals,
};
use serde_json::Value;
use time::macros::datetime;

pub struct Visit {
    pub patient: Patient,
    pub visit: VisitDetail,
    pub facility: Facility,
    _dir: tempfile::TempDir,
}

/// Siti at Poli Umum, 09:00 to 09:25 WIB: vitals, hypertension and a secondary diagnosis.
pub fn finished_visit() -> Visit {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(datetime!(2026-11-28 02:00 UTC));
    let profile = FacilityProfile {
        code: "P3674060".into(),
        name: "Puskesmas Pamulang".into(),
        region_code: Some("36.74.06".into()),
        zone: TimeZone::Wib,
    };
    let mut store = Store::create_with_clock(
        &dir.path().join("c.sqlite"),
        &profile,
        Arc::new(clock.clone()),
    )
    .unwrap();
    let staff = |username: &str, role| NewStaff {
        username: username.into(),
        display_name: username.into(),
        role,
        password: "kata-sandi-1".into(),
    };
    store.add_first_admin(&staff("admin", Role::Admin)).unwrap();
    let admin = store.login("admin", "kata-sandi-1").unwrap();
    store
        .add_staff(&admin, &staff("perawat", Role::Nurse))
        .unwrap();
    let nurse = store.login("perawat", "kata-sandi-1").unwrap();
    let patient = store
        .create_patient(
            &admin,
            &NewPatient {
                nik: Some("3674065001900003".into()),
                bpjs_number: Some("0001234567890".into()),
                name: "Siti Rahayu".into(),
                birth_date: "1990-01-10".into(),
                sex: Some(Sex::Female),
                address: Some("Jl. Siliwangi No. 12".into()),
                region_code: Some("36.74.06.1001".into()),
                phone: Some("0812 3456 7890".into()),
                ..NewPatient::default()
            },
        )
        .unwrap()
        .patient;
    let ticket = store
        .register_visit(
            &admin,
            &NewVisit {
                patient_number: patient.patient_number.clone(),
                unit_code: "general".into(),
                payer: Payer::BpjsPbi,
                care: Care::Sick,
                complaint: Some("pusing".into()),
            },
        )
        .unwrap();
    clock.advance(time::Duration::minutes(10));
    store
        .set_visit_status(&nurse, &ticket.visit_id, VisitStatus::InProgress)
        .unwrap();
    store
        .record_examination(
            &nurse,
            &ticket.visit_id,
            &Examination {
                complaint: None,
                notes: Some("kontrol".into()),
                vitals: Vitals {
                    systolic: Some(150),
                    diastolic: Some(95),
                    pulse: Some(88),
                    respiratory_rate: Some(18),
                    temperature: Some(36.8),
                    weight: Some(62.5),
                    height: Some(155.0),
                },
            },
        )
        .unwrap();
    store
        .add_diagnosis(&nurse, &ticket.visit_id, "I10", DiagnosisRank::Primary)
        .unwrap();
    store
        .add_diagnosis(&nurse, &ticket.visit_id, "R51", DiagnosisRank::Secondary)
        .unwrap();
    clock.advance(time::Duration::minutes(15));
    let visit = store
        .set_visit_status(&nurse, &ticket.visit_id, VisitStatus::Finished)
        .unwrap();
    let facility = Facility {
        organization_id: "10000004".into(),
        locations: HashMap::from([(
            "general".into(),
            "b017aa54-f1df-4ec2-9d84-8823815d7228".into(),
        )]),
        unit_names: HashMap::from([("general".into(), "Poli Umum".into())]),
        practitioners: HashMap::from([("perawat".into(), "N10000001".into())]),
    };
    Visit {
        patient,
        visit,
        facility,
        _dir: dir,
    }
}

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_str(include_str!("../schema/fhir.schema.json"))
            .expect("the FHIR schema is JSON")
    })
}

/// The whole schema (one of every resource type), and the schema of one type, whose
/// errors name the field that is wrong.
fn validators(resource_type: &str) -> (jsonschema::Validator, jsonschema::Validator) {
    let whole = jsonschema::draft6::new(schema()).expect("the FHIR schema compiles");
    let mut one = schema().clone();
    if let Some(map) = one.as_object_mut() {
        map.remove("oneOf");
        map.remove("discriminator");
        map.insert(
            "$ref".into(),
            format!("#/definitions/{resource_type}").into(),
        );
    }
    let one = jsonschema::draft6::new(&one).expect("one type's schema compiles");
    (whole, one)
}

/// Fails the test with every schema error of `resource`.
pub fn validate(resource: &Value) {
    let kind = resource["resourceType"].as_str().unwrap_or_default();
    let (whole, one) = validators(kind);
    let errors: Vec<String> = one
        .iter_errors(resource)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(10)
        .collect();
    assert!(
        errors.is_empty(),
        "{kind} is not valid FHIR R4:\n{}",
        errors.join("\n")
    );
    assert!(
        whole.is_valid(resource),
        "{kind} is not one of FHIR R4's resources"
    );
}
