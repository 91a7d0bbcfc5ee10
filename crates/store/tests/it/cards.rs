//! Cards: issued, blocked, replaced, and checked at the tap.

use kartika_card::model::{Identity, IdentityJson};
use kartika_protocol::Change;
use kartika_store::{CardStatus, OutboxKind, StoreError, TapOutcome};

use crate::support::{siti, Clinic};

pub fn card_identity() -> Identity {
    let json = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/demo/identity.json"
    ))
    .unwrap();
    let parsed: IdentityJson = serde_json::from_str(&json).unwrap();
    Identity::try_from(parsed).unwrap()
}

#[test]
fn a_lost_card_is_blocked_revoked_and_refused_at_the_next_tap() {
    // The card's own Puskesmas, which alone revokes it for everyone; its admin's tap
    // records the card.
    let mut clinic = Clinic::with_facility("P3674010");
    let identity = card_identity();
    let first = clinic.store.admit_card(&clinic.admin, &identity).unwrap();
    let TapOutcome::RegisteredFromCard { patient, .. } = first else {
        panic!("the card registers its patient here: {first:?}");
    };
    assert_eq!(patient.patient_number, identity.patient_number.as_str());
    assert_eq!(patient.origin_facility, "P3674010");
    let again = clinic.store.admit_card(&clinic.desk, &identity).unwrap();
    assert!(matches!(again, TapOutcome::Known { .. }), "{again:?}");

    let card = clinic
        .store
        .block_card(&clinic.admin, "6037990000000014", "hilang di pasar")
        .unwrap();
    assert_eq!(card.status, CardStatus::Blocked);
    let tap = clinic.store.admit_card(&clinic.desk, &identity).unwrap();
    match tap {
        TapOutcome::Refused {
            reason,
            patient_number,
            ..
        } => {
            assert!(reason.contains("hilang di pasar"), "{reason}");
            assert_eq!(
                patient_number.as_deref(),
                Some(identity.patient_number.as_str())
            );
        }
        other => panic!("a blocked card must be refused: {other:?}"),
    }
    let revocations: Vec<_> = clinic
        .store
        .outbox_pending(100)
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == OutboxKind::Revocation)
        .collect();
    assert_eq!(revocations.len(), 1);
    assert_eq!(revocations[0].record_id, "6037990000000014");
    let err = clinic
        .store
        .block_card(&clinic.admin, "6037990000000014", "lagi")
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

#[test]
fn a_replacement_card_takes_over_and_the_old_one_is_revoked() {
    let mut clinic = Clinic::new();
    let p = clinic.patient(&siti());
    clinic
        .store
        .issue_card(&clinic.admin, &p, "6037990000000014")
        .unwrap();
    let err = clinic
        .store
        .issue_card(&clinic.admin, &p, "6037990000000022")
        .unwrap_err();
    assert!(err.to_string().contains("replace that card"), "{err}");
    let new = clinic
        .store
        .replace_card(
            &clinic.admin,
            "6037990000000014",
            "6037990000000022",
            "kartu rusak",
        )
        .unwrap();
    assert_eq!(new.status, CardStatus::Active);
    let cards = clinic.store.patient_cards(&clinic.nurse, &p).unwrap();
    let old = cards
        .iter()
        .find(|c| c.card_number == "6037990000000014")
        .unwrap();
    assert_eq!(old.status, CardStatus::Replaced);
    assert_eq!(old.replaced_by.as_deref(), Some("6037990000000022"));
    assert!(clinic
        .store
        .revocation_reason("6037990000000014")
        .unwrap()
        .is_some());
    assert!(clinic
        .store
        .revocation_reason("6037990000000022")
        .unwrap()
        .is_none());
}

#[test]
fn card_numbers_are_checked_and_not_given_twice() {
    let mut clinic = Clinic::new();
    let p = clinic.patient(&siti());
    let err = clinic
        .store
        .issue_card(&clinic.admin, &p, "6037990000000015")
        .unwrap_err();
    assert!(err.to_string().contains("check digit"), "{err}");
    clinic
        .store
        .issue_card(&clinic.admin, &p, "6037990000000014")
        .unwrap();
    clinic
        .store
        .block_card(&clinic.admin, "6037990000000014", "hilang")
        .unwrap();
    let err = clinic
        .store
        .issue_card(&clinic.admin, &p, "6037990000000014")
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyRecorded { .. }), "{err:?}");
}

#[test]
fn a_desk_tap_never_records_a_card_of_this_puskesmas() {
    // The card says this Puskesmas issued it, yet no issuance recorded it here.
    let mut clinic = Clinic::with_facility("P3674010");
    let identity = card_identity();
    let tap = clinic.store.admit_card(&clinic.desk, &identity).unwrap();
    match tap {
        TapOutcome::Refused { reason, .. } => {
            assert!(reason.starts_with("unrecorded"), "{reason}")
        }
        other => panic!("a desk must not record the card: {other:?}"),
    }
    let number = identity.card_number.to_string();
    let unknown = clinic
        .store
        .block_card(&clinic.admin, &number, "hilang")
        .unwrap_err();
    assert!(
        matches!(unknown, StoreError::NotFound { .. }),
        "no card row: {unknown:?}"
    );
    assert!(clinic
        .store
        .outbox_pending(100)
        .unwrap()
        .iter()
        .all(|r| r.kind != OutboxKind::Card));
}

#[test]
fn a_card_whose_nik_is_registered_here_under_another_number_is_flagged_not_refused() {
    let mut clinic = Clinic::new();
    let identity = card_identity();
    let mut local = siti();
    local.nik = identity.nik.as_ref().map(ToString::to_string);
    local.birth_date = "1990-01-10".into();
    let local_number = clinic.patient(&local);
    let tap = clinic.store.admit_card(&clinic.desk, &identity).unwrap();
    assert!(
        matches!(tap, TapOutcome::RegisteredFromCard { .. }),
        "{tap:?}"
    );
    let flags = clinic.store.possible_duplicates(&clinic.admin).unwrap();
    assert!(flags
        .iter()
        .any(|f| f.other_patient_number == local_number && f.reason == "same NIK"));
}

#[test]
fn a_found_card_is_unblocked_here_and_at_the_clinics_that_applied_its_block() {
    let mut clinic = Clinic::with_facility("P3674010");
    let identity = card_identity();
    clinic.store.admit_card(&clinic.admin, &identity).unwrap();
    let number = identity.card_number.to_string();
    clinic
        .store
        .block_card(&clinic.admin, &number, "hilang")
        .unwrap();
    let err = clinic
        .store
        .lift_block(&clinic.desk, &number, "ketemu")
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotAllowed { .. }),
        "admins only: {err:?}"
    );

    // Another clinic applies the block, as sync hands it on.
    let mut other = Clinic::with_facility("P3674020");
    let pending = clinic.store.outbox_pending(100).unwrap();
    let as_change = |seq: i64, kind: OutboxKind| {
        let record = pending.iter().rev().find(|r| r.kind == kind).unwrap();
        Change {
            seq,
            facility: "P3674010".into(),
            kind: kind.into(),
            record_id: record.record_id.clone(),
            payload: record.payload.clone(),
        }
    };
    other
        .store
        .apply_changes(&[as_change(1, OutboxKind::Revocation)], 1)
        .unwrap();
    assert!(other.store.revocation_reason(&number).unwrap().is_some());

    let card = clinic
        .store
        .lift_block(&clinic.admin, &number, "ketemu di rumah")
        .unwrap();
    assert_eq!(card.status, CardStatus::Active);
    let tap = clinic.store.admit_card(&clinic.desk, &identity).unwrap();
    assert!(matches!(tap, TapOutcome::Known { .. }), "{tap:?}");

    let pending = clinic.store.outbox_pending(100).unwrap();
    let lift = pending
        .iter()
        .rev()
        .find(|r| r.kind == OutboxKind::Revocation)
        .unwrap();
    let mut change = Change {
        seq: 2,
        facility: "P3674099".into(),
        kind: kartika_protocol::Kind::Revocation,
        record_id: lift.record_id.clone(),
        payload: lift.payload.clone(),
    };
    other.store.apply_changes(&[change.clone()], 2).unwrap();
    assert!(
        other.store.revocation_reason(&number).unwrap().is_some(),
        "a lift from a Puskesmas that did not revoke the card changes nothing"
    );
    change.seq = 3;
    change.facility = "P3674010".into();
    other.store.apply_changes(&[change], 3).unwrap();
    assert_eq!(other.store.revocation_reason(&number).unwrap(), None);
}

#[test]
fn a_replaced_card_and_a_card_whose_patient_has_a_new_one_stay_blocked() {
    let mut clinic = Clinic::new();
    let p = clinic.patient(&siti());
    clinic
        .store
        .issue_card(&clinic.admin, &p, "6037990000000014")
        .unwrap();
    clinic
        .store
        .replace_card(
            &clinic.admin,
            "6037990000000014",
            "6037990000000022",
            "rusak",
        )
        .unwrap();
    let err = clinic
        .store
        .lift_block(&clinic.admin, "6037990000000014", "ketemu")
        .unwrap_err();
    assert!(err.to_string().contains("only a blocked card"), "{err}");
    clinic
        .store
        .block_card(&clinic.admin, "6037990000000022", "hilang")
        .unwrap();
    clinic
        .store
        .issue_card(&clinic.admin, &p, "6037990000000030")
        .unwrap();
    let err = clinic
        .store
        .lift_block(&clinic.admin, "6037990000000022", "ketemu")
        .unwrap_err();
    assert!(
        err.to_string().contains("active card 6037990000000030"),
        "{err}"
    );
}

#[test]
fn a_new_cards_identity_carries_the_patient_and_the_facilitys_next_card_number() {
    let mut clinic = Clinic::new();
    let p = clinic.patient(&siti());
    let first = clinic
        .store
        .new_card_identity(&clinic.admin, &p, None, 5)
        .unwrap();
    let number = first.card_number.to_string();
    assert!(number.starts_with("636740600000001"), "{number}");
    assert_eq!(first.patient_number.as_str(), p);
    assert_eq!(first.name, "Siti Rahayu");
    assert_eq!(first.facility_code.as_str(), "P3674060");
    assert_eq!(first.expiry_date.year(), first.issue_date.year() + 5);
    let second = clinic
        .store
        .new_card_identity(&clinic.admin, &p, None, 5)
        .unwrap();
    assert_ne!(
        second.card_number, first.card_number,
        "a number is never handed out twice"
    );
    assert!(
        clinic
            .store
            .new_card_identity(&clinic.desk, &p, None, 5)
            .is_err(),
        "admins only"
    );
    clinic.store.issue_card(&clinic.admin, &p, &number).unwrap();
    let err = clinic
        .store
        .new_card_identity(&clinic.admin, &p, None, 5)
        .unwrap_err();
    assert!(
        err.to_string().contains("already holds active card"),
        "{err}"
    );
}
