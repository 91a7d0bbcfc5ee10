//! `db generate`: realistic, consistent history, the indexes back in place.

use kartika_card::checks::mod30_valid;
use kartika_card::model::{parse_iso_date, Nik, Sex};
use kartika_store::generate::GenerateOptions;
use kartika_store::PatientQuery;

use crate::support::{raw, Clinic};

fn generated(seed: u64) -> Clinic {
    let mut clinic = Clinic::new();
    clinic
        .store
        .generate(&GenerateOptions {
            patients: 300,
            visits: 3_000,
            days: 20,
            seed,
            until: None,
        })
        .unwrap();
    clinic
}

fn column(clinic: &Clinic, sql: &str) -> Vec<String> {
    let conn = raw(&clinic.path);
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn count(clinic: &Clinic, sql: &str) -> i64 {
    raw(&clinic.path).query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn generated_patients_carry_valid_numbers_and_niks_that_agree() {
    let clinic = generated(3);
    let conn = raw(&clinic.path);
    let mut stmt = conn
        .prepare("SELECT patient_number, nik, birth_date, sex, region_code FROM patient")
        .unwrap();
    let rows: Vec<(String, Option<String>, String, u8, String)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 300);
    for (number, nik, birth, sex, region) in &rows {
        assert!(mod30_valid(number), "{number}");
        assert!(region.starts_with("36.74."), "Tangerang Selatan: {region}");
        if let Some(nik) = nik {
            let birth = parse_iso_date(birth, "birth date").unwrap();
            Nik::new(nik)
                .unwrap()
                .check_agrees(birth, Sex::from_code(*sex).unwrap())
                .unwrap();
            assert_eq!(
                &nik[..6],
                region[..8].replace('.', ""),
                "NIK from the home district"
            );
        }
    }
    let niks = column(&clinic, "SELECT nik FROM patient WHERE nik IS NOT NULL");
    let distinct: std::collections::HashSet<_> = niks.iter().collect();
    assert_eq!(distinct.len(), niks.len(), "NIKs are unique");
}

#[test]
fn generated_visits_follow_the_rules_of_live_ones() {
    let mut clinic = generated(4);
    // Queue numbers run 1, 2, 3… per unit and day.
    let gaps = count(
        &clinic,
        "SELECT count(*) FROM (SELECT queue_date, unit_code, max(queue_number) AS m, count(*) AS n
         FROM visit GROUP BY 1, 2) WHERE m != n",
    );
    assert_eq!(gaps, 0);
    // One first visit per patient and year; one new case per patient and diagnosis.
    let firsts = count(
        &clinic,
        "SELECT count(*) FROM (SELECT patient_id, substr(queue_date, 1, 4) FROM visit
         WHERE status != 'cancelled' GROUP BY 1, 2 HAVING sum(first_this_year) != 1)",
    );
    assert_eq!(firsts, 0);
    let new_cases = count(
        &clinic,
        "SELECT count(*) FROM (SELECT patient_id, code FROM diagnosis GROUP BY 1, 2
         HAVING sum(new_case) != 1)",
    );
    assert_eq!(new_cases, 0);
    assert!(count(&clinic, "SELECT count(*) FROM diagnosis") > 2_000);
    // The dropped indexes and the name trigger are back, the name index is whole.
    for name in [
        "visit_patient",
        "visit_queue",
        "visit_uuid",
        "diagnosis_patient_code",
        "patient_name_update",
    ] {
        assert_eq!(
            count(
                &clinic,
                &format!("SELECT count(*) FROM sqlite_schema WHERE name = '{name}'")
            ),
            1,
            "{name}"
        );
    }
    let name = column(&clinic, "SELECT name FROM patient ORDER BY id LIMIT 1").remove(0);
    let hits = clinic
        .store
        .search_patients(
            &clinic.desk,
            &PatientQuery::Name {
                name: name.clone(),
                birth_date: None,
            },
        )
        .unwrap();
    assert!(
        hits.iter().any(|h| h.name == name),
        "{name} is found by name"
    );
    let number = &hits[0].patient_number;
    let history = clinic.store.patient_history(&clinic.nurse, number).unwrap();
    assert_eq!(history.patient.patient_number, *number);
    assert_eq!(clinic.store.verify_audit().unwrap().problem, None);
    // The desk carries on numbering after the generated patients.
    let next = clinic.patient(&crate::support::siti());
    assert!(next.starts_with("P36740600000301"), "{next}");
}

#[test]
fn the_same_seed_gives_the_same_history() {
    let a = generated(9);
    let b = generated(9);
    let sql = "SELECT name || nik || birth_date FROM patient WHERE nik IS NOT NULL ORDER BY id";
    assert_eq!(column(&a, sql), column(&b, sql));
    let sql = "SELECT unit_code || queue_number || payer || status FROM visit ORDER BY id";
    assert_eq!(column(&a, sql), column(&b, sql));
}

#[test]
fn the_history_ends_on_the_day_asked_and_never_today() {
    let mut clinic = Clinic::new();
    let today = clinic.store.today();
    let options = |until| GenerateOptions {
        patients: 50,
        visits: 200,
        days: 5,
        seed: 1,
        until: Some(until),
    };
    let refused = clinic.store.generate(&options(today));
    assert!(
        matches!(
            refused,
            Err(kartika_store::StoreError::Invalid { field: "until", .. })
        ),
        "{refused:?}"
    );
    let until = today - time::Duration::days(3);
    clinic.store.generate(&options(until)).unwrap();
    let days = column(
        &clinic,
        "SELECT DISTINCT queue_date FROM visit ORDER BY queue_date",
    );
    let day = |back: i64| kartika_card::model::format_iso_date(until - time::Duration::days(back));
    assert_eq!(days, [day(4), day(3), day(2), day(1), day(0)]);
}
