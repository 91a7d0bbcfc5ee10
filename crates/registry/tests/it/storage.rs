//! The registry's SQLite file itself.

use kartika_registry::sqlite::SqliteBackend;
use kartika_registry::RegistryError;

#[test]
fn a_file_from_a_newer_kartika_is_left_byte_for_byte_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.sqlite");
    drop(SqliteBackend::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA user_version = 999;")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let refused = SqliteBackend::open(&path).err();
    assert!(
        matches!(refused, Some(RegistryError::NewerSchema { found: 999, .. })),
        "{refused:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before, "not a byte changed");
    assert!(!dir.path().join("registry.sqlite-wal").exists());
}

#[test]
fn every_connection_writes_durably_a_new_file_and_a_reopened_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.sqlite");
    for round in ["new", "reopened"] {
        let backend = SqliteBackend::open(&path).unwrap();
        let durability = backend.durability().expect("pragmas");
        assert_eq!(
            durability,
            kartika_registry::sqlite::Durability {
                journal_mode: "wal".into(),
                synchronous: 2,
                foreign_keys: true,
                wal_autocheckpoint: 1_000,
            },
            "{round} file"
        );
    }
}

#[test]
fn a_postgresql_connection_dropped_on_a_server_thread_closes_without_a_panic() {
    let server = kartika_testkit::postgres::TestPostgres::start();
    let backend =
        kartika_registry::postgres_backend::PostgresBackend::connect(&server.new_database("drop"))
            .unwrap();
    // As the server stops, the last handle to its pool can be let go on one of its threads.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async move { drop(backend) });
}
