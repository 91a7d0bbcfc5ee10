//! A finished visit in a real clinic store: what a FHIR mapping or a registry test needs.

use std::sync::Arc;

use kartika_card::model::Sex;
use kartika_store::{
    Care, Clock, DiagnosisRank, Examination, FacilityProfile, ManualClock, NewPatient, NewStaff,
    NewVisit, Patient, Payer, Role, Store, TimeZone, VisitDetail, VisitStatus, Vitals,
};
use time::macros::datetime;

/// Puskesmas Pamulang (P3674060), in WIB.
pub fn pamulang() -> FacilityProfile {
    FacilityProfile {
        code: "P3674060".into(),
        name: "Puskesmas Pamulang".into(),
        region_code: Some("36.74.06".into()),
        zone: TimeZone::Wib,
    }
}

/// An account whose display name is its username.
pub fn account(username: &str, role: Role, password: &str) -> NewStaff {
    NewStaff {
        username: username.into(),
        display_name: username.into(),
        role,
        password: password.into(),
    }
}

/// Pamulang's store at `path` on `clock`: an admin, `desks` registration accounts (`desk1`,
/// `desk2`, …) and a nurse, all with `password`.
pub fn store_with_desks(
    path: &std::path::Path,
    clock: Arc<dyn Clock>,
    desks: usize,
    password: &str,
) {
    let mut store = Store::create_with_clock(path, &pamulang(), clock).expect("create the store");
    store
        .add_first_admin(&account("admin", Role::Admin, password))
        .expect("first admin");
    let admin = store.login("admin", password).expect("admin login");
    for n in 1..=desks {
        store
            .add_staff(
                &admin,
                &account(&format!("desk{n}"), Role::Registration, password),
            )
            .expect("desk account");
    }
    store
        .add_staff(&admin, &account("nurse", Role::Nurse, password))
        .expect("nurse account");
}

pub struct FinishedVisit {
    pub patient: Patient,
    pub visit: VisitDetail,
    pub dir: tempfile::TempDir,
}

/// Siti at Poli Umum, 09:00 to 09:25 WIB: vitals, hypertension and a secondary diagnosis.
pub fn finished_visit() -> FinishedVisit {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(datetime!(2026-11-28 02:00 UTC));
    let mut store = Store::create_with_clock(
        &dir.path().join("c.sqlite"),
        &pamulang(),
        Arc::new(clock.clone()),
    )
    .unwrap();
    let staff = |username: &str, role| account(username, role, "kata-sandi-1");
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
    // SATUSEHAT has given Siti her IHS number.
    let patient = store
        .set_patient_ihs_number(&admin, &patient.patient_number, Some("P02478375538"))
        .unwrap();
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
    FinishedVisit {
        patient,
        visit,
        dir,
    }
}
