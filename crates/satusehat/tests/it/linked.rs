//! A record this Puskesmas finished a visit for, linked (through the registry) into
//! another Puskesmas's record of the same person: SATUSEHAT is sent the survivor.

use kartika_protocol::{Change, Kind};
use kartika_store::Store;
use kartika_testkit::clinic::{finished_visit, FinishedVisit};
use serde_json::{json, Value};

fn change(seq: i64, facility: &str, kind: Kind, record_id: &str, payload: Value) -> Change {
    Change {
        seq,
        facility: facility.into(),
        kind,
        record_id: record_id.into(),
        payload: serde_json::value::to_raw_value(&payload).unwrap(),
    }
}

fn link(seq: i64, from: &str, survivor: &str, retired: &str, linked: bool, at: i64) -> Change {
    let proposal = "0190f0a0-0000-7000-8000-000000000077";
    change(
        seq,
        from,
        Kind::Link,
        proposal,
        json!({ "proposal": proposal, "survivor": survivor, "retired": retired,
                "linked": linked, "by": "P3674010", "at": at }),
    )
}

#[test]
fn a_visit_of_a_record_linked_into_another_puskesmass_is_sent_as_the_survivor() {
    let FinishedVisit { patient, dir, .. } = finished_visit();
    let mut store = Store::open(&dir.path().join("c.sqlite")).unwrap();
    let mut twin = serde_json::to_value(&patient).unwrap();
    twin["id"] = json!("0190f0a0-0000-7000-8000-000000000071");
    twin["patient_number"] = json!("P367401000000011");
    twin["origin_facility"] = json!("P3674010");
    let serpongs = "P367401000000011";
    let ours = patient.patient_number.as_str();
    store
        .apply_changes(&[change(1, "P3674010", Kind::Patient, "t", twin)], 1)
        .unwrap();

    // Only the registry links records: the same link from a node is set aside.
    let forged = store
        .apply_changes(&[link(2, "P3674010", serpongs, ours, true, 10)], 2)
        .unwrap();
    assert_eq!(forged.skipped.len(), 1, "{forged:?}");
    assert_eq!(
        store.satusehat_due(10).unwrap()[0].patient.patient_number,
        ours
    );

    store
        .apply_changes(&[link(3, "registry", serpongs, ours, true, 20)], 3)
        .unwrap();
    let due = store.satusehat_due(10).unwrap();
    assert_eq!(
        due[0].patient.patient_number, serpongs,
        "sent as the survivor"
    );

    // Undone, then the older link brought again by a history fetched later: undone stays.
    store
        .apply_changes(&[link(4, "registry", serpongs, ours, false, 30)], 4)
        .unwrap();
    store
        .apply_changes(&[link(3, "registry", serpongs, ours, true, 20)], 0)
        .unwrap();
    assert_eq!(
        store.satusehat_due(10).unwrap()[0].patient.patient_number,
        ours
    );
}
