//! Requests answered once: a workstation retrying a request whose answer it lost gets the
//! same answer, and the store changes once.

use kartika_store::StoreError;

use crate::rollback::row_counts;
use crate::support::{sick_visit, siti, Clinic};

#[test]
fn a_retried_registration_gets_the_same_number_and_makes_no_second_visit() {
    let mut clinic = Clinic::new();
    let patient = clinic.patient(&siti());
    let request = *b"desk-2:req-00001";
    let desk = clinic.desk.clone();
    let register = |store: &mut kartika_store::Store| {
        store.register_visit(&desk, &sick_visit(&patient, "general"))
    };
    let first = clinic
        .store
        .answer_once(&request, "register_visit", register)
        .unwrap();
    let after_first = row_counts(&clinic);
    // The answer was lost on the way; the desk sends the same request again.
    let again = clinic
        .store
        .answer_once(&request, "register_visit", register)
        .unwrap();
    assert_eq!(again, first, "the same ticket");
    assert_eq!(
        row_counts(&clinic),
        after_first,
        "no second visit, audit entry or outbox row"
    );
    // A new request for the same patient and unit is a new registration, refused as usual.
    let refused = clinic
        .store
        .answer_once(b"desk-2:req-00002", "register_visit", register);
    assert!(
        matches!(refused, Err(StoreError::AlreadyQueued { .. })),
        "{refused:?}"
    );
}

#[test]
fn a_refused_request_keeps_no_answer_and_an_id_is_never_reused_for_another_operation() {
    let mut clinic = Clinic::new();
    let desk = clinic.desk.clone();
    clinic.patient(&siti());
    let request = *b"desk-2:req-00003";
    // The same NIK again: refused inside its transaction, so no answer is kept either.
    let refused = clinic
        .store
        .answer_once(&request, "create_patient", |store| {
            store.create_patient(&desk, &siti())
        });
    assert!(
        matches!(refused, Err(StoreError::DuplicateNik { .. })),
        "{refused:?}"
    );
    let mut other = siti();
    other.nik = None;
    other.name = "Siti Aminah".into();
    let created = clinic
        .store
        .answer_once(&request, "create_patient", |store| {
            store.create_patient(&desk, &other)
        })
        .expect("the corrected request runs");
    assert_eq!(created.patient.name, "Siti Aminah");
    let reused = clinic
        .store
        .answer_once(&request, "register_visit", |store| {
            store.register_visit(
                &desk,
                &sick_visit(&created.patient.patient_number, "general"),
            )
        });
    assert!(matches!(reused, Err(StoreError::Conflict(_))), "{reused:?}");
}
