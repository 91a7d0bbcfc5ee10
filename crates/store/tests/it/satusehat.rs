//! The SATUSEHAT ids of the facility, its units and its staff: optional, checked, audited.

use kartika_store::StoreError;

use crate::support::Clinic;

#[test]
fn ids_are_recorded_checked_and_cleared() {
    let mut clinic = Clinic::new();
    let admin = clinic.admin.clone();
    let store = &mut clinic.store;
    assert_eq!(store.satusehat_ids(&admin).unwrap(), Default::default());

    store
        .set_satusehat_organization(&admin, Some("10000004"))
        .unwrap();
    store
        .set_unit_location(
            &admin,
            "general",
            Some("b017aa54-f1df-4ec2-9d84-8823815d7228"),
        )
        .unwrap();
    store
        .set_staff_ihs_number(&admin, "nurse", Some("n10000001"))
        .unwrap();
    let ids = store.satusehat_ids(&admin).unwrap();
    assert_eq!(ids.organization_id.as_deref(), Some("10000004"));
    assert_eq!(
        ids.locations,
        [(
            "general".to_owned(),
            "b017aa54-f1df-4ec2-9d84-8823815d7228".to_owned()
        )]
    );
    assert_eq!(
        ids.practitioners,
        [("nurse".to_owned(), "N10000001".to_owned())]
    );

    for bad in ["has space", "", "semi;colon"] {
        assert!(matches!(
            store.set_satusehat_organization(&admin, Some(bad)),
            Err(StoreError::Invalid { .. })
        ));
    }
    for bad in ["10000001", "N123", "P02478375538"] {
        assert!(
            matches!(
                store.set_staff_ihs_number(&admin, "desk", Some(bad)),
                Err(StoreError::Invalid { .. })
            ),
            "{bad}"
        );
    }
    assert!(
        matches!(
            store.set_staff_ihs_number(&admin, "desk", Some("N10000001")),
            Err(StoreError::AlreadyRecorded { .. })
        ),
        "one IHS number, one person"
    );
    assert!(matches!(
        store.set_unit_location(&admin, "radiology", Some("x1")),
        Err(StoreError::NotFound { .. })
    ));
    let desk = clinic.desk.clone();
    assert!(matches!(
        clinic.store.set_satusehat_organization(&desk, Some("1")),
        Err(StoreError::NotAllowed { .. })
    ));
    let siti = clinic.patient(&crate::support::siti());
    let updated = clinic
        .store
        .set_patient_ihs_number(&admin, &siti, Some("p02478375538"))
        .unwrap();
    assert_eq!(updated.ihs_number.as_deref(), Some("P02478375538"));
    assert_eq!(
        updated.version, 2,
        "a change of the patient, sent to the registry"
    );
    assert!(matches!(
        clinic
            .store
            .set_patient_ihs_number(&admin, &siti, Some("N10000001")),
        Err(StoreError::Invalid { .. })
    ));
    clinic
        .store
        .set_satusehat_organization(&admin, None)
        .unwrap();
    assert_eq!(
        clinic.store.satusehat_ids(&admin).unwrap().organization_id,
        None
    );
}
