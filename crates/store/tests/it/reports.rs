//! The monthly reports against a hand-built November whose every cell is known: patients
//! at the edges of the age groups, both sexes, old cases, a new diagnosis for a known
//! patient, a cancelled visit, a removed diagnosis, and visits in the last and first
//! minutes of local days.

use kartika_card::model::Sex;
use kartika_store::{
    AgeGroup, BySex, DiagnosisRank, Lb1Row, NewPatient, ReportFilter, ReportPeriod, StoreError,
    VisitStatus,
};
use time::macros::datetime;
use time::OffsetDateTime;

use crate::support::Clinic;

struct November {
    clinic: Clinic,
}

fn person(name: &str, sex: Sex, birth: &str, village: Option<&str>) -> NewPatient {
    NewPatient {
        name: name.into(),
        birth_date: birth.into(),
        sex: Some(sex),
        region_code: village.map(Into::into),
        ..NewPatient::default()
    }
}

impl November {
    fn build() -> Self {
        let mut clinic = Clinic::new();
        let inside = Some("36.74.06.1001");
        let outside = Some("36.74.02.1001");
        let a = clinic.patient(&person("Ayu", Sex::Female, "2026-11-01", inside));
        let b = clinic.patient(&person("Bagas", Sex::Male, "2026-10-11", inside));
        let c = clinic.patient(&person("Candra", Sex::Male, "2026-10-10", inside));
        let d = clinic.patient(&person("Dinda", Sex::Female, "2025-11-08", inside));
        let e = clinic.patient(&person("Eka", Sex::Female, "2021-11-09", outside));
        let f = clinic.patient(&person("Fajar", Sex::Male, "1966-11-08", outside));
        let g = clinic.patient(&person("Gita", Sex::Female, "1956-11-09", None));
        let h = clinic.patient(&person("Hasan", Sex::Male, "1956-11-08", None));
        let mut n = Self { clinic };
        // 23:59 WIB on 31 October: October's, never November's.
        n.visit(datetime!(2026-10-31 16:59 UTC), &c, &["J06.9"]);
        // 00:00 WIB on 1 November; Hasan is still 69 today.
        n.visit(datetime!(2026-10-31 17:00 UTC), &h, &["I10"]);
        let day8 = datetime!(2026-11-08 02:00 UTC);
        n.visit(day8, &a, &["J06.9"]);
        n.visit(day8, &b, &["J06.9"]);
        n.visit(day8, &c, &["A09"]);
        n.visit(day8, &d, &["A09"]);
        n.visit(day8, &e, &["J06.9"]);
        n.visit(day8, &f, &["I10"]);
        n.visit(day8, &g, &["I10"]);
        n.visit(day8, &h, &["I10"]);
        let day15 = datetime!(2026-11-15 02:00 UTC);
        let referred = n.visit(day15, &f, &["I10", "E11.9"]);
        n.visit(day15, &b, &["J06.9"]);
        let nurse = n.clinic.nurse.clone();
        for status in [VisitStatus::InProgress, VisitStatus::Referred] {
            n.clinic
                .store
                .set_visit_status(&nurse, &referred, status)
                .unwrap();
        }
        let day20 = datetime!(2026-11-20 02:00 UTC);
        let cancelled = n.visit(day20, &g, &[]);
        let desk = n.clinic.desk.clone();
        n.clinic
            .store
            .set_visit_status(&desk, &cancelled, VisitStatus::Cancelled)
            .unwrap();
        let removed = n.visit(day20, &h, &["A09"]);
        n.clinic
            .store
            .remove_diagnosis(&nurse, &removed, "A09")
            .unwrap();
        // 23:59 WIB on 30 November counts; 00:00 WIB on 1 December does not.
        n.visit(datetime!(2026-11-30 16:59 UTC), &e, &["J06.9"]);
        n.visit(datetime!(2026-11-30 17:00 UTC), &d, &["A09"]);
        n
    }

    fn visit(&mut self, at: OffsetDateTime, patient: &str, codes: &[&str]) -> String {
        self.clinic.clock.set(at);
        let ticket = self.clinic.visit(patient, "general");
        let nurse = self.clinic.nurse.clone();
        for (i, code) in codes.iter().enumerate() {
            let rank = if i == 0 {
                DiagnosisRank::Primary
            } else {
                DiagnosisRank::Secondary
            };
            self.clinic
                .store
                .add_diagnosis(&nurse, &ticket.visit_id, code, rank)
                .unwrap();
        }
        ticket.visit_id
    }
}

fn new_cases(row: &Lb1Row, group: AgeGroup, male: i64, female: i64) -> bool {
    row.new_by_age[AgeGroup::ALL.iter().position(|g| *g == group).unwrap()]
        == BySex { male, female }
}

fn only_cells(row: &Lb1Row, cells: &[(AgeGroup, i64, i64)]) {
    for group in AgeGroup::ALL {
        let (male, female) = cells
            .iter()
            .find(|(g, _, _)| *g == group)
            .map_or((0, 0), |(_, m, f)| (*m, *f));
        assert!(
            new_cases(row, group, male, female),
            "{} {group:?}: expected L{male} P{female}, got {:?}",
            row.code,
            row.new_by_age
        );
    }
}

#[test]
fn lb1_counts_every_cell_as_the_month_happened() {
    let mut n = November::build();
    let month = ReportPeriod::month("2026-11").unwrap();
    let admin = n.clinic.admin.clone();
    let lb1 = n
        .clinic
        .store
        .lb1_report(&admin, &month, &ReportFilter::default())
        .unwrap();
    let codes: Vec<&str> = lb1.rows.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["A09", "E11.9", "I10", "J06.9"]);
    let row = |code: &str| lb1.rows.iter().find(|r| r.code == code).unwrap();
    use AgeGroup::*;

    let a09 = row("A09");
    only_cells(a09, &[(Days29ToUnder1Year, 1, 0), (Years1To4, 0, 1)]);
    assert_eq!((a09.new_cases, a09.old_cases, a09.total), (2, 0, 2));
    assert!(a09.title.contains("gastroenteritis"));

    let e11 = row("E11.9");
    only_cells(e11, &[(Years60To69, 1, 0)]);
    assert_eq!((e11.new_cases, e11.old_cases, e11.total), (1, 0, 1));

    let i10 = row("I10");
    only_cells(i10, &[(Years60To69, 2, 1)]);
    assert_eq!((i10.new_cases, i10.old_cases, i10.total), (3, 2, 5));

    let j06 = row("J06.9");
    only_cells(
        j06,
        &[(Days0To7, 0, 1), (Days8To28, 1, 0), (Years1To4, 0, 1)],
    );
    assert_eq!((j06.new_cases, j06.old_cases, j06.total), (3, 2, 5));

    let t = &lb1.totals;
    assert_eq!((t.new_cases, t.old_cases, t.total), (9, 4, 13));
    only_cells(
        t,
        &[
            (Days0To7, 0, 1),
            (Days8To28, 1, 0),
            (Days29ToUnder1Year, 1, 0),
            (Years1To4, 0, 2),
            (Years60To69, 3, 1),
        ],
    );
}

#[test]
fn the_visit_recap_counts_visits_not_diagnoses() {
    let mut n = November::build();
    let month = ReportPeriod::month("2026-11").unwrap();
    let admin = n.clinic.admin.clone();
    let recap = n
        .clinic
        .store
        .visit_recap(&admin, &month, &ReportFilter::default())
        .unwrap();
    assert_eq!(
        recap.total, 13,
        "the cancelled visit and other months' never count"
    );
    let general = recap
        .by_unit
        .iter()
        .find(|u| u.unit_code == "general")
        .unwrap();
    assert_eq!(general.visits, 13);
    assert_eq!(recap.by_unit.len(), 6, "every unit is listed");
    assert_eq!(
        (
            recap.payer_general,
            recap.payer_bpjs_pbi,
            recap.payer_bpjs_non_pbi
        ),
        (0, 13, 0)
    );
    assert_eq!((recap.new_visits, recap.repeat_visits), (7, 6));
    assert_eq!((recap.sick, recap.well), (13, 0));
    assert_eq!(
        (
            recap.inside_catchment,
            recap.outside_catchment,
            recap.catchment_unknown
        ),
        (5, 4, 4)
    );
    assert_eq!(recap.age_60_plus, 6);
    assert_eq!(recap.referrals, 1);
}

#[test]
fn the_ten_most_common_diagnoses_and_the_day() {
    let mut n = November::build();
    let month = ReportPeriod::month("2026-11").unwrap();
    let admin = n.clinic.admin.clone();
    let top = n
        .clinic
        .store
        .top_diagnoses(&admin, &month, &ReportFilter::default(), 10)
        .unwrap();
    let ranked: Vec<(usize, &str, i64)> = top
        .rows
        .iter()
        .map(|r| (r.rank, r.code.as_str(), r.count))
        .collect();
    assert_eq!(
        ranked,
        [
            (1, "I10", 5),
            (2, "J06.9", 5),
            (3, "A09", 2),
            (4, "E11.9", 1)
        ]
    );
    let new_only = ReportFilter {
        new_cases_only: true,
        ..ReportFilter::default()
    };
    let top_new = n
        .clinic
        .store
        .top_diagnoses(&admin, &month, &new_only, 2)
        .unwrap();
    let ranked: Vec<(&str, i64)> = top_new
        .rows
        .iter()
        .map(|r| (r.code.as_str(), r.count))
        .collect();
    assert_eq!(ranked, [("I10", 3), ("J06.9", 3)], "limited to two");
    let dental = ReportFilter {
        unit_code: Some("dental".into()),
        ..ReportFilter::default()
    };
    let none = n
        .clinic
        .store
        .top_diagnoses(&admin, &month, &dental, 10)
        .unwrap();
    assert!(none.rows.is_empty(), "no dental visits this month");

    let day = n.clinic.store.daily_report(&admin, "2026-11-08").unwrap();
    let general = day
        .visits_per_unit
        .iter()
        .find(|u| u.unit_code == "general")
        .unwrap();
    assert_eq!(general.visits, 8);
    let ranked: Vec<(&str, i64)> = day
        .diagnoses
        .iter()
        .map(|r| (r.code.as_str(), r.count))
        .collect();
    assert_eq!(ranked, [("I10", 3), ("J06.9", 3), ("A09", 2)]);
}

#[test]
fn reports_are_for_admins_and_nurses_and_are_audited() {
    let mut n = November::build();
    let month = ReportPeriod::month("2026-11").unwrap();
    let desk = n.clinic.desk.clone();
    assert!(matches!(
        n.clinic
            .store
            .lb1_report(&desk, &month, &ReportFilter::default()),
        Err(StoreError::NotAllowed { .. })
    ));
    let nurse = n.clinic.nurse.clone();
    n.clinic
        .store
        .lb1_report(&nurse, &month, &ReportFilter::default())
        .unwrap();
    let admin = n.clinic.admin.clone();
    let trail = n.clinic.store.audit_trail(&admin, None, 10_000).unwrap();
    assert!(trail
        .iter()
        .any(|e| e.action == "report.lb1" && e.actor == "nurse"));
}

#[test]
fn report_periods_are_checked() {
    let month = ReportPeriod::month("2024-02").unwrap();
    assert_eq!(
        (month.from.as_str(), month.to.as_str()),
        ("2024-02-01", "2024-02-29")
    );
    assert!(ReportPeriod::month("2026-13").is_err());
    assert!(ReportPeriod::month("November").is_err());
    assert!(ReportPeriod::new("2026-11-30", "2026-11-01").is_err());
}
