//! Staff accounts and what each role may do.

use kartika_store::{Role, StoreError};

use crate::support::{sick_visit, siti, staff, Clinic, PASSWORD};

#[test]
fn each_role_may_do_its_own_work_only() {
    let mut clinic = Clinic::new();
    let p = clinic.patient(&siti());
    let err = clinic
        .store
        .issue_card(&clinic.nurse, &p, "6037990000000014")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "nurse (nurse) may not issue, block or replace cards"
    );
    let err = clinic
        .store
        .register_visit(&clinic.nurse, &sick_visit(&p, "general"))
        .unwrap_err();
    assert!(matches!(err, StoreError::NotAllowed { .. }), "{err:?}");
    let err = clinic
        .store
        .add_staff(&clinic.desk, &staff("mallory", Role::Admin))
        .unwrap_err();
    assert!(matches!(err, StoreError::NotAllowed { .. }), "{err:?}");
    let id = clinic.visit(&p, "general").visit_id;
    let err = clinic
        .store
        .add_diagnosis(
            &clinic.desk,
            &id,
            "J06.9",
            kartika_store::DiagnosisRank::Primary,
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::NotAllowed { .. }), "{err:?}");
    let err = clinic
        .store
        .audit_trail(&clinic.nurse, None, 10)
        .unwrap_err();
    assert!(matches!(err, StoreError::NotAllowed { .. }), "{err:?}");
    // A session is made only by a login; one whose role was taken away since (a second
    // admin demoted to nurse) gets nothing for the role it was given at login.
    clinic
        .store
        .add_staff(&clinic.admin, &crate::support::staff("kepala", Role::Admin))
        .unwrap();
    let stale = clinic
        .store
        .login("kepala", crate::support::PASSWORD)
        .unwrap();
    clinic
        .store
        .set_role(&clinic.admin, "kepala", Role::Nurse)
        .unwrap();
    let err = clinic
        .store
        .issue_card(&stale, &p, "6037990000000014")
        .unwrap_err();
    assert!(matches!(err, StoreError::NotAllowed { .. }), "{err:?}");
}

#[test]
fn wrong_passwords_fail_and_every_attempt_is_audited() {
    let mut clinic = Clinic::new();
    assert!(matches!(
        clinic.store.login("desk", "salah-sandi"),
        Err(StoreError::LoginFailed)
    ));
    assert!(matches!(
        clinic.store.login("nobody", PASSWORD),
        Err(StoreError::LoginFailed)
    ));
    let trail = clinic.store.audit_trail(&clinic.admin, None, 5).unwrap();
    let actions: Vec<_> = trail
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert!(
        actions.contains(&("desk", "staff.login_failed")),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("nobody", "staff.login_failed")),
        "{actions:?}"
    );
}

#[test]
fn a_disabled_account_stops_working_at_once_and_stays_in_the_list() {
    let mut clinic = Clinic::new();
    clinic.store.disable_staff(&clinic.admin, "desk").unwrap();
    let err = clinic
        .store
        .create_patient(&clinic.desk, &siti())
        .unwrap_err();
    assert!(matches!(err, StoreError::LoginFailed), "{err:?}");
    assert!(matches!(
        clinic.store.login("desk", PASSWORD),
        Err(StoreError::LoginFailed)
    ));
    let list = clinic.store.list_staff(&clinic.admin).unwrap();
    assert!(list.iter().any(|s| s.username == "desk" && s.disabled));
    let err = clinic
        .store
        .disable_staff(&clinic.admin, "admin")
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

#[test]
fn accounts_are_checked_when_created() {
    let mut clinic = Clinic::new();
    let err = clinic
        .store
        .add_first_admin(&staff("second", Role::Admin))
        .unwrap_err();
    assert!(err.to_string().contains("an admin must log in"), "{err}");
    let mut weak = staff("bidan", Role::Nurse);
    weak.password = "123".into();
    let err = clinic.store.add_staff(&clinic.admin, &weak).unwrap_err();
    assert!(err.to_string().starts_with("password"), "{err}");
    let err = clinic
        .store
        .add_staff(&clinic.admin, &staff("Bad Name", Role::Nurse))
        .unwrap_err();
    assert!(err.to_string().starts_with("username"), "{err}");
    let err = clinic
        .store
        .add_staff(&clinic.admin, &staff("desk", Role::Nurse))
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyRecorded { .. }), "{err:?}");
    let conn = crate::support::raw(&clinic.path);
    let hash: String = conn
        .query_row(
            "SELECT password_hash FROM staff WHERE username = 'desk'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
}

#[test]
fn five_wrong_passwords_make_the_account_wait_and_the_audit_log_says_so() {
    let mut clinic = Clinic::new();
    for _ in 0..4 {
        assert!(matches!(
            clinic.store.login("desk", "salah-sandi"),
            Err(StoreError::LoginFailed)
        ));
    }
    assert!(matches!(
        clinic.store.login("desk", "salah-sandi"),
        Err(StoreError::LoginLocked { minutes: 1 })
    ));
    // While it waits, even the right password is refused.
    assert!(matches!(
        clinic.store.login("desk", crate::support::PASSWORD),
        Err(StoreError::LoginLocked { .. })
    ));
    clinic.clock.advance(time::Duration::seconds(31));
    // One more wrong password doubles the wait.
    assert!(matches!(
        clinic.store.login("desk", "salah-lagi"),
        Err(StoreError::LoginLocked { minutes: 1 })
    ));
    clinic.clock.advance(time::Duration::seconds(61));
    clinic
        .store
        .login("desk", crate::support::PASSWORD)
        .expect("the wait is over");
    // A success starts the count again.
    assert!(matches!(
        clinic.store.login("desk", "salah-sandi"),
        Err(StoreError::LoginFailed)
    ));
    let admin = clinic.admin.clone();
    let trail = clinic.store.audit_trail(&admin, None, 1000).unwrap();
    let locked = trail
        .iter()
        .filter(|e| e.action == "staff.locked" && e.actor == "desk")
        .count();
    assert_eq!(locked, 2);
    assert!(trail.iter().any(|e| e.action == "staff.login_while_locked"));
    // Other accounts are not slowed by the desk's mistakes.
    clinic
        .store
        .login("nurse", crate::support::PASSWORD)
        .unwrap();
}

#[test]
fn the_wait_doubles_up_to_fifteen_minutes() {
    let mut clinic = Clinic::new();
    let mut waits = Vec::new();
    for _ in 0..12 {
        if let Err(StoreError::LoginLocked { minutes }) = clinic.store.login("desk", "salah") {
            waits.push(minutes);
            clinic.clock.advance(time::Duration::minutes(minutes));
        }
    }
    assert_eq!(waits, [1, 1, 2, 4, 8, 15, 15, 15]);
}

#[test]
fn an_unknown_username_is_refused_like_a_wrong_password() {
    let mut clinic = Clinic::new();
    // The same answers, one after another, for a name that is no account and for one that
    // is: the lock tells nobody which names exist.
    let mut answers = |username: &str| -> Vec<String> {
        (0..7)
            .map(|_| match clinic.store.login(username, "whatever-it-is") {
                Err(StoreError::LoginFailed) => "failed".to_owned(),
                Err(StoreError::LoginLocked { minutes }) => format!("locked {minutes}"),
                other => format!("{other:?}"),
            })
            .collect()
    };
    let nobody = answers("nobody");
    let desk = answers("desk");
    assert_eq!(nobody, desk);
    assert_eq!(
        nobody[..5],
        ["failed", "failed", "failed", "failed", "locked 1"]
    );
}

#[test]
fn wrong_passwords_from_one_pc_lock_that_pc_out_not_the_others_nor_the_console() {
    let mut clinic = Clinic::new();
    let hostile = "workstation 0011223344556677";
    for _ in 0..12 {
        let _ = clinic.store.login_from("admin", "tebakan", hostile);
    }
    assert!(matches!(
        clinic
            .store
            .login_from("admin", crate::support::PASSWORD, hostile),
        Err(StoreError::LoginLocked { .. })
    ));
    clinic
        .store
        .login_from(
            "admin",
            crate::support::PASSWORD,
            "workstation 8899aabbccddeeff",
        )
        .expect("the admin at another PC");
    clinic
        .store
        .login("admin", crate::support::PASSWORD)
        .expect("the admin at the server's console");
}

#[test]
fn an_admin_resets_a_password_changes_a_role_and_enables_an_account_again() {
    let mut clinic = Clinic::new();
    let admin = clinic.admin.clone();
    for _ in 0..5 {
        let _ = clinic.store.login("nurse", "not-the-password");
    }
    assert!(clinic.store.login("nurse", PASSWORD).is_err(), "waiting");
    clinic
        .store
        .reset_password(&admin, "nurse", "kata-sandi-baru")
        .unwrap();
    let nurse = clinic.store.login("nurse", "kata-sandi-baru").unwrap();
    assert!(
        clinic.store.login("nurse", PASSWORD).is_err(),
        "the old password is gone"
    );
    let err = clinic
        .store
        .reset_password(&admin, "nurse", "short")
        .unwrap_err();
    assert!(err.to_string().contains("at least 8"), "{err}");

    clinic
        .store
        .set_role(&admin, "nurse", Role::Registration)
        .unwrap();
    assert!(
        clinic
            .store
            .queue_for_unit(&nurse, "general", None)
            .is_err(),
        "a session of the old role stops working"
    );
    let desk = clinic.store.login("nurse", "kata-sandi-baru").unwrap();
    assert_eq!(desk.role(), Role::Registration);

    clinic.store.disable_staff(&admin, "nurse").unwrap();
    assert!(clinic.store.login("nurse", "kata-sandi-baru").is_err());
    clinic.store.enable_staff(&admin, "nurse").unwrap();
    clinic.store.login("nurse", "kata-sandi-baru").unwrap();

    let actions: Vec<String> = clinic
        .store
        .audit_trail(&admin, None, 50)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in [
        "staff.password",
        "staff.role",
        "staff.disable",
        "staff.enable",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
    assert!(clinic
        .store
        .reset_password(&clinic.desk, "admin", "kata-sandi-baru")
        .is_err());
}

#[test]
fn the_last_enabled_admin_cannot_be_disabled_or_demoted() {
    let mut clinic = Clinic::new();
    let admin = clinic.admin.clone();
    clinic
        .store
        .add_staff(&admin, &staff("kepala", Role::Admin))
        .unwrap();
    let head = clinic.store.login("kepala", PASSWORD).unwrap();
    clinic.store.disable_staff(&head, "admin").unwrap();
    let err = clinic
        .store
        .set_role(&head, "kepala", Role::Nurse)
        .unwrap_err();
    assert!(
        err.to_string().contains("without an enabled admin"),
        "{err}"
    );
    assert_eq!(
        clinic.store.login("kepala", PASSWORD).unwrap().role(),
        Role::Admin,
        "unchanged"
    );
    clinic.store.enable_staff(&head, "admin").unwrap();
    clinic.store.set_role(&head, "kepala", Role::Nurse).unwrap();
}

#[test]
fn the_facility_changes_its_name_catchment_and_zone_but_never_its_code() {
    let mut clinic = Clinic::new();
    let admin = clinic.admin.clone();
    let mut profile = clinic.store.facility();
    profile.name = "UPTD Puskesmas Pamulang".into();
    profile.zone = kartika_store::TimeZone::Wita;
    clinic.store.update_facility(&admin, &profile).unwrap();
    assert_eq!(clinic.store.facility().name, "UPTD Puskesmas Pamulang");
    assert_eq!(clinic.store.facility().zone, kartika_store::TimeZone::Wita);
    profile.code = "P3674020".into();
    let err = clinic.store.update_facility(&admin, &profile).unwrap_err();
    assert!(err.to_string().contains("stays P3674060"), "{err}");
    assert!(clinic
        .store
        .update_facility(&clinic.nurse, &clinic.store.facility())
        .is_err());
}

#[test]
fn set_aside_records_go_back_in_the_queue_when_an_admin_resends_them() {
    let mut clinic = Clinic::new();
    clinic.patient(&siti());
    let pending = clinic.store.outbox_pending(10).unwrap();
    let id = pending[0].id.clone();
    clinic
        .store
        .settle_outbox(&[(
            id.clone(),
            kartika_store::Settlement::SetAside("refused".into()),
        )])
        .unwrap();
    let health = clinic.store.sync_health().unwrap();
    assert_eq!((health.pending, health.set_aside), (0, 1));
    assert!(clinic
        .store
        .resend_set_aside(&clinic.desk, std::slice::from_ref(&id))
        .is_err());
    assert_eq!(
        clinic
            .store
            .resend_set_aside(&clinic.admin.clone(), &[id])
            .unwrap(),
        1
    );
    let health = clinic.store.sync_health().unwrap();
    assert_eq!((health.pending, health.set_aside), (1, 0));
}

#[test]
fn a_session_made_from_a_servers_login_acts_on_no_store() {
    let mut clinic = Clinic::new();
    // What a workstation holds after logging in on the clinic server, naming this store's
    // own admin: it is refused as if nobody had logged in.
    let named = kartika_store::Session::on_server("admin".into(), "Admin".into(), Role::Admin);
    let err = clinic.store.list_staff(&named).unwrap_err();
    assert!(matches!(err, StoreError::LoginFailed), "{err:?}");
    assert!(clinic.store.list_staff(&clinic.admin).is_ok());
}
