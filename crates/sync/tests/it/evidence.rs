//! Evidence that lasts: each sync hands the audit log's head to the registry, which signs
//! a receipt; a log rewritten afterwards, however consistently, is caught.

use kartika_registry::sqlite::SqliteBackend;
use kartika_store::{AuditProblem, Store};
use kartika_testkit::fixtures::Pki;
use kartika_testkit::registry::{enroll, RunningRegistry};
use sha2::{Digest, Sha256};

use crate::support::{syncer, Clinic};

fn registry_path(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("registry.sqlite")
}

/// A registry that signs receipts with a key its root certified, and the node's token.
fn receipting_registry(pki: &Pki) -> (RunningRegistry, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut backend = SqliteBackend::open(&dir.path().join("registry.sqlite")).unwrap();
    let token = enroll(&mut backend, "P3674060");
    let receipts = pki.node(
        kartika_store::RECEIPT_SIGNER,
        0,
        time::macros::date!(2035 - 12 - 31),
    );
    let pool =
        kartika_registry::api::Pool::new(Box::new(backend), Vec::new()).with_receipts(receipts);
    (RunningRegistry::serve(pool), token, dir)
}

/// What someone holding the file does: removes entry `seq`, then renumbers and rehashes
/// every later entry and the head, so the chain alone looks intact.
fn rewrite_consistently(path: &std::path::Path, seq: i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
    conn.execute("DELETE FROM audit_log WHERE seq = ?1", [seq])
        .unwrap();
    conn.execute(
        "UPDATE audit_log SET seq = -(seq - 1) WHERE seq > ?1",
        [seq],
    )
    .unwrap();
    conn.execute("UPDATE audit_log SET seq = -seq WHERE seq < 0", [])
        .unwrap();
    let rows: Vec<(i64, i64, String, String, Option<String>, String)> = conn
        .prepare(
            "SELECT seq, at, actor, action, patient_number, detail FROM audit_log ORDER BY seq",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut prev = vec![0u8; 32];
    for (seq, at, actor, action, patient, detail) in rows {
        let mut h = Sha256::new();
        h.update(&prev);
        h.update(seq.to_be_bytes());
        h.update(at.to_be_bytes());
        for field in [
            Some(actor.as_str()),
            Some(action.as_str()),
            patient.as_deref(),
            Some(detail.as_str()),
        ] {
            match field {
                Some(text) => {
                    h.update([1]);
                    h.update((text.len() as u64).to_be_bytes());
                    h.update(text.as_bytes());
                }
                None => h.update([0]),
            }
        }
        let hash = h.finalize().to_vec();
        conn.execute(
            "UPDATE audit_log SET prev_hash = ?2, hash = ?3 WHERE seq = ?1",
            rusqlite::params![seq, prev, hash],
        )
        .unwrap();
        conn.execute(
            "UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1",
            rusqlite::params![seq, hash],
        )
        .unwrap();
        prev = hash;
    }
}

#[test]
fn a_consistently_rewritten_audit_log_is_caught_after_a_sync() {
    let pki = Pki::new();
    let (registry, token, registry_dir) = receipting_registry(&pki);
    let mut clinic = Clinic::new("P3674060", "Puskesmas Pamulang");
    let siti = clinic.patient("Siti Rahayu");
    clinic.visit(&siti, "general");
    let report = syncer(&registry.url(), &token)
        .round(&mut clinic.store)
        .unwrap();
    let (head, _) = clinic.store.audit_head().unwrap().unwrap();
    assert_eq!(report.receipted, Some(head));
    let intact = clinic.store.verify_audit_with(Some(&pki.trust())).unwrap();
    assert_eq!(intact.problem, None);
    assert_eq!((intact.receipts, intact.covered_to), (1, Some(head)));

    // Someone with the file removes the second entry and rebuilds the chain and its head.
    let path = clinic.path.clone();
    drop(std::mem::replace(
        &mut clinic.store,
        Store::open(&path).unwrap(),
    ));
    rewrite_consistently(&path, 2);
    clinic.store = Store::open(&path).unwrap();
    let caught = clinic.store.verify_audit().unwrap();
    assert!(
        matches!(caught.problem, Some(AuditProblem::Rewritten { .. })),
        "{caught:?}"
    );

    // They delete the receipts too: the file alone now looks intact, but the registry
    // still holds the head it was given, and the next sync says the log was rewritten.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("DELETE FROM audit_receipt", [])
        .unwrap();
    assert_eq!(clinic.store.verify_audit().unwrap().problem, None);
    clinic.visit(&siti, "dental");
    let refused = syncer(&registry.url(), &token)
        .round(&mut clinic.store)
        .unwrap_err();
    assert!(refused.to_string().contains("rewritten"), "{refused}");
    // Patients' records still travel: the round said so after pushing them.
    let health = clinic.store.sync_health().unwrap();
    assert_eq!(health.pending, 0);
    assert!(health.last_error.is_some_and(|e| e.contains("rewritten")));

    // Had it been a restore from a backup, the operator would say so: the node's heads are
    // forgotten and its next sync starts a new history of receipts.
    let mut operator = SqliteBackend::open(&registry_path(&registry_dir)).unwrap();
    assert!(kartika_registry::Backend::forget_audit_heads(&mut operator, "P3674060").unwrap() >= 1);
    let report = syncer(&registry.url(), &token)
        .round(&mut clinic.store)
        .unwrap();
    assert!(report.receipted.is_some());
}

#[test]
fn a_receipt_forged_with_the_log_is_caught_with_the_trusted_root() {
    let pki = Pki::new();
    let (registry, token, _dir) = receipting_registry(&pki);
    let mut clinic = Clinic::new("P3674060", "Puskesmas Pamulang");
    clinic.patient("Siti Rahayu");
    syncer(&registry.url(), &token)
        .round(&mut clinic.store)
        .unwrap();
    let conn = rusqlite::Connection::open(&clinic.path).unwrap();
    let receipt: String = conn
        .query_row("SELECT receipt FROM audit_receipt", [], |r| r.get(0))
        .unwrap();
    let mut forged: serde_json::Value = serde_json::from_str(&receipt).unwrap();
    forged["received_at"] = serde_json::json!(0);
    conn.execute(
        "UPDATE audit_receipt SET receipt = ?1",
        [forged.to_string()],
    )
    .unwrap();
    let report = clinic.store.verify_audit_with(Some(&pki.trust())).unwrap();
    assert!(
        matches!(report.problem, Some(AuditProblem::ForgedReceipt { .. })),
        "{report:?}"
    );
}
