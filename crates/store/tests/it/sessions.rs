//! Sessions kept for the workstations of the LAN.

use kartika_store::{Role, StoreError};

use crate::support::{Clinic, PASSWORD};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[test]
fn a_workstations_session_outlives_the_store_being_opened_again() {
    let mut clinic = Clinic::new();
    let (session, token) = clinic.store.open_session("desk", PASSWORD).unwrap();
    assert_eq!(session.role(), Role::Registration);
    let mut reopened = kartika_store::Store::open_with_clock(
        &clinic.path,
        std::sync::Arc::new(clinic.clock.clone()),
    )
    .unwrap();
    let resumed = reopened.resume_session(&token, DAY_MS).expect("resumed");
    assert_eq!(resumed, session);
    assert!(
        reopened.queue_counts(&resumed).is_ok(),
        "the resumed session works"
    );
}

#[test]
fn a_session_ends_at_logout_when_idle_and_for_a_forged_token() {
    let mut clinic = Clinic::new();
    let (_, token) = clinic.store.open_session("desk", PASSWORD).unwrap();
    let forged = "ab".repeat(32);
    assert!(matches!(
        clinic.store.resume_session(&forged, DAY_MS),
        Err(StoreError::LoginFailed)
    ));
    clinic.clock.advance(time::Duration::hours(2));
    assert!(
        matches!(
            clinic.store.resume_session(&token, 60 * 60 * 1000),
            Err(StoreError::LoginFailed)
        ),
        "idle for two hours, with an hour allowed"
    );
    let (_, token) = clinic.store.open_session("desk", PASSWORD).unwrap();
    clinic.store.end_session(&token).unwrap();
    assert!(matches!(
        clinic.store.resume_session(&token, DAY_MS),
        Err(StoreError::LoginFailed)
    ));
}

#[test]
fn a_role_change_a_password_reset_or_a_disabled_account_end_its_sessions() {
    let mut clinic = Clinic::new();
    let admin = clinic.admin.clone();
    let (_, token) = clinic.store.open_session("desk", PASSWORD).unwrap();
    clinic.store.set_role(&admin, "desk", Role::Nurse).unwrap();
    assert!(clinic.store.resume_session(&token, DAY_MS).is_err());

    let (_, token) = clinic.store.open_session("nurse", PASSWORD).unwrap();
    clinic
        .store
        .reset_password(&admin, "nurse", "kata-sandi-baru-2")
        .unwrap();
    assert!(clinic.store.resume_session(&token, DAY_MS).is_err());

    let (_, token) = clinic.store.open_session("desk", PASSWORD).unwrap();
    clinic.store.disable_staff(&admin, "desk").unwrap();
    assert!(clinic.store.resume_session(&token, DAY_MS).is_err());
}

#[test]
fn only_the_tokens_hash_is_kept() {
    let mut clinic = Clinic::new();
    let (_, token) = clinic.store.open_session("desk", PASSWORD).unwrap();
    let raw = std::fs::read(&clinic.path).unwrap();
    let wal = std::fs::read(clinic.path.with_extension("sqlite-wal")).unwrap_or_default();
    for bytes in [raw, wal] {
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "the token itself is nowhere in the file"
        );
    }
}

/// A workstation's P-256 public key, the same for the same `n`.
fn workstation_key(n: u8) -> Vec<u8> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let secret = p256::SecretKey::from_slice(&[n + 1; 32]).expect("a scalar");
    secret
        .public_key()
        .to_encoded_point(false)
        .as_bytes()
        .to_vec()
}

/// The audit log's entries for join requests (reading the log is audited too).
fn join_requests_audited(clinic: &mut Clinic) -> usize {
    let admin = clinic.admin.clone();
    clinic
        .store
        .audit_search(&admin, &kartika_store::AuditFilter::default(), 10_000)
        .expect("the audit log")
        .iter()
        .filter(|e| e.action == "workstation.requested")
        .count()
}

#[test]
fn a_join_request_writes_only_when_it_adds_one() {
    let mut clinic = Clinic::new();
    let id = clinic
        .store
        .request_workstation("Loket 1", &workstation_key(1), "192.0.2.7")
        .expect("asked");
    let before = join_requests_audited(&mut clinic);
    assert_eq!(before, 1);
    // The same PC asking again, a hundred times: the same id, nothing written.
    for _ in 0..100 {
        let again = clinic
            .store
            .request_workstation("Loket 1", &workstation_key(1), "192.0.2.7")
            .expect("asked again");
        assert_eq!(again, id);
    }
    // A key that is no point on the curve, and a decoy copying the name: refused.
    let mut not_a_point = vec![0x04; 65];
    not_a_point[1] = 7;
    let err = clinic
        .store
        .request_workstation("Loket 2", &not_a_point, "192.0.2.7")
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    let err = clinic
        .store
        .request_workstation("Loket 1", &workstation_key(2), "192.0.2.7")
        .unwrap_err();
    assert!(err.to_string().contains("already waits"), "{err}");
    assert_eq!(
        join_requests_audited(&mut clinic),
        1,
        "no audit entry added"
    );
    let admin = clinic.admin.clone();
    assert_eq!(clinic.store.list_workstations(&admin).unwrap().len(), 1);
}

#[test]
fn strangers_asking_to_join_cannot_fill_the_admins_list() {
    let mut clinic = Clinic::new();
    let key = workstation_key;
    for n in 0..20 {
        clinic
            .store
            .request_workstation(&format!("PC {n}"), &key(n), "192.0.2.7")
            .expect("asked");
    }
    let err = clinic
        .store
        .request_workstation("PC 21", &key(21), "192.0.2.7")
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let admin = clinic.admin.clone();
    let listed = clinic.store.list_workstations(&admin).unwrap();
    assert_eq!(listed.len(), 20);
    assert!(listed.iter().all(|w| w.approved_by.is_none() && !w.revoked));
    let nurse = clinic.nurse.clone();
    assert!(matches!(
        clinic.store.list_workstations(&nurse),
        Err(StoreError::NotAllowed { .. })
    ));
}
