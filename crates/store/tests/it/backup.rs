//! Backups while the store is in use, the folder's rotation, and restores that trust only
//! a sound copy of this facility.

use kartika_store::{backups_in, Store, StoreError};

use crate::support::{siti, Clinic};

#[test]
fn a_folder_keeps_the_newest_backups_and_a_restore_keeps_the_replaced_file_aside() {
    let mut clinic = Clinic::new();
    let patient = clinic.patient(&siti());
    let folder = tempfile::tempdir().unwrap();
    let mut made = Vec::new();
    for _ in 0..4 {
        clinic.clock.advance(time::Duration::minutes(1));
        made.push(clinic.store.backup_into(folder.path(), 3).unwrap());
    }
    assert_eq!(
        made[3].removed,
        vec![made[0].path.clone()],
        "the oldest goes"
    );
    assert_eq!(backups_in(folder.path(), "P3674060").unwrap().len(), 3);

    // A visit after the backup, then the backup restored over the store.
    clinic.visit(&patient, "general");
    let path = clinic.path.clone();
    drop(clinic.store);
    let report = Store::restore(&made[3].path, &path).unwrap();
    let aside = report.kept_aside.expect("the replaced file is kept");
    assert!(aside.exists());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let visits: i64 = conn
        .query_row("SELECT count(*) FROM visit", [], |r| r.get(0))
        .unwrap();
    assert_eq!(visits, 0, "the store is as the backup was");
    let kept: i64 = rusqlite::Connection::open(&aside)
        .unwrap()
        .query_row("SELECT count(*) FROM visit", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 1, "the replaced file still holds the visit");
}

#[test]
fn a_damaged_copy_a_broken_audit_chain_or_another_facility_is_not_restored() {
    let clinic = Clinic::new();
    let folder = tempfile::tempdir().unwrap();
    let good = clinic.store.backup_into(folder.path(), 5).unwrap().path;
    let before = std::fs::read(&clinic.path).unwrap();

    let not_a_db = folder.path().join("junk.sqlite");
    std::fs::write(&not_a_db, b"this is not a database at all, only some text").unwrap();
    let err = Store::restore(&not_a_db, &clinic.path).unwrap_err();
    assert!(matches!(err, StoreError::BadBackup { .. }), "{err:?}");

    let edited = folder.path().join("edited.sqlite");
    std::fs::copy(&good, &edited).unwrap();
    let conn = rusqlite::Connection::open(&edited).unwrap();
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS audit_log_no_update;
         UPDATE audit_log SET detail = 'rewritten' WHERE seq = 1;",
    )
    .unwrap();
    drop(conn);
    let err = Store::restore(&edited, &clinic.path).unwrap_err();
    assert!(err.to_string().contains("audit log is broken"), "{err}");

    let other = Clinic::with_facility("P3674020");
    let theirs = other.store.backup_into(folder.path(), 5).unwrap().path;
    let err = Store::restore(&theirs, &clinic.path).unwrap_err();
    assert!(err.to_string().contains("not P3674060"), "{err}");
    assert_eq!(
        std::fs::read(&clinic.path).unwrap(),
        before,
        "the current file is untouched"
    );
}
