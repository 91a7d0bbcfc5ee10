//! One person, one record: merging two records registered here, and undoing it.

use kartika_card::model::Sex;
use kartika_store::{
    DiagnosisRank, MergeField, NewPatient, PatientQuery, ReportFilter, ReportPeriod, StoreError,
    TapOutcome,
};
use time::macros::datetime;

use crate::cards::card_identity;
use crate::support::{raw, siti, Clinic};

/// Siti registered a second time at the desk, without her NIK and with another phone.
fn siti_again() -> NewPatient {
    NewPatient {
        nik: None,
        bpjs_number: None,
        phone: Some("0813 1111 2222".into()),
        address: Some("Jl. Siliwangi 12".into()),
        ..siti()
    }
}

/// Every row of every table, as text, sorted: the audit log, its head and the merges'
/// own record aside (they are meant to grow).
fn every_row(clinic: &Clinic) -> Vec<String> {
    let conn = raw(&clinic.path);
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table'
             AND name NOT IN ('audit_log', 'audit_head', 'patient_merge')
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'patient_name%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut rows = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let columns = stmt.column_count();
        let mut found = stmt.query([]).unwrap();
        while let Some(row) = found.next().unwrap() {
            let values: Vec<String> = (0..columns)
                .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                .collect();
            rows.push(format!("{table}: {}", values.join(" | ")));
        }
    }
    rows.sort();
    rows
}

fn diagnose(clinic: &mut Clinic, patient: &str, code: &str) -> String {
    let ticket = clinic.visit(patient, "general");
    let nurse = clinic.nurse.clone();
    clinic
        .store
        .add_diagnosis(&nurse, &ticket.visit_id, code, DiagnosisRank::Primary)
        .unwrap();
    ticket.visit_id
}

fn visits_of(clinic: &mut Clinic, number: &str) -> Vec<String> {
    let admin = clinic.admin.clone();
    let mut ids: Vec<String> = clinic
        .store
        .patient_history(&admin, number)
        .unwrap()
        .visits
        .into_iter()
        .map(|v| v.visit_id)
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_merge_then_its_undo_leaves_every_table_as_it_was() {
    let mut clinic = Clinic::new();
    let kept = clinic.patient(&siti());
    let retired = clinic.patient(&siti_again());
    diagnose(&mut clinic, &kept, "J06.9");
    clinic.clock.advance(time::Duration::hours(1));
    diagnose(&mut clinic, &retired, "A09");
    let flags = clinic.store.possible_duplicates(&clinic.admin).unwrap();
    assert!(!flags.is_empty(), "the second registration was flagged");
    let before = every_row(&clinic);

    let admin = clinic.admin.clone();
    let plan = clinic
        .store
        .merge_patients(&admin, &kept, &retired, &[])
        .unwrap();
    assert_eq!((plan.visits, plan.diagnoses, plan.flags), (1, 1, 1));
    assert_ne!(every_row(&clinic), before, "the merge moved rows");
    assert!(
        clinic.store.possible_duplicates(&admin).unwrap().is_empty(),
        "the flag between the two is settled"
    );

    let undone = clinic.store.unmerge_patient(&admin, &retired).unwrap();
    assert_eq!((undone.visits, undone.kept_with_survivor), (1, 0));
    assert_eq!(
        every_row(&clinic),
        before,
        "row for row as before the merge"
    );
}

#[test]
fn the_undo_restores_the_fields_taken_and_keeps_what_came_after_with_the_survivor() {
    let mut clinic = Clinic::new();
    let kept = clinic.patient(&siti());
    let retired = clinic.patient(&siti_again());
    let old_visit = diagnose(&mut clinic, &retired, "A09");
    let admin = clinic.admin.clone();
    let phone_before = clinic.store.patient(&admin, &kept).unwrap().phone;
    let retired_phone = clinic.store.patient(&admin, &retired).unwrap().phone;
    assert_ne!(phone_before, retired_phone);
    let plan = clinic
        .store
        .merge_patients(&admin, &kept, &retired, &[MergeField::Phone])
        .unwrap();
    assert_eq!(plan.survivor.phone, retired_phone);
    let survivor = clinic.store.patient(&admin, &kept).unwrap();
    assert_eq!(survivor.phone, retired_phone);

    // The next day the desk types the retired number: the visit is the survivor's.
    clinic.clock.advance(time::Duration::days(1));
    let after = diagnose(&mut clinic, &retired, "J06.9");
    assert_eq!(visits_of(&mut clinic, &kept).len(), 2);

    let undone = clinic.store.unmerge_patient(&admin, &retired).unwrap();
    assert_eq!((undone.visits, undone.kept_with_survivor), (1, 1));
    assert_eq!(visits_of(&mut clinic, &kept), vec![after]);
    assert_eq!(visits_of(&mut clinic, &retired), vec![old_visit]);
    let restored = clinic.store.patient(&admin, &kept).unwrap();
    assert_eq!(restored.phone, phone_before);
    let again = clinic.store.unmerge_patient(&admin, &retired).unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again}");
}

#[test]
fn refused_merges_change_nothing() {
    let mut clinic = Clinic::new();
    let kept = clinic.patient(&siti());
    let other_nik = clinic.patient(&NewPatient {
        nik: Some("3674065001900004".into()),
        ..siti_again()
    });
    let retired = clinic.patient(&siti_again());
    let elsewhere = clinic.patient(&NewPatient {
        name: "Siti Rahayu Binti".into(),
        ..siti_again()
    });
    raw(&clinic.path)
        .execute(
            "UPDATE patient SET origin_facility = 'P3674010' WHERE patient_number = ?1",
            [&elsewhere],
        )
        .unwrap();
    let before = every_row(&clinic);
    let (admin, desk, nurse) = (
        clinic.admin.clone(),
        clinic.desk.clone(),
        clinic.nurse.clone(),
    );
    let two_people = clinic
        .store
        .merge_patients(&admin, &kept, &other_nik, &[])
        .unwrap_err();
    assert!(
        two_people.to_string().contains("different NIKs"),
        "{two_people}"
    );
    for session in [&desk, &nurse] {
        let refused = clinic
            .store
            .merge_patients(session, &kept, &retired, &[])
            .unwrap_err();
        assert!(
            matches!(refused, StoreError::NotAllowed { .. }),
            "{refused}"
        );
    }
    let not_ours = clinic
        .store
        .merge_patients(&admin, &kept, &elsewhere, &[])
        .unwrap_err();
    assert!(
        not_ours.to_string().contains("registered at P3674010"),
        "{not_ours}"
    );
    let itself = clinic
        .store
        .merge_patients(&admin, &kept, &kept, &[])
        .unwrap_err();
    assert!(matches!(itself, StoreError::Invalid { .. }), "{itself}");
    let dry = clinic
        .store
        .plan_merge(&admin, &kept, &retired, &[MergeField::Phone])
        .unwrap();
    assert_eq!(dry.retired.patient_number, retired);
    assert_eq!(every_row(&clinic), before, "nothing changed");
}

#[test]
fn a_search_or_a_history_by_the_retired_number_finds_the_survivor() {
    let mut clinic = Clinic::new();
    let kept = clinic.patient(&siti());
    let retired = clinic.patient(&siti_again());
    diagnose(&mut clinic, &kept, "J06.9");
    diagnose(&mut clinic, &retired, "A09");
    let admin = clinic.admin.clone();
    clinic
        .store
        .merge_patients(&admin, &kept, &retired, &[])
        .unwrap();
    let hits = clinic
        .store
        .search_patients(&admin, &PatientQuery::PatientNumber(retired.clone()))
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].patient_number, kept);
    assert_eq!(hits[0].merged_from.as_deref(), Some(retired.as_str()));
    let by_name = clinic
        .store
        .search_patients(
            &admin,
            &PatientQuery::Name {
                name: "siti rahayu".into(),
                birth_date: None,
            },
        )
        .unwrap();
    assert_eq!(by_name.len(), 1, "one person, listed once: {by_name:?}");
    let history = clinic.store.patient_history(&admin, &retired).unwrap();
    assert_eq!(history.patient.patient_number, kept);
    assert_eq!(history.visits.len(), 2, "one history");
}

#[test]
fn the_retired_records_card_taps_as_the_survivor() {
    // The card's own Puskesmas: its admin's tap records the card and its patient.
    let mut clinic = Clinic::with_facility("P3674010");
    let identity = card_identity();
    let mut at_desk = siti();
    at_desk.nik = identity.nik.as_ref().map(ToString::to_string);
    let kept = clinic.patient(&at_desk);
    let admin = clinic.admin.clone();
    let TapOutcome::RegisteredFromCard { patient, .. } =
        clinic.store.admit_card(&admin, &identity).unwrap()
    else {
        panic!("the card registers its own record");
    };
    let plan = clinic
        .store
        .merge_patients(&admin, &kept, &patient.patient_number, &[])
        .unwrap();
    assert_eq!(plan.cards, [identity.card_number.to_string()]);
    let desk = clinic.desk.clone();
    match clinic.store.admit_card(&desk, &identity).unwrap() {
        TapOutcome::Known { patient, .. } => assert_eq!(patient.patient_number, kept),
        other => panic!("the card taps as the survivor: {other:?}"),
    }
}

#[test]
fn a_merge_of_a_merge_undoes_in_order() {
    let mut clinic = Clinic::new();
    let a = clinic.patient(&siti());
    let b = clinic.patient(&siti_again());
    let c = clinic.patient(&NewPatient {
        phone: Some("0815 0000 0000".into()),
        ..siti_again()
    });
    let admin = clinic.admin.clone();
    clinic.store.merge_patients(&admin, &a, &b, &[]).unwrap();
    let twice = clinic
        .store
        .merge_patients(&admin, &a, &b, &[])
        .unwrap_err();
    assert!(twice.to_string().contains("merged into"), "{twice}");
    clinic.store.merge_patients(&admin, &c, &a, &[]).unwrap();
    let history = clinic.store.patient_history(&admin, &b).unwrap();
    assert_eq!(history.patient.patient_number, c, "b → a → c");
    let out_of_order = clinic.store.unmerge_patient(&admin, &b).unwrap_err();
    assert!(
        out_of_order.to_string().contains("undo that merge first"),
        "{out_of_order}"
    );
    clinic.store.unmerge_patient(&admin, &a).unwrap();
    clinic.store.unmerge_patient(&admin, &b).unwrap();
    let own = clinic.store.patient(&admin, &b).unwrap();
    assert_eq!(own.patient_number, b);
}

#[test]
fn lb1_takes_a_diagnosis_seen_on_either_record_as_an_old_case_from_the_merge_on() {
    let mut clinic = Clinic::new();
    let kept = clinic.patient(&siti());
    let retired = clinic.patient(&siti_again());
    let other = clinic.patient(&NewPatient {
        name: "Ani Wulandari".into(),
        sex: Some(Sex::Female),
        ..siti_again()
    });
    let other_twin = clinic.patient(&NewPatient {
        name: "Ani Wulandari".into(),
        sex: Some(Sex::Female),
        phone: None,
        ..siti_again()
    });
    clinic.clock.set(datetime!(2026-11-03 02:00 UTC));
    diagnose(&mut clinic, &retired, "J06.9");
    diagnose(&mut clinic, &other_twin, "J06.9");
    let admin = clinic.admin.clone();
    clinic
        .store
        .merge_patients(&admin, &kept, &retired, &[])
        .unwrap();
    clinic.clock.set(datetime!(2026-11-10 02:00 UTC));
    // Siti's record had it before under the retired number: an old case. Ani's two
    // records were not merged: a new case, as before.
    diagnose(&mut clinic, &kept, "J06.9");
    diagnose(&mut clinic, &other, "J06.9");
    let lb1 = clinic
        .store
        .lb1_report(
            &admin,
            &ReportPeriod::month("2026-11").unwrap(),
            &ReportFilter::default(),
        )
        .unwrap();
    let row = lb1.rows.iter().find(|r| r.code == "J06.9").unwrap();
    assert_eq!((row.new_cases, row.old_cases, row.total), (3, 1, 4));
}
