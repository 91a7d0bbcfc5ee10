//! The audit chain: every read and change is logged; tampering is found and named.

use kartika_store::{AuditProblem, PatientQuery, Store};

use crate::support::{raw, siti, Clinic};

fn busy_clinic() -> Clinic {
    let mut clinic = Clinic::new();
    let p = clinic.patient(&siti());
    clinic.visit(&p, "general");
    clinic.store.patient_history(&clinic.nurse, &p).unwrap();
    clinic
        .store
        .search_patients(&clinic.desk, &PatientQuery::Nik("3674065001900003".into()))
        .unwrap();
    clinic
}

fn verify(clinic: &Clinic) -> Option<AuditProblem> {
    Store::open(&clinic.path)
        .unwrap()
        .verify_audit()
        .unwrap()
        .problem
}

/// Tampering as someone with the file would: the append-only triggers go first.
fn tamper(clinic: &Clinic, sql: &str) {
    raw(&clinic.path)
        .execute_batch(&format!(
            "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; {sql}"
        ))
        .unwrap();
}

#[test]
fn reads_and_changes_are_logged_with_who_and_which_patient() {
    let mut clinic = busy_clinic();
    let trail = clinic.store.audit_trail(&clinic.admin, None, 100).unwrap();
    let actions: Vec<_> = trail
        .iter()
        .rev()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    for expected in [
        ("desk", "patient.create"),
        ("desk", "visit.register"),
        ("nurse", "patient.history"),
        ("desk", "patient.search"),
    ] {
        assert!(actions.contains(&expected), "{expected:?} in {actions:?}");
    }
    let history = trail
        .iter()
        .find(|e| e.action == "patient.history")
        .unwrap();
    assert!(history
        .patient_number
        .as_deref()
        .is_some_and(|n| n.starts_with("P3674060")));
    let report = clinic.store.verify_audit().unwrap();
    assert_eq!(report.problem, None);
    assert!(report.entries >= 10);
}

#[test]
fn a_search_names_the_patients_it_showed_and_is_found_by_patient() {
    let mut clinic = busy_clinic();
    let siti = clinic
        .store
        .search_patients(&clinic.desk, &PatientQuery::Nik("3674065001900003".into()))
        .unwrap()
        .remove(0)
        .patient_number;
    let seen_by = clinic
        .store
        .audit_search(
            &clinic.admin,
            &kartika_store::AuditFilter {
                patient_number: Some(siti.clone()),
                action: Some("patient.search".into()),
                ..Default::default()
            },
            100,
        )
        .unwrap();
    assert_eq!(seen_by.len(), 2, "both searches that showed her");
    assert!(seen_by
        .iter()
        .all(|e| e.actor == "desk" && e.detail.contains(&siti)));
}

#[test]
fn the_app_itself_cannot_change_or_delete_entries() {
    let clinic = busy_clinic();
    let err = raw(&clinic.path)
        .execute("UPDATE audit_log SET actor = 'x' WHERE seq = 3", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = raw(&clinic.path)
        .execute("DELETE FROM audit_log WHERE seq = 3", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[test]
fn an_edited_entry_is_named() {
    let clinic = busy_clinic();
    tamper(
        &clinic,
        "UPDATE audit_log SET actor = 'admin' WHERE seq = 7",
    );
    assert_eq!(verify(&clinic), Some(AuditProblem::Changed { seq: 7 }));
}

#[test]
fn a_deleted_entry_is_named() {
    let clinic = busy_clinic();
    tamper(&clinic, "DELETE FROM audit_log WHERE seq = 5");
    assert_eq!(verify(&clinic), Some(AuditProblem::Missing { seq: 5 }));
}

#[test]
fn swapped_entries_are_found_at_the_first_of_them() {
    let clinic = busy_clinic();
    tamper(
        &clinic,
        "UPDATE audit_log SET seq = -1 WHERE seq = 6;
         UPDATE audit_log SET seq = 6 WHERE seq = 8;
         UPDATE audit_log SET seq = 8 WHERE seq = -1;",
    );
    assert_eq!(verify(&clinic), Some(AuditProblem::Changed { seq: 6 }));
}

#[test]
fn an_overwritten_hash_or_link_is_found() {
    let clinic = busy_clinic();
    tamper(
        &clinic,
        "UPDATE audit_log SET hash = zeroblob(32) WHERE seq = 4",
    );
    assert_eq!(verify(&clinic), Some(AuditProblem::Changed { seq: 4 }));
    let clinic = busy_clinic();
    tamper(
        &clinic,
        "UPDATE audit_log SET prev_hash = zeroblob(32) WHERE seq = 9",
    );
    assert_eq!(verify(&clinic), Some(AuditProblem::Changed { seq: 9 }));
}

/// The entry hash, written out again from its specification: SHA-256 of the previous hash,
/// seq and time as 8-byte big-endian, then each text field as a presence byte, an 8-byte
/// length and the bytes.
fn entry_hash(prev: &[u8], seq: i64, at: i64, fields: [Option<&str>; 4]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    for field in fields {
        match field {
            Some(text) => {
                h.update([1]);
                h.update((text.len() as u64).to_be_bytes());
                h.update(text.as_bytes());
            }
            None => h.update([0]),
        }
    }
    h.finalize().to_vec()
}

#[test]
fn an_edit_with_a_recomputed_hash_breaks_the_link_to_the_next_entry() {
    let clinic = busy_clinic();
    let conn = raw(&clinic.path);
    let (prev, at, action, patient, detail): (Vec<u8>, i64, String, Option<String>, String) = conn
        .query_row(
            "SELECT prev_hash, at, action, patient_number, detail FROM audit_log WHERE seq = 7",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    let forged = entry_hash(
        &prev,
        7,
        at,
        [
            Some("admin"),
            Some(&action),
            patient.as_deref(),
            Some(&detail),
        ],
    );
    drop(conn);
    tamper(
        &clinic,
        &format!(
            "UPDATE audit_log SET actor = 'admin', hash = x'{}' WHERE seq = 7",
            hex(&forged)
        ),
    );
    assert_eq!(verify(&clinic), Some(AuditProblem::Unlinked { seq: 8 }));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn cutting_off_the_newest_entries_is_noticed() {
    let clinic = busy_clinic();
    let last: i64 = raw(&clinic.path)
        .query_row("SELECT max(seq) FROM audit_log", [], |r| r.get(0))
        .unwrap();
    tamper(
        &clinic,
        &format!("DELETE FROM audit_log WHERE seq >= {}", last - 1),
    );
    assert_eq!(
        verify(&clinic),
        Some(AuditProblem::Truncated {
            last_present: last - 2,
            head: last
        })
    );
}

#[test]
fn the_log_is_searched_by_day_person_patient_and_action() {
    let mut clinic = crate::support::Clinic::new();
    let siti = clinic.patient(&crate::support::siti());
    clinic.visit(&siti, "general");
    let admin = clinic.admin.clone();
    let search = |clinic: &mut crate::support::Clinic, filter: kartika_store::AuditFilter| {
        clinic.store.audit_search(&admin, &filter, 100).unwrap()
    };
    let by_desk = search(
        &mut clinic,
        kartika_store::AuditFilter {
            actor: Some("desk".into()),
            ..Default::default()
        },
    );
    assert!(!by_desk.is_empty() && by_desk.iter().all(|e| e.actor == "desk"));
    let visits = search(
        &mut clinic,
        kartika_store::AuditFilter {
            action: Some("visit.".into()),
            patient_number: Some(siti.clone()),
            ..Default::default()
        },
    );
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0].action, "visit.register");
    let today = search(
        &mut clinic,
        kartika_store::AuditFilter {
            day: Some("2026-11-28".into()),
            ..Default::default()
        },
    );
    assert!(!today.is_empty());
    let other_day = search(
        &mut clinic,
        kartika_store::AuditFilter {
            day: Some("2026-11-27".into()),
            ..Default::default()
        },
    );
    assert!(other_day.is_empty());
    assert!(clinic
        .store
        .audit_search(&clinic.nurse, &kartika_store::AuditFilter::default(), 10)
        .is_err());
}
