//! An operation refused inside its transaction leaves nothing behind: not a row in any
//! table, the audit log and the outbox included.

use std::collections::BTreeMap;

use kartika_store::StoreError;

use crate::support::{raw, sick_visit, siti, Clinic};

/// Rows per table, every table of the file.
pub fn row_counts(clinic: &Clinic) -> BTreeMap<String, i64> {
    let conn = raw(&clinic.path);
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables
        .into_iter()
        .map(|table| {
            let count = conn
                .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
                    r.get(0)
                })
                .unwrap();
            (table, count)
        })
        .collect()
}

#[test]
fn errors_raised_inside_a_transaction_leave_zero_new_rows_anywhere() {
    let mut clinic = Clinic::new();
    let patient = clinic.patient(&siti());
    clinic.visit(&patient, "general");
    clinic
        .store
        .issue_card(&clinic.admin, &patient, "6037990000000014")
        .unwrap();
    clinic
        .store
        .block_card(&clinic.admin, "6037990000000014", "hilang")
        .unwrap();
    let other = clinic.patient(&crate::support::numbered(3));
    clinic
        .store
        .issue_card(&clinic.admin, &other, "6037990000000022")
        .unwrap();
    let before = row_counts(&clinic);

    let (desk, nurse, admin) = (
        clinic.desk.clone(),
        clinic.nurse.clone(),
        clinic.admin.clone(),
    );
    let duplicate = clinic.store.create_patient(&desk, &siti()).unwrap_err();
    assert!(
        matches!(duplicate, StoreError::DuplicateNik { .. }),
        "{duplicate:?}"
    );
    let queued = clinic
        .store
        .register_visit(&desk, &sick_visit(&patient, "general"))
        .unwrap_err();
    assert!(
        matches!(queued, StoreError::AlreadyQueued { .. }),
        "{queued:?}"
    );
    let twice = clinic
        .store
        .block_card(&admin, "6037990000000014", "lagi")
        .unwrap_err();
    assert!(matches!(twice, StoreError::Conflict(_)), "{twice:?}");
    let refused = clinic
        .store
        .create_patient(&nurse, &crate::support::numbered(7))
        .unwrap_err();
    assert!(
        matches!(refused, StoreError::NotAllowed { .. }),
        "{refused:?}"
    );

    // This one fails after it has written: the old card's status, its revocation and their
    // outbox rows are in the transaction when the new number turns out to be taken.
    let taken = clinic
        .store
        .replace_card(&admin, "6037990000000022", "6037990000000014", "rusak")
        .unwrap_err();
    assert!(
        matches!(taken, StoreError::AlreadyRecorded { .. }),
        "{taken:?}"
    );
    let card: String = raw(&clinic.path)
        .query_row(
            "SELECT status FROM card WHERE card_number = '6037990000000022'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(card, "active", "the old card is as it was");

    assert_eq!(
        row_counts(&clinic),
        before,
        "a refused operation wrote something"
    );
}
