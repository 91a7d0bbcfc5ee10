//! Pulled changes from a registry whose nodes are strangers: each applied on its own, none
//! wedging the pulls, none lost, none blanking what this Puskesmas knows.

use kartika_protocol::Change;
use kartika_store::{OutboxKind, TapOutcome, Warning};
use serde_json::Value;

use crate::support::{siti, Clinic};

/// The record of `kind` a clinic would push for its newest patient or visit.
fn pushed(clinic: &Clinic, kind: OutboxKind) -> Value {
    let row = clinic
        .store
        .outbox_pending(100)
        .unwrap()
        .into_iter()
        .rev()
        .find(|r| r.kind == kind)
        .expect("a record of that kind in the outbox");
    serde_json::from_str(row.payload.get()).unwrap()
}

/// The patient record a clinic would push for its newest patient.
fn pushed_patient(clinic: &Clinic) -> Value {
    pushed(clinic, OutboxKind::Patient)
}

fn change(seq: i64, facility: &str, kind: OutboxKind, record_id: &str, payload: Value) -> Change {
    Change {
        seq,
        facility: facility.into(),
        kind: kind.into(),
        record_id: record_id.into(),
        payload: serde_json::value::to_raw_value(&payload).unwrap(),
    }
}

fn revocation(seq: i64, facility: &str, card: &str) -> Change {
    change(
        seq,
        facility,
        OutboxKind::Revocation,
        card,
        serde_json::json!({ "card_number": card, "reason": "blocked: hilang", "facility_code": facility }),
    )
}

#[test]
fn a_change_that_cannot_be_applied_is_kept_and_never_wedges_the_pulls() {
    let pamulang = {
        let mut clinic = Clinic::with_facility("P3674060");
        clinic.patient(&siti());
        clinic
    };
    let siti_record = pushed_patient(&pamulang);
    let mut here = Clinic::with_facility("P3674010");
    let first = change(
        1,
        "P3674060",
        OutboxKind::Patient,
        "p1",
        siti_record.clone(),
    );
    here.store.apply_changes(&[first], 1).unwrap();

    // A stranger's record reusing Siti's id for another number, then a revocation.
    let mut reused = siti_record.clone();
    reused["patient_number"] = Value::String("P36740600099991".into());
    reused["name"] = Value::String("Penyusup".into());
    let page = [
        change(2, "P3674060", OutboxKind::Patient, "p2", reused),
        revocation(3, "P3674060", "6037990000000014"),
    ];
    let report = here.store.apply_changes(&page, 3).unwrap();
    assert_eq!(report.applied, 1, "the revocation after it is applied");
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].0, 2);
    assert!(here
        .store
        .revocation_reason("6037990000000014")
        .unwrap()
        .is_some());
    let health = here.store.sync_health().unwrap();
    assert_eq!(health.pull_after, 3, "the cursor moves on");
    assert_eq!(
        health.pulled_set_aside, 1,
        "and the change is kept, not lost"
    );
    // Later pages keep flowing.
    let report = here
        .store
        .apply_changes(&[revocation(4, "P3674060", "6037990000000022")], 4)
        .unwrap();
    assert_eq!(report.applied, 1);
}

#[test]
fn a_pulled_patient_is_applied_only_newer_from_its_owner_and_never_blanks_a_field() {
    let mut pamulang = Clinic::with_facility("P3674060");
    let number = pamulang.patient(&siti());
    let mut record = pushed_patient(&pamulang);
    let mut here = Clinic::with_facility("P3674010");
    here.store
        .apply_changes(
            &[change(
                1,
                "P3674060",
                OutboxKind::Patient,
                "p",
                record.clone(),
            )],
            1,
        )
        .unwrap();

    // Version 2 from Pamulang without phone and No. KK (as a record built from a card).
    record["version"] = Value::from(2);
    record["phone"] = Value::Null;
    record["family_card_number"] = Value::Null;
    record["address"] = Value::String("Jl. Baru No. 3".into());
    here.store
        .apply_changes(
            &[change(
                2,
                "P3674060",
                OutboxKind::Patient,
                "p",
                record.clone(),
            )],
            2,
        )
        .unwrap();
    // An older version arriving late, and a rename by another facility.
    let mut older = record.clone();
    older["version"] = Value::from(1);
    older["address"] = Value::String("Jl. Lama".into());
    let mut renamed = record.clone();
    renamed["version"] = Value::from(99);
    renamed["name"] = Value::String("Someone Else".into());
    let report = here
        .store
        .apply_changes(
            &[
                change(3, "P3674060", OutboxKind::Patient, "p", older),
                change(4, "P3674020", OutboxKind::Patient, "p", renamed),
            ],
            4,
        )
        .unwrap();
    assert_eq!(
        report.skipped.len(),
        1,
        "the rename is not applied: {report:?}"
    );
    let patient = here
        .store
        .desk_patient(&here.admin, &number)
        .unwrap()
        .patient;
    assert_eq!(patient.name, "Siti Rahayu");
    assert_eq!(patient.address.as_deref(), Some("Jl. Baru No. 3"));
    assert_eq!(patient.phone.as_deref(), Some("0812 3456 7890"), "kept");
    assert_eq!(
        patient.family_card_number.as_deref(),
        Some("3674061201150007")
    );
    assert_eq!(patient.version, 2);
}

#[test]
fn a_baby_born_after_midnight_in_another_zone_is_not_in_the_future_here() {
    let mut wit = Clinic::in_zone(kartika_store::TimeZone::Wit);
    let mut baby = siti();
    baby.nik = None;
    baby.name = "Bayi Ny. Rahayu".into();
    // 01:00 WIT on the 29th is still the 28th in WIB.
    baby.birth_date = "2026-11-29".into();
    wit.clock.set(time::macros::datetime!(2026-11-28 16:00 UTC));
    wit.patient(&baby);
    let record = pushed_patient(&wit);
    let mut here = Clinic::with_facility("P3674010");
    here.clock
        .set(time::macros::datetime!(2026-11-28 16:00 UTC));
    let report = here
        .store
        .apply_changes(
            &[change(1, "P3674060", OutboxKind::Patient, "p", record)],
            1,
        )
        .unwrap();
    assert_eq!(report.applied, 1, "{report:?}");
}

#[test]
fn a_card_that_differs_from_the_record_here_is_flagged_not_bound_silently() {
    let mut clinic = Clinic::with_facility("P3674010");
    let identity = crate::cards::card_identity();
    // A card of this Puskesmas: the admin's tap records it.
    clinic.store.admit_card(&clinic.admin, &identity).unwrap();
    let mut json: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../assets/demo/identity.json"
        ))
        .unwrap(),
    )
    .unwrap();
    json["name"] = Value::String("Siti Rahayu Binti Ahmad".into());
    let parsed: kartika_card::model::IdentityJson = serde_json::from_value(json).unwrap();
    let changed = kartika_card::model::Identity::try_from(parsed).unwrap();
    let tap = clinic.store.admit_card(&clinic.desk, &changed).unwrap();
    let TapOutcome::Known { warnings, .. } = tap else {
        panic!("{tap:?}");
    };
    assert!(
        matches!(&warnings[..], [Warning::CardDiffers { field, .. }] if field == "name"),
        "{warnings:?}"
    );
}

#[test]
fn cards_signed_by_a_revoked_node_are_refused_from_its_revocation_day() {
    let mut clinic = Clinic::with_facility("P3674060");
    let identity = crate::cards::card_identity();
    let node_revocation = change(
        1,
        "registry",
        OutboxKind::Revocation,
        "node:P3674010",
        serde_json::json!({ "node": "P3674010", "reason": "PC dicuri",
                            "revoked_at": 1_700_000_000_000_i64, "facility_code": "registry" }),
    );
    // The same change from a node, not the operator, is not believed.
    let mut forged = node_revocation.clone();
    forged.facility = "P3674020".into();
    let report = clinic.store.apply_changes(&[forged], 1).unwrap();
    assert_eq!(report.skipped.len(), 1);
    let tap = clinic.store.admit_card(&clinic.desk, &identity).unwrap();
    assert!(!matches!(tap, TapOutcome::Refused { .. }), "{tap:?}");

    clinic.store.apply_changes(&[node_revocation], 2).unwrap();
    let tap = clinic.store.admit_card(&clinic.desk, &identity).unwrap();
    let TapOutcome::Refused { reason, .. } = tap else {
        panic!("issued after the node's revocation: {tap:?}");
    };
    assert!(reason.contains("revoked that node"), "{reason}");
}

#[test]
fn the_owners_record_replaces_what_a_card_could_tell() {
    let mut here = Clinic::with_facility("P3674060");
    let identity = crate::cards::card_identity();
    let tap = here.store.admit_card(&here.desk, &identity).unwrap();
    let TapOutcome::RegisteredFromCard { patient, .. } = tap else {
        panic!("{tap:?}");
    };
    assert_eq!(patient.phone, None, "a card holds no phone number");
    let mut owners = serde_json::to_value(&patient).unwrap();
    owners["version"] = Value::from(1);
    owners["phone"] = Value::String("0812 1111 2222".into());
    let report = here
        .store
        .apply_changes(
            &[change(1, "P3674010", OutboxKind::Patient, "p", owners)],
            1,
        )
        .unwrap();
    assert_eq!(report.applied, 1, "{report:?}");
    let now = here
        .store
        .desk_patient(&here.admin, &patient.patient_number)
        .unwrap()
        .patient;
    assert_eq!(now.phone.as_deref(), Some("0812 1111 2222"));
}

#[test]
fn pulled_patients_are_found_by_name_and_named_in_the_audit_log() {
    let mut pamulang = Clinic::with_facility("P3674060");
    let siti_number = pamulang.patient(&siti());
    let siti_record = pushed_patient(&pamulang);
    let budi_number = pamulang.patient(&crate::support::numbered(1));
    let budi_record = pushed_patient(&pamulang);
    let mut renamed = siti_record.clone();
    renamed["version"] = Value::from(2);
    renamed["name"] = Value::String("Siti Rahayu Lestari".into());

    // Siti arrives and is renamed within one page: the names are indexed at its end.
    let mut here = Clinic::with_facility("P3674010");
    let page = [
        change(1, "P3674060", OutboxKind::Patient, "s", siti_record),
        change(2, "P3674060", OutboxKind::Patient, "b", budi_record),
        change(3, "P3674060", OutboxKind::Patient, "s", renamed.clone()),
    ];
    let report = here.store.apply_changes(&page, 3).unwrap();
    assert_eq!(report.applied, 3, "{report:?}");
    let found = |clinic: &mut Clinic, name: &str| -> Vec<String> {
        let query = kartika_store::PatientQuery::Name {
            name: name.into(),
            birth_date: None,
        };
        let hits = clinic.store.search_patients(&clinic.desk, &query).unwrap();
        hits.into_iter().map(|h| h.patient_number).collect()
    };
    assert_eq!(found(&mut here, "lestari"), vec![siti_number.clone()]);
    assert_eq!(found(&mut here, "budi"), vec![budi_number.clone()]);

    // Renamed again on a later page: the old name is gone from the index.
    renamed["version"] = Value::from(3);
    renamed["name"] = Value::String("Siti Aminah".into());
    here.store
        .apply_changes(
            &[change(4, "P3674060", OutboxKind::Patient, "s", renamed)],
            4,
        )
        .unwrap();
    assert_eq!(found(&mut here, "aminah"), vec![siti_number.clone()]);
    assert!(found(&mut here, "lestari").is_empty());
    let check = crate::support::raw(&here.path).execute(
        "INSERT INTO patient_name (patient_name) VALUES ('integrity-check')",
        [],
    );
    assert!(
        check.is_ok(),
        "the name index matches the patients: {check:?}"
    );

    // The admin asking who dealt with Budi finds the page that brought him.
    let filter = kartika_store::AuditFilter {
        patient_number: Some(budi_number.clone()),
        action: Some("patient.pulled".into()),
        ..Default::default()
    };
    let entries = here.store.audit_search(&here.admin, &filter, 10).unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].detail.contains(&siti_number));
    assert!(here.store.verify_audit().unwrap().problem.is_none());
}

#[test]
fn a_page_applied_change_by_change_still_indexes_its_patients_names() {
    let mut pamulang = Clinic::with_facility("P3674060");
    pamulang.patient(&siti());
    let siti_record = pushed_patient(&pamulang);
    let budi_number = pamulang.patient(&crate::support::numbered(3));
    let budi_record = pushed_patient(&pamulang);
    let mut here = Clinic::with_facility("P3674010");
    here.store
        .apply_changes(
            &[change(
                1,
                "P3674060",
                OutboxKind::Patient,
                "s",
                siti_record.clone(),
            )],
            1,
        )
        .unwrap();

    // A record that cannot be applied sends the page down the one-by-one path.
    let mut reused = siti_record;
    reused["patient_number"] = Value::String("P36740600099991".into());
    let page = [
        change(2, "P3674060", OutboxKind::Patient, "x", reused),
        change(3, "P3674060", OutboxKind::Patient, "b", budi_record),
    ];
    let report = here.store.apply_changes(&page, 3).unwrap();
    assert_eq!(report.skipped.len(), 1, "{report:?}");
    let query = kartika_store::PatientQuery::Name {
        name: "santoso".into(),
        birth_date: None,
    };
    let hits = here.store.search_patients(&here.desk, &query).unwrap();
    let numbers: Vec<String> = hits.into_iter().map(|h| h.patient_number).collect();
    assert_eq!(numbers, vec![budi_number]);
}

#[test]
fn a_long_pull_checkpoints_on_a_thread_of_its_own_and_gives_checkpoints_back() {
    let mut clinic = Clinic::new();
    let before = clinic.store.durability().unwrap();
    let file_size = |clinic: &Clinic| std::fs::metadata(&clinic.path).unwrap().len();
    crate::support::raw(&clinic.path)
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let size_before = file_size(&clinic);

    let Clinic { store, desk, .. } = &mut clinic;
    let outcome: Result<(), &str> = store
        .with_background_checkpoints(|store, committed| {
            for n in 0..300 {
                store
                    .create_patient(desk, &crate::support::numbered(n))
                    .unwrap();
                committed.notify();
            }
            Err("the registry went away")
        })
        .unwrap();

    assert!(outcome.is_err());
    // The store's own checkpoints are off meanwhile: only the other thread's copies can
    // have grown the file.
    assert!(
        file_size(&clinic) > size_before,
        "the log was copied into the file"
    );
    assert_eq!(
        clinic.store.durability().unwrap(),
        before,
        "and the store checkpoints again as before, even after a failed pull"
    );
}

/// What a clinic pushes leaves out what it does not know; records pushed before that (with
/// each unknown field written as `null`) are in the registry for good, and read alike.
#[test]
fn records_with_unknown_fields_left_out_or_written_as_null_are_applied_alike() {
    let mut pamulang = Clinic::with_facility("P3674060");
    let number = pamulang.patient(&kartika_store::NewPatient {
        nik: None,
        bpjs_number: None,
        family_card_number: None,
        blood_group: None,
        address: None,
        phone: None,
        ..siti()
    });
    pamulang.visit(&number, "general");
    let (patient, visit) = (
        pushed_patient(&pamulang),
        pushed(&pamulang, OutboxKind::Visit),
    );
    let nulls = |record: &Value| {
        let fields = record.as_object().unwrap();
        fields.values().filter(|v| v.is_null()).count()
    };
    for record in [&patient, &visit, &visit["vitals"]] {
        assert_eq!(nulls(record), 0, "nothing is written as null: {record}");
    }
    assert!(patient.get("phone").is_none() && visit.get("notes").is_none());

    // As clinics wrote them before: each optional field that is left out, as `null`.
    let with_nulls = |mut record: Value, fields: &[&str]| {
        for field in fields {
            if record.get(field).is_none() {
                record[*field] = Value::Null;
            }
        }
        record
    };
    let old_patient = with_nulls(
        patient.clone(),
        &[
            "nik",
            "bpjs_number",
            "family_card_number",
            "blood_group",
            "address",
            "region_code",
            "phone",
            "ihs_number",
        ],
    );
    let mut old_visit = with_nulls(
        visit.clone(),
        &["inside_catchment", "started", "ended", "complaint", "notes"],
    );
    old_visit["vitals"] = with_nulls(
        visit["vitals"].clone(),
        &[
            "systolic",
            "diastolic",
            "pulse",
            "respiratory_rate",
            "temperature",
            "weight",
            "height",
        ],
    );
    assert_eq!(
        (nulls(&old_patient), nulls(&old_visit["vitals"])),
        (7, 7),
        "each unknown field of the patient and the vitals as null"
    );
    let visit_id = visit["visit_id"].as_str().unwrap().to_owned();

    let mut shown = Vec::new();
    for (patient, visit) in [(patient, visit), (old_patient, old_visit)] {
        let mut here = Clinic::with_facility("P3674010");
        let page = [
            change(1, "P3674060", OutboxKind::Patient, "p", patient),
            change(2, "P3674060", OutboxKind::Visit, &visit_id, visit),
        ];
        let report = here.store.apply_changes(&page, 2).unwrap();
        assert_eq!((report.applied, report.skipped.len()), (2, 0));
        let history = here.store.patient_history(&here.desk, &number).unwrap();
        assert_eq!(
            history.visits.len(),
            1,
            "the visit is in the patient's history"
        );
        shown.push(history);
    }
    assert_eq!(shown[0], shown[1]);
}
