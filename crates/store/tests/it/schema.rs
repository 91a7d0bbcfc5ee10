//! Creating and opening the file: migrations, versions, and files that are not ours.

use kartika_store::{create_at_version, Store, StoreError, SCHEMA_VERSION};

use crate::support::{facility, raw, Clinic};

#[test]
fn a_new_database_is_durable_and_at_the_current_version() {
    let clinic = Clinic::new();
    let conn = raw(&clinic.path);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(clinic.store.facility(), facility());
}

#[test]
fn every_connection_the_store_opens_writes_durably() {
    let clinic = Clinic::new();
    let durable = kartika_store::Durability {
        journal_mode: "wal".into(),
        synchronous: 2,
        foreign_keys: true,
        wal_autocheckpoint: 1_000,
    };
    // synchronous and foreign_keys are per connection: the creating one, and each opened
    // after (the app's clinic worker, its sync worker, the command line).
    assert_eq!(clinic.store.durability().unwrap(), durable, "created");
    for _ in 0..2 {
        let again = Store::open(&clinic.path).unwrap();
        assert_eq!(again.durability().unwrap(), durable, "opened");
    }
}

#[test]
fn init_refuses_an_existing_file_and_open_refuses_a_missing_one() {
    let clinic = Clinic::new();
    let again = Store::create(&clinic.path, &facility());
    assert!(
        matches!(again, Err(StoreError::AlreadyExists { .. })),
        "{again:?}"
    );
    let missing = Store::open(&clinic.path.with_file_name("none.sqlite"));
    let message = missing.unwrap_err().to_string();
    assert!(message.contains("kartika db init"), "{message}");
}

#[test]
fn every_earlier_version_migrates_to_the_current_one_and_reopening_changes_nothing() {
    for version in 1..=SCHEMA_VERSION {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        create_at_version(&path, version).unwrap();
        raw(&path)
            .execute(
                "INSERT INTO facility (id, code, name, utc_offset_minutes, created_at)
                 VALUES (1, 'P3674060', 'Puskesmas Lama', 420, 0)",
                [],
            )
            .unwrap();
        let store = Store::open(&path).unwrap();
        assert_eq!(store.facility().name, "Puskesmas Lama");
        drop(store);
        let schema_before: Vec<String> = schema_sql(&path);
        Store::open(&path).unwrap();
        assert_eq!(
            schema_sql(&path),
            schema_before,
            "a second open must not migrate again"
        );
        let v: i64 = raw(&path)
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }
}

fn schema_sql(path: &std::path::Path) -> Vec<String> {
    let conn = raw(path);
    let mut stmt = conn
        .prepare("SELECT coalesce(sql, name) FROM sqlite_schema ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_file_from_a_newer_kartika_is_refused_untouched() {
    let clinic = Clinic::new();
    raw(&clinic.path)
        .execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
        .unwrap();
    let err = Store::open(&clinic.path).unwrap_err();
    assert!(matches!(err, StoreError::NewerSchema { .. }), "{err:?}");
    assert!(
        err.to_string().contains("install the newer Kartika"),
        "{err}"
    );
    let v: i64 = raw(&clinic.path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION + 1);
}

#[test]
fn a_newer_file_is_left_byte_for_byte_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clinic.sqlite");
    drop(Store::create(&path, &crate::support::facility()).unwrap());
    // As a newer Kartika might leave it: another version, another journal mode.
    raw(&path)
        .execute_batch(&format!(
            "PRAGMA journal_mode = DELETE; PRAGMA user_version = {};",
            SCHEMA_VERSION + 1
        ))
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NewerSchema { .. }), "{err:?}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "not a byte changed");
    let wal = dir.path().join("clinic.sqlite-wal");
    assert!(!wal.exists(), "no write-ahead log was started");
}

#[test]
fn other_files_are_refused_with_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, b"this is not a database, just some text long enough").unwrap();
    let err = Store::open(&text).unwrap_err();
    assert!(err.to_string().contains("not an SQLite file"), "{err}");

    let foreign = dir.path().join("other.sqlite");
    raw(&foreign)
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    let err = Store::open(&foreign).unwrap_err();
    assert!(
        err.to_string().contains("another program's SQLite file"),
        "{err}"
    );
}

#[test]
fn facility_codes_outside_the_patient_number_alphabet_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut profile = facility();
    profile.code = "PKM-SOLO".into();
    let err = Store::create(&dir.path().join("a.sqlite"), &profile).unwrap_err();
    assert!(err.to_string().contains("facility code"), "{err}");
    profile.code = "P3674S10".into();
    let err = Store::create(&dir.path().join("b.sqlite"), &profile).unwrap_err();
    assert!(err.to_string().contains("'S'"), "{err}");
    assert!(
        !dir.path().join("b.sqlite").exists(),
        "a refused init leaves no file"
    );
}

#[test]
fn network_filesystems_are_told_from_local_disks() {
    use kartika_store::location::network_filesystem;
    // statfs's filesystem types (linux/magic.h): NFS, SMB, CIFS, SMB2, 9P.
    for network in [0x6969, 0x517B, 0xFF53_4D42, 0xFE53_4D42, 0x0102_1997] {
        assert!(network_filesystem(network).is_some(), "{network:#x}");
    }
    // ext4, tmpfs (one away from 9P), btrfs, xfs, overlayfs (a container's disk).
    for local in [0xEF53, 0x0102_1994, 0x9123_683E, 0x5846_5342, 0x794C_7630] {
        assert_eq!(network_filesystem(local), None, "{local:#x}");
    }
    // This test's own folder is a local disk: the store opens there.
    let clinic = Clinic::new();
    assert!(clinic.path.exists());
}

/// A file an older Kartika left at schema `version`, for facility `code`, holding Siti
/// Lestari (registered at Pamulang as `siti`) as that version wrote her; the connection
/// stays open for more rows.
fn old_file_with_siti(
    path: &std::path::Path,
    version: i64,
    code: &str,
    siti: &str,
) -> rusqlite::Connection {
    create_at_version(path, version).unwrap();
    let conn = raw(path);
    conn.execute(
        "INSERT INTO facility (id, code, name, utc_offset_minutes, created_at)
         VALUES (1, ?1, 'Puskesmas Lama', 420, 0)",
        [code],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO patient (uuid, patient_number, name, name_key, birth_date, sex,
            origin_facility, created_at, updated_at)
         VALUES (randomblob(16), ?1, 'Siti Lestari', 'siti lestari', '1990-01-10', 2,
            'P3674060', 0, 0)",
        [siti],
    )
    .unwrap();
    conn
}

/// Opens (and so upgrades) the file and logs its first admin in.
fn opened_with_first_admin(path: &std::path::Path) -> (Store, kartika_store::Session) {
    let mut store = Store::open(path).unwrap();
    store
        .add_first_admin(&crate::support::staff("admin", kartika_store::Role::Admin))
        .unwrap();
    let admin = store.login("admin", crate::support::PASSWORD).unwrap();
    (store, admin)
}

#[test]
fn names_indexed_before_the_upgrade_and_after_it_are_both_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    // Schema 13 indexed a new patient's name by a trigger; 14 by the store's code.
    drop(old_file_with_siti(&path, 13, "P3674060", "P36740600000019"));

    let (mut store, admin) = opened_with_first_admin(&path);
    store
        .add_staff(
            &admin,
            &crate::support::staff("desk", kartika_store::Role::Registration),
        )
        .unwrap();
    let desk = store.login("desk", crate::support::PASSWORD).unwrap();
    let budi = store
        .create_patient(&desk, &crate::support::numbered(7))
        .unwrap()
        .patient
        .patient_number;
    let mut found = |name: &str| -> Vec<String> {
        let query = kartika_store::PatientQuery::Name {
            name: name.into(),
            birth_date: None,
        };
        let hits = store.search_patients(&desk, &query).unwrap();
        hits.into_iter().map(|h| h.patient_number).collect()
    };
    assert_eq!(found("lestari"), vec!["P36740600000019".to_owned()]);
    assert_eq!(found("santoso"), vec![budi]);
    let check = raw(&path).execute(
        "INSERT INTO patient_name (patient_name) VALUES ('integrity-check')",
        [],
    );
    assert!(
        check.is_ok(),
        "the name index matches the patients: {check:?}"
    );
}

#[test]
fn visits_pulled_before_the_upgrade_are_kept_shown_and_updated_after_it() {
    // Pamulang's visit with Siti, as Serpong pulled it.
    let mut pamulang = crate::support::Clinic::with_facility("P3674060");
    let siti = pamulang.patient(&crate::support::siti());
    pamulang.visit(&siti, "general");
    let pushed = pamulang.store.outbox_pending(10).unwrap();
    let visit = pushed
        .iter()
        .find(|r| r.kind == kartika_store::OutboxKind::Visit)
        .unwrap();
    let mut payload: serde_json::Value = serde_json::from_str(visit.payload.get()).unwrap();

    // Schema 14 kept remote visits keyed by their id; 15 in the order they arrive.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("serpong.sqlite");
    let conn = old_file_with_siti(&path, 14, "P3674010", &siti);
    conn.execute(
        "INSERT INTO remote_visit (visit_id, patient_number, facility_code, version,
            arrived_at, payload)
         VALUES (?1, ?2, 'P3674060', 1, '0', ?3)",
        rusqlite::params![visit.record_id, siti, visit.payload.get()],
    )
    .unwrap();
    drop(conn);

    let (mut store, admin) = opened_with_first_admin(&path);
    let notes = |store: &mut Store| -> Vec<Option<String>> {
        let history = store.patient_history(&admin, &siti).unwrap();
        history.visits.into_iter().map(|v| v.notes).collect()
    };
    assert_eq!(
        notes(&mut store),
        vec![None],
        "the visit is still in her history"
    );

    // A later version of the same visit replaces it, as before the upgrade.
    payload["version"] = serde_json::Value::from(2);
    payload["notes"] = serde_json::Value::from("kontrol 3 hari");
    let newer = kartika_protocol::Change {
        seq: 7,
        facility: "P3674060".into(),
        kind: kartika_protocol::Kind::Visit,
        record_id: visit.record_id.clone(),
        payload: serde_json::value::to_raw_value(&payload).unwrap(),
    };
    let report = store.apply_changes(&[newer], 7).unwrap();
    assert_eq!(report.applied, 1, "{report:?}");
    assert_eq!(notes(&mut store), vec![Some("kontrol 3 hari".to_owned())]);
}

#[cfg(unix)]
#[test]
fn the_store_file_is_its_owners_only_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let clinic = crate::support::Clinic::new();
    let path = clinic.path.clone();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    // A file found open to others is closed to them when the store opens it.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(Store::open(&path).unwrap());
    assert_eq!(mode(&path), 0o600);
}

/// Windows: a store on a share, by its UNC name or by a drive letter Windows says is a
/// network drive, is refused before it is opened.
#[cfg(windows)]
#[test]
fn a_store_on_a_network_drive_or_a_share_is_refused() {
    let drive = std::env::var("KARTIKA_TEST_NETWORK_DRIVE").expect(
        "KARTIKA_TEST_NETWORK_DRIVE names a drive Windows calls a network drive: run scripts/test-windows.sh, which tells Wine that N: is one",
    );
    for path in [
        format!(r"{drive}\clinic.sqlite"),
        r"\\server\share\clinic.sqlite".to_owned(),
    ] {
        let err = Store::create(std::path::Path::new(&path), &facility()).unwrap_err();
        assert!(
            matches!(err, StoreError::NetworkPath { .. }),
            "{path}: {err}"
        );
    }
}
