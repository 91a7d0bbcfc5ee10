//! Queue numbers, status steps, examinations, diagnoses and a patient's history.

use kartika_store::{
    CaseKind, DiagnosisRank, Examination, OutboxKind, StoreError, VisitStatus, Vitals,
};
use time::macros::datetime;

use crate::support::{numbered, sick_visit, siti, Clinic};

#[test]
fn queue_numbers_count_per_unit_and_restart_at_local_midnight() {
    let mut clinic = Clinic::new();
    let patients: Vec<String> = (0..4).map(|n| clinic.patient(&numbered(n))).collect();
    assert_eq!(clinic.visit(&patients[0], "general").ticket, "U-001");
    assert_eq!(clinic.visit(&patients[1], "general").ticket, "U-002");
    assert_eq!(clinic.visit(&patients[0], "dental").ticket, "G-001");
    // 23:30 WIB is still the same day; 00:30 WIB, 17:30 UTC, is a new one.
    clinic.clock.set(datetime!(2026-11-28 16:30 UTC));
    let late = clinic.visit(&patients[2], "general");
    assert_eq!(
        (late.ticket.as_str(), late.queue_date.as_str()),
        ("U-003", "2026-11-28")
    );
    clinic.clock.set(datetime!(2026-11-28 17:30 UTC));
    let next_day = clinic.visit(&patients[3], "general");
    assert_eq!(
        (next_day.ticket.as_str(), next_day.queue_date.as_str()),
        ("U-001", "2026-11-29")
    );
    let queue = clinic
        .store
        .queue_for_unit(&clinic.nurse, "general", Some("2026-11-28"))
        .unwrap();
    let tickets: Vec<_> = queue.iter().map(|q| q.ticket.as_str()).collect();
    assert_eq!(tickets, ["U-001", "U-002", "U-003"]);
}

#[test]
fn a_patient_gets_one_queue_number_per_unit_and_day_unless_cancelled() {
    let mut clinic = Clinic::new();
    let p = clinic.patient(&siti());
    let first = clinic.visit(&p, "general");
    let err = clinic
        .store
        .register_visit(&clinic.desk, &sick_visit(&p, "general"))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::AlreadyQueued { ticket, .. } if ticket == "U-001"),
        "{err:?}"
    );
    assert!(err.to_string().contains("only once per day"), "{err}");
    clinic
        .store
        .set_visit_status(&clinic.desk, &first.visit_id, VisitStatus::Cancelled)
        .unwrap();
    assert_eq!(
        clinic.visit(&p, "general").ticket,
        "U-002",
        "numbers are never reused"
    );
}

#[test]
fn a_unit_that_does_not_exist_gets_no_queue_number() {
    let mut clinic = Clinic::new();
    let p = clinic.patient(&siti());
    let err = clinic
        .store
        .register_visit(&clinic.desk, &sick_visit(&p, "cardiology"))
        .unwrap_err();
    assert_eq!(err.to_string(), "service unit cardiology was not found");
    let err = clinic
        .store
        .queue_for_unit(&clinic.nurse, "cardiology", None)
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }));
    let err = clinic
        .store
        .register_visit(&clinic.desk, &sick_visit("P36740600000099", "general"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotFound {
                what: "patient",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn facility_units_get_their_own_queue() {
    let mut clinic = Clinic::new();
    let unit = kartika_store::ServiceUnit {
        code: "tb".into(),
        name: "Poli TB".into(),
        queue_prefix: "T".into(),
        built_in: false,
    };
    clinic.store.add_service_unit(&clinic.admin, &unit).unwrap();
    let p = clinic.patient(&siti());
    assert_eq!(clinic.visit(&p, "tb").ticket, "T-001");
    let mut clash = unit.clone();
    clash.code = "gizi".into();
    let err = clinic
        .store
        .add_service_unit(&clinic.admin, &clash)
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyRecorded { .. }), "{err:?}");
    assert!(clinic
        .store
        .service_units()
        .unwrap()
        .iter()
        .any(|u| u.code == "tb"));
}

#[test]
fn first_visit_of_the_year_and_catchment_are_worked_out() {
    let mut clinic = Clinic::new();
    let inside = clinic.patient(&siti());
    let outside = clinic.patient(&numbered(1));
    let first = clinic.visit(&inside, "general");
    assert!(first.first_this_year);
    assert_eq!(first.inside_catchment, Some(true));
    assert_eq!(
        clinic.visit(&outside, "general").inside_catchment,
        Some(false)
    );
    let repeat = clinic.visit(&inside, "dental");
    assert!(!repeat.first_this_year);
    clinic.clock.set(datetime!(2027-01-02 02:00 UTC));
    assert!(
        clinic.visit(&inside, "general").first_this_year,
        "a new year starts over"
    );
}

#[test]
fn a_visit_moves_through_its_steps_with_who_and_when() {
    let mut clinic = Clinic::new();
    let p = clinic.patient(&siti());
    let ticket = clinic.visit(&p, "general");
    let id = ticket.visit_id.as_str();
    let err = clinic
        .store
        .set_visit_status(&clinic.nurse, id, VisitStatus::Finished)
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    clinic.clock.advance(time::Duration::minutes(20));
    clinic
        .store
        .set_visit_status(&clinic.nurse, id, VisitStatus::InProgress)
        .unwrap();
    let err = clinic
        .store
        .set_visit_status(&clinic.desk, id, VisitStatus::Cancelled)
        .unwrap_err();
    assert!(err.to_string().contains("cannot be cancelled"), "{err}");
    clinic.clock.advance(time::Duration::minutes(10));
    let done = clinic
        .store
        .set_visit_status(&clinic.nurse, id, VisitStatus::Referred)
        .unwrap();
    assert_eq!(done.status, VisitStatus::Referred);
    assert_eq!(done.arrived.by, "desk");
    let started = done.started.unwrap();
    let ended = done.ended.unwrap();
    assert_eq!((started.by.as_str(), ended.by.as_str()), ("nurse", "nurse"));
    assert_eq!(started.at, datetime!(2026-11-28 02:20 UTC));
    assert_eq!(ended.at, datetime!(2026-11-28 02:30 UTC));
}

#[test]
fn vitals_outside_what_a_human_body_shows_are_refused() {
    let mut clinic = Clinic::new();
    let p = clinic.patient(&siti());
    let id = clinic.visit(&p, "general").visit_id;
    let good = Vitals {
        systolic: Some(120),
        diastolic: Some(80),
        pulse: Some(76),
        respiratory_rate: Some(18),
        temperature: Some(37.2),
        weight: Some(54.5),
        height: Some(156.0),
    };
    let exam = |vitals: Vitals| Examination {
        complaint: None,
        notes: Some("Faring hiperemis.\nEdukasi minum air.".into()),
        vitals,
    };
    let recorded = clinic
        .store
        .record_examination(&clinic.nurse, &id, &exam(good.clone()))
        .unwrap();
    assert_eq!(recorded.vitals, good);
    assert_eq!(recorded.complaint.as_deref(), Some("batuk pilek tiga hari"));
    let bad: Vec<(Vitals, &str)> = vec![
        (
            Vitals {
                systolic: Some(400),
                ..good.clone()
            },
            "systolic",
        ),
        (
            Vitals {
                systolic: Some(80),
                diastolic: Some(90),
                ..good.clone()
            },
            "blood pressure",
        ),
        (
            Vitals {
                diastolic: None,
                ..good.clone()
            },
            "blood pressure",
        ),
        (
            Vitals {
                pulse: Some(0),
                ..good.clone()
            },
            "pulse",
        ),
        (
            Vitals {
                temperature: Some(73.0),
                ..good.clone()
            },
            "temperature",
        ),
        (
            Vitals {
                temperature: Some(f64::NAN),
                ..good.clone()
            },
            "temperature",
        ),
        (
            Vitals {
                weight: Some(-3.0),
                ..good.clone()
            },
            "weight",
        ),
        (
            Vitals {
                height: Some(400.0),
                ..good.clone()
            },
            "height",
        ),
        (
            Vitals {
                respiratory_rate: Some(200),
                ..good.clone()
            },
            "respiratory rate",
        ),
    ];
    for (vitals, field) in bad {
        let err = clinic
            .store
            .record_examination(&clinic.nurse, &id, &exam(vitals))
            .unwrap_err();
        assert!(err.to_string().starts_with(field), "{field}: {err}");
    }
}

#[test]
fn diagnoses_come_from_the_icd10_list_with_one_primary_and_new_or_old_case() {
    let mut clinic = Clinic::new();
    let p = clinic.patient(&siti());
    let first = clinic.visit(&p, "general").visit_id;
    let visit = clinic
        .store
        .add_diagnosis(&clinic.nurse, &first, "j069", DiagnosisRank::Primary)
        .unwrap();
    assert_eq!(visit.diagnoses[0].code, "J06.9");
    assert_eq!(visit.diagnoses[0].case, CaseKind::New);
    assert!(visit.diagnoses[0].title.contains("upper respiratory"));
    let err = clinic
        .store
        .add_diagnosis(&clinic.nurse, &first, "I10", DiagnosisRank::Primary)
        .unwrap_err();
    assert!(err.to_string().contains("as secondary"), "{err}");
    clinic
        .store
        .add_diagnosis(&clinic.nurse, &first, "I10", DiagnosisRank::Secondary)
        .unwrap();
    for (code, expected) in [
        ("X99.9", "not in the ICD-10 list"),
        ("J06.9'; --", "ICD-10"),
        ("", "ICD-10"),
    ] {
        let err = clinic
            .store
            .add_diagnosis(&clinic.nurse, &first, code, DiagnosisRank::Secondary)
            .unwrap_err();
        assert!(err.to_string().contains(expected), "{code}: {err}");
    }
    clinic.clock.advance(time::Duration::days(14));
    let second = clinic.visit(&p, "general").visit_id;
    let visit = clinic
        .store
        .add_diagnosis(&clinic.nurse, &second, "J06.9", DiagnosisRank::Primary)
        .unwrap();
    assert_eq!(
        visit.diagnoses[0].case,
        CaseKind::Old,
        "the second time is an old case"
    );
    let visit = clinic
        .store
        .add_diagnosis(&clinic.nurse, &second, "K29.7", DiagnosisRank::Secondary)
        .unwrap();
    assert_eq!(visit.diagnoses[1].case, CaseKind::New);
    let visit = clinic
        .store
        .remove_diagnosis(&clinic.nurse, &second, "K29.7")
        .unwrap();
    assert_eq!(visit.diagnoses.len(), 1);
    assert_eq!(kartika_store::icd10::search("dyspepsia", 5)[0].code, "K30");
}

#[test]
fn a_history_holds_every_visit_newest_first_with_diagnoses_and_cards() {
    let mut clinic = Clinic::new();
    let p = clinic.patient(&siti());
    clinic
        .store
        .issue_card(&clinic.admin, &p, "6037990000000014")
        .unwrap();
    let old = clinic.visit(&p, "general").visit_id;
    clinic
        .store
        .add_diagnosis(&clinic.nurse, &old, "I10", DiagnosisRank::Primary)
        .unwrap();
    clinic.clock.advance(time::Duration::days(30));
    let new = clinic.visit(&p, "dental").visit_id;
    let history = clinic.store.patient_history(&clinic.nurse, &p).unwrap();
    let ids: Vec<_> = history.visits.iter().map(|v| v.visit_id.as_str()).collect();
    assert_eq!(ids, [new.as_str(), old.as_str()]);
    assert_eq!(history.visits[1].diagnoses[0].code, "I10");
    assert_eq!(history.cards[0].card_number, "6037990000000014");
    assert_eq!(history.patient.name, "Siti Rahayu");
}

#[test]
fn each_change_of_a_visit_is_queued_for_the_registry_with_a_new_version() {
    let mut clinic = Clinic::new();
    let p = clinic.patient(&siti());
    let id = clinic.visit(&p, "general").visit_id;
    // The registration's record is the visit as it reads back.
    let registered = clinic.store.outbox_pending(100).unwrap().pop().unwrap();
    let history = clinic.store.patient_history(&clinic.nurse, &p).unwrap();
    assert_eq!(
        json(&registered),
        serde_json::to_value(&history.visits[0]).unwrap()
    );
    clinic
        .store
        .set_visit_status(&clinic.nurse, &id, VisitStatus::InProgress)
        .unwrap();
    clinic
        .store
        .add_diagnosis(&clinic.nurse, &id, "J06.9", DiagnosisRank::Primary)
        .unwrap();
    let rows = clinic.store.outbox_pending(100).unwrap();
    let versions: Vec<i64> = rows
        .iter()
        .filter(|r| r.kind == OutboxKind::Visit && r.record_id == id)
        .map(|r| json(r)["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3]);
    let last = rows.last().unwrap();
    assert_eq!(json(last)["diagnoses"][0]["code"], "J06.9");
    let ids: std::collections::HashSet<_> = rows.iter().map(|r| &r.id).collect();
    assert_eq!(ids.len(), rows.len(), "every change has its own id");
}

fn json(row: &kartika_store::OutboxRecord) -> serde_json::Value {
    serde_json::from_str(row.payload.get()).unwrap()
}

#[test]
fn calling_next_takes_the_units_oldest_waiting_number_and_says_when_none_is_left() {
    let mut clinic = Clinic::new();
    let patients: Vec<String> = (0..3).map(|n| clinic.patient(&numbered(n))).collect();
    let tickets: Vec<_> = patients
        .iter()
        .map(|p| clinic.visit(p, "general"))
        .collect();
    clinic.visit(&patients[0], "dental");
    clinic
        .store
        .set_visit_status(&clinic.desk, &tickets[0].visit_id, VisitStatus::Cancelled)
        .unwrap();
    clinic.clock.advance(time::Duration::minutes(12));

    let called = clinic
        .store
        .call_next(&clinic.nurse, "general")
        .unwrap()
        .unwrap();
    assert_eq!(called.ticket, "U-002", "the cancelled U-001 is skipped");
    assert_eq!(called.status, VisitStatus::InProgress);
    let started = called.started.clone().unwrap();
    assert_eq!(started.by, "nurse");
    let second = clinic
        .store
        .call_next(&clinic.nurse, "general")
        .unwrap()
        .unwrap();
    assert_eq!(
        second.ticket, "U-003",
        "a called patient is not called again"
    );
    assert_eq!(
        clinic.store.call_next(&clinic.nurse, "general").unwrap(),
        None
    );

    let queue = clinic
        .store
        .queue_for_unit(&clinic.nurse, "general", None)
        .unwrap();
    let line = queue.iter().find(|q| q.ticket == "U-002").unwrap();
    assert_eq!(line.started_at, Some(started.at));
    assert_eq!(line.ended_at, None);
    assert!(
        clinic.store.call_next(&clinic.desk, "general").is_err(),
        "the desk does not examine"
    );
}

#[test]
fn a_referral_says_where_the_patient_was_sent_and_travels_to_the_registry() {
    let mut clinic = Clinic::new();
    let p = clinic.patient(&siti());
    let id = clinic.visit(&p, "general").visit_id;
    let err = clinic
        .store
        .refer_visit(&clinic.nurse, &id, "RSUD Tangsel")
        .unwrap_err();
    assert!(
        err.to_string().contains("cannot become"),
        "not yet seen: {err}"
    );
    clinic.store.call_next(&clinic.nurse, "general").unwrap();
    let err = clinic
        .store
        .refer_visit(&clinic.nurse, &id, "  ")
        .unwrap_err();
    assert!(err.to_string().contains("referred to"), "{err}");

    let referred = clinic
        .store
        .refer_visit(&clinic.nurse, &id, " RSUD Tangerang Selatan ")
        .unwrap();
    assert_eq!(referred.status, VisitStatus::Referred);
    assert_eq!(
        referred.referred_to.as_deref(),
        Some("RSUD Tangerang Selatan")
    );
    let history = clinic.store.patient_history(&clinic.nurse, &p).unwrap();
    assert_eq!(history.visits[0].referred_to, referred.referred_to);
    let queued = clinic.store.outbox_pending(100).unwrap();
    let last = queued
        .iter()
        .rev()
        .find(|r| r.kind == OutboxKind::Visit)
        .unwrap();
    assert!(
        last.payload
            .get()
            .contains("\"referred_to\":\"RSUD Tangerang Selatan\""),
        "{}",
        last.payload
    );
}

#[test]
fn queue_days_turn_at_local_midnight_in_wita_and_wit_too() {
    // WITA is UTC+8 (midnight at 16:00 UTC), WIT is UTC+9 (midnight at 15:00 UTC).
    for (zone, before, after) in [
        (
            kartika_store::TimeZone::Wita,
            datetime!(2026-11-28 15:59 UTC),
            datetime!(2026-11-28 16:00 UTC),
        ),
        (
            kartika_store::TimeZone::Wit,
            datetime!(2026-11-28 14:59 UTC),
            datetime!(2026-11-28 15:00 UTC),
        ),
    ] {
        let mut clinic = crate::support::Clinic::in_zone(zone);
        let patients: Vec<String> = (0..2).map(|n| clinic.patient(&numbered(n))).collect();
        clinic.clock.set(before);
        let late = clinic.visit(&patients[0], "general");
        assert_eq!(
            (late.ticket.as_str(), late.queue_date.as_str()),
            ("U-001", "2026-11-28"),
            "{zone:?}: a minute before local midnight"
        );
        clinic.clock.set(after);
        let next = clinic.visit(&patients[1], "general");
        assert_eq!(
            (next.ticket.as_str(), next.queue_date.as_str()),
            ("U-001", "2026-11-29"),
            "{zone:?}: local midnight starts a new day and a new queue"
        );
    }
}

#[test]
fn visits_of_a_desks_emergency_series_keep_their_number_and_the_servers_count_goes_on() {
    use kartika_store::Clock;
    let mut clinic = Clinic::new();
    let budi = clinic.patient(&numbered(1));
    let siti = clinic.patient(&siti());
    let desk = clinic.desk.clone();
    let arrived = clinic.clock.now() - time::Duration::minutes(20);
    let series_b = kartika_store::emergency_number(2, 1).expect("B, first");
    let emergency = clinic
        .store
        .register_emergency_visit(&desk, &sick_visit(&budi, "general"), series_b, arrived, 2)
        .expect("the emergency visit");
    assert_eq!(emergency.ticket, "U-B01");
    assert_eq!(
        clinic.visit(&siti, "general").ticket,
        "U-001",
        "the server's own numbers start at 1 beside the emergency ones"
    );
    let again = clinic.store.register_emergency_visit(
        &desk,
        &sick_visit(&siti, "dental"),
        series_b,
        arrived,
        2,
    );
    assert!(again.is_ok(), "another unit, its own count: {again:?}");
    let third = clinic.patient(&numbered(2));
    let taken = clinic.store.register_emergency_visit(
        &desk,
        &sick_visit(&third, "general"),
        series_b,
        arrived,
        2,
    );
    assert!(
        matches!(taken, Err(kartika_store::StoreError::Conflict(_))),
        "one number once per unit and day: {taken:?}"
    );
    let later = clinic.store.register_emergency_visit(
        &desk,
        &sick_visit(&budi, "dental"),
        kartika_store::emergency_number(2, 2).unwrap(),
        clinic.clock.now() + time::Duration::minutes(5),
        2,
    );
    assert!(
        later.is_err(),
        "an arrival ahead of the server's clock is refused"
    );
    assert_eq!(
        kartika_store::emergency_number(27, 1),
        None,
        "26 series at most"
    );
    // Another desk's numbers, a number of no series, and one past the series' count: refused.
    let fourth = clinic.patient(&numbered(3));
    for (number, what) in [
        (
            kartika_store::emergency_number(1, 1).unwrap(),
            "desk A's first",
        ),
        (-1, "U-A01 of no series"),
        (-9_223_372_036_854_775_807, "a number of no series"),
        (-2_000, "series B's count 0"),
    ] {
        let refused = clinic.store.register_emergency_visit(
            &desk,
            &sick_visit(&fourth, "general"),
            number,
            arrived,
            2,
        );
        assert!(
            matches!(refused, Err(kartika_store::StoreError::Invalid { .. })),
            "{what}: {refused:?}"
        );
    }
    let queue = clinic
        .store
        .queue_for_unit(&clinic.nurse.clone(), "general", None)
        .unwrap();
    assert_eq!(
        queue[0].ticket, "U-B01",
        "those who waited through the outage first"
    );
}
