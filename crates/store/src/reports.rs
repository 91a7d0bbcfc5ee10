//! The reports a Puskesmas sends its district health office and reads itself: LB1
//! (morbidity: new cases by age group and sex, then new, old and total cases, per ICD-10
//! code), the visit recap (the visit part of LB4), the ten most common diagnoses, and the
//! day's report. Each is one read over the facility's own local days, audited.
//!
//! What counts: visits of this Puskesmas (not those pulled from others), never a
//! cancelled one; every diagnosis still on a visit (one removed was deleted, so it never
//! counts), primary and secondary alike. Age is on the day of the visit.

use std::collections::{BTreeMap, HashMap};

use kartika_card::model::{parse_iso_date, Sex};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::access::{Action, Session};
use crate::visits::{Care, Payer};
use crate::{icd10, Ctx, Result, Store, StoreError};

/// A span of the facility's local days, both ends included.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportPeriod {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
}

impl ReportPeriod {
    /// From `from` to `to`, checked.
    pub fn new(from: &str, to: &str) -> Result<Self> {
        let first = parse_iso_date(from.trim(), "first day")?;
        let last = parse_iso_date(to.trim(), "last day")?;
        if last < first {
            return Err(StoreError::invalid(
                "report period",
                format!("{to} is before {from}; give the first day first"),
            ));
        }
        Ok(Self {
            from: iso(first),
            to: iso(last),
        })
    }

    /// A calendar month, `YYYY-MM`.
    pub fn month(text: &str) -> Result<Self> {
        let bad =
            || StoreError::invalid("month", format!("\"{text}\" is not a month like 2026-11"));
        let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u8 = month.parse().map_err(|_| bad())?;
        let month = time::Month::try_from(month).map_err(|_| bad())?;
        let first = Date::from_calendar_date(year, month, 1).map_err(|_| bad())?;
        let last = Date::from_calendar_date(year, month, month.length(year)).map_err(|_| bad())?;
        Ok(Self {
            from: iso(first),
            to: iso(last),
        })
    }

    /// One day.
    pub fn day(date: &str) -> Result<Self> {
        Self::new(date, date)
    }
}

fn iso(date: Date) -> String {
    kartika_card::model::format_iso_date(date)
}

/// The twelve age groups of LB1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeGroup {
    /// 0 to 7 days.
    Days0To7,
    /// 8 to 28 days.
    Days8To28,
    /// 29 days to under 1 year.
    Days29ToUnder1Year,
    /// 1 to 4 years.
    Years1To4,
    /// 5 to 9 years.
    Years5To9,
    /// 10 to 14 years.
    Years10To14,
    /// 15 to 19 years.
    Years15To19,
    /// 20 to 44 years.
    Years20To44,
    /// 45 to 54 years.
    Years45To54,
    /// 55 to 59 years.
    Years55To59,
    /// 60 to 69 years.
    Years60To69,
    /// 70 years and over.
    Years70Plus,
}

impl AgeGroup {
    /// The groups in the form's order.
    pub const ALL: [Self; 12] = [
        Self::Days0To7,
        Self::Days8To28,
        Self::Days29ToUnder1Year,
        Self::Years1To4,
        Self::Years5To9,
        Self::Years10To14,
        Self::Years15To19,
        Self::Years20To44,
        Self::Years45To54,
        Self::Years55To59,
        Self::Years60To69,
        Self::Years70Plus,
    ];

    /// The column heading of the paper form.
    pub fn label(self) -> &'static str {
        match self {
            Self::Days0To7 => "0-7 hr",
            Self::Days8To28 => "8-28 hr",
            Self::Days29ToUnder1Year => "29 hr-<1 th",
            Self::Years1To4 => "1-4 th",
            Self::Years5To9 => "5-9 th",
            Self::Years10To14 => "10-14 th",
            Self::Years15To19 => "15-19 th",
            Self::Years20To44 => "20-44 th",
            Self::Years45To54 => "45-54 th",
            Self::Years55To59 => "55-59 th",
            Self::Years60To69 => "60-69 th",
            Self::Years70Plus => "70+ th",
        }
    }

    /// The group of someone born on `birth`, on the day `on`.
    pub fn on(birth: Date, on: Date) -> Self {
        let days = (on - birth).whole_days();
        if days <= 7 {
            return Self::Days0To7;
        }
        if days <= 28 {
            return Self::Days8To28;
        }
        match full_years(birth, on) {
            0 => Self::Days29ToUnder1Year,
            1..=4 => Self::Years1To4,
            5..=9 => Self::Years5To9,
            10..=14 => Self::Years10To14,
            15..=19 => Self::Years15To19,
            20..=44 => Self::Years20To44,
            45..=54 => Self::Years45To54,
            55..=59 => Self::Years55To59,
            60..=69 => Self::Years60To69,
            _ => Self::Years70Plus,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Whole years from `birth` to `on` (a birthday on 29 February falls on 1 March).
pub fn full_years(birth: Date, on: Date) -> i32 {
    let mut years = on.year() - birth.year();
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    years
}

/// New cases of one age group: laki-laki (male) and perempuan (female).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BySex {
    /// L.
    pub male: i64,
    /// P.
    pub female: i64,
}

/// One row of LB1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lb1Row {
    /// ICD-10 code (`TOTAL` on the totals row).
    pub code: String,
    /// Its title.
    pub title: String,
    /// New cases per age group, in [`AgeGroup::ALL`] order.
    pub new_by_age: [BySex; 12],
    /// Kasus baru: every new case, whatever the sex.
    pub new_cases: i64,
    /// Kasus lama.
    pub old_cases: i64,
    /// New and old.
    pub total: i64,
}

impl Lb1Row {
    fn new(code: &str, title: &str) -> Self {
        Self {
            code: code.to_owned(),
            title: title.to_owned(),
            new_by_age: [BySex::default(); 12],
            new_cases: 0,
            old_cases: 0,
            total: 0,
        }
    }

    fn count(&mut self, new_case: bool, group: AgeGroup, sex: Sex) {
        self.total += 1;
        if !new_case {
            self.old_cases += 1;
            return;
        }
        self.new_cases += 1;
        let cell = &mut self.new_by_age[group.index()];
        match sex {
            Sex::Male => cell.male += 1,
            Sex::Female => cell.female += 1,
            // Counted in the totals; the form has no column for them.
            _ => {}
        }
    }

    fn add(&mut self, other: &Self) {
        for (cell, add) in self.new_by_age.iter_mut().zip(other.new_by_age) {
            cell.male += add.male;
            cell.female += add.female;
        }
        self.new_cases += other.new_cases;
        self.old_cases += other.old_cases;
        self.total += other.total;
    }
}

/// The LB1 morbidity report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lb1Report {
    /// The facility's code.
    pub facility_code: String,
    /// Its name.
    pub facility_name: String,
    /// The period.
    pub period: ReportPeriod,
    /// The unit it is limited to, if any.
    pub unit_code: Option<String>,
    /// One row per ICD-10 code, in code order.
    pub rows: Vec<Lb1Row>,
    /// The column totals.
    pub totals: Lb1Row,
}

/// Visits counted one way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitCount {
    /// The unit's code.
    pub unit_code: String,
    /// Its name.
    pub unit_name: String,
    /// Visits.
    pub visits: i64,
}

/// The visit recap (the visit part of LB4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitRecap {
    /// The period.
    pub period: Option<ReportPeriod>,
    /// The unit it is limited to, if any.
    pub unit_code: Option<String>,
    /// Every visit.
    pub total: i64,
    /// Per unit, every unit listed.
    pub by_unit: Vec<UnitCount>,
    /// Umum.
    pub payer_general: i64,
    /// BPJS PBI.
    pub payer_bpjs_pbi: i64,
    /// BPJS non-PBI.
    pub payer_bpjs_non_pbi: i64,
    /// Kunjungan baru: first visit this year.
    pub new_visits: i64,
    /// Kunjungan lama.
    pub repeat_visits: i64,
    /// Kunjungan sakit.
    pub sick: i64,
    /// Kunjungan sehat.
    pub well: i64,
    /// Dalam wilayah.
    pub inside_catchment: i64,
    /// Luar wilayah.
    pub outside_catchment: i64,
    /// Village not known.
    pub catchment_unknown: i64,
    /// Patients aged 60 and over on the day.
    pub age_60_plus: i64,
    /// Dirujuk.
    pub referrals: i64,
}

/// One diagnosis and how often it was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosisCount {
    /// 1 for the most common.
    pub rank: usize,
    /// ICD-10 code.
    pub code: String,
    /// WHO's English title.
    pub title: String,
    /// The Indonesian title, where the shipped list has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_id: Option<String>,
    /// How many times.
    pub count: i64,
}

/// The ten most common diagnoses (10 besar penyakit).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopDiagnoses {
    /// The period.
    pub period: ReportPeriod,
    /// The unit it is limited to, if any.
    pub unit_code: Option<String>,
    /// Only new cases counted.
    pub new_cases_only: bool,
    /// Most common first; ties in code order.
    pub rows: Vec<DiagnosisCount>,
}

/// The day's report: visits per unit and the diagnoses ranked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyReport {
    /// The day.
    pub date: String,
    /// Visits per unit, every unit listed.
    pub visits_per_unit: Vec<UnitCount>,
    /// Every diagnosis of the day, most common first.
    pub diagnoses: Vec<DiagnosisCount>,
}

/// How a report is narrowed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFilter {
    /// Only this unit's visits.
    pub unit_code: Option<String>,
    /// Only new cases (for the top ten).
    pub new_cases_only: bool,
}

/// The visits a report counts, with `?1`..`?4` the period's first and last day, this
/// facility's code and the unit (or NULL for all): never a cancelled visit, never another
/// Puskesmas's.
const COUNTED_VISITS: &str = "v.queue_date BETWEEN ?1 AND ?2 AND v.status != 'cancelled'
    AND v.facility_code = ?3 AND (?4 IS NULL OR v.unit_code = ?4)";

/// One diagnosis of a counted visit, as the reports read it.
struct DiagnosisFact {
    code: String,
    new_case: bool,
    birth_date: Date,
    sex: Sex,
    visit_date: Date,
}

impl Store {
    /// LB1 for a period (admins and nurses).
    pub fn lb1_report(
        &mut self,
        session: &Session,
        period: &ReportPeriod,
        filter: &ReportFilter,
    ) -> Result<Lb1Report> {
        let (code, name) = (self.facility.code.clone(), self.facility.name.clone());
        self.write(session, Action::ReadReports, |ctx| {
            let mut rows: BTreeMap<String, Lb1Row> = BTreeMap::new();
            for_each_diagnosis(ctx, period, filter, |fact| {
                let group = AgeGroup::on(fact.birth_date, fact.visit_date);
                rows.entry(fact.code.clone())
                    .or_insert_with(|| {
                        Lb1Row::new(&fact.code, icd10::title(&fact.code).unwrap_or_default())
                    })
                    .count(fact.new_case, group, fact.sex);
            })?;
            let mut totals = Lb1Row::new("TOTAL", "Jumlah");
            for row in rows.values() {
                totals.add(row);
            }
            ctx.audit("report.lb1", None, &describe(period, filter))?;
            Ok(Lb1Report {
                facility_code: code,
                facility_name: name,
                period: period.clone(),
                unit_code: filter.unit_code.clone(),
                rows: rows.into_values().collect(),
                totals,
            })
        })
    }

    /// The visit recap for a period (admins and nurses).
    pub fn visit_recap(
        &mut self,
        session: &Session,
        period: &ReportPeriod,
        filter: &ReportFilter,
    ) -> Result<VisitRecap> {
        self.write(session, Action::ReadReports, |ctx| {
            let mut recap = VisitRecap {
                period: Some(period.clone()),
                unit_code: filter.unit_code.clone(),
                by_unit: units(ctx)?,
                ..VisitRecap::default()
            };
            let mut stmt = ctx.tx.prepare_cached(&format!(
                "SELECT v.unit_code, v.payer, v.care, v.first_this_year, v.inside_catchment,
                        v.status, v.queue_date, p.birth_date
                 FROM visit v INDEXED BY visit_queue JOIN patient p ON p.id = v.patient_id
                 WHERE {COUNTED_VISITS}"
            ))?;
            let mut rows = stmt.query(params![
                period.from,
                period.to,
                ctx.facility.code,
                filter.unit_code
            ])?;
            let mut dates = DateCache::default();
            while let Some(r) = rows.next()? {
                let unit: String = r.get(0)?;
                recap.total += 1;
                if let Some(u) = recap.by_unit.iter_mut().find(|u| u.unit_code == unit) {
                    u.visits += 1;
                }
                match r.get::<_, Payer>(1)? {
                    Payer::General => recap.payer_general += 1,
                    Payer::BpjsPbi => recap.payer_bpjs_pbi += 1,
                    Payer::BpjsNonPbi => recap.payer_bpjs_non_pbi += 1,
                }
                match r.get::<_, Care>(2)? {
                    Care::Sick => recap.sick += 1,
                    Care::Well => recap.well += 1,
                }
                if r.get::<_, bool>(3)? {
                    recap.new_visits += 1;
                } else {
                    recap.repeat_visits += 1;
                }
                match r.get::<_, Option<bool>>(4)? {
                    Some(true) => recap.inside_catchment += 1,
                    Some(false) => recap.outside_catchment += 1,
                    None => recap.catchment_unknown += 1,
                }
                if text(r, 5)? == "referred" {
                    recap.referrals += 1;
                }
                let day = dates.get(text(r, 6)?)?;
                let birth = dates.get(text(r, 7)?)?;
                if full_years(birth, day) >= 60 {
                    recap.age_60_plus += 1;
                }
            }
            ctx.audit("report.visits", None, &describe(period, filter))?;
            Ok(recap)
        })
    }

    /// The most common diagnoses of a period, at most `limit` (admins and nurses).
    pub fn top_diagnoses(
        &mut self,
        session: &Session,
        period: &ReportPeriod,
        filter: &ReportFilter,
        limit: usize,
    ) -> Result<TopDiagnoses> {
        self.write(session, Action::ReadReports, |ctx| {
            let rows = ranked_diagnoses(ctx, period, filter, limit)?;
            ctx.audit("report.top10", None, &describe(period, filter))?;
            Ok(TopDiagnoses {
                period: period.clone(),
                unit_code: filter.unit_code.clone(),
                new_cases_only: filter.new_cases_only,
                rows,
            })
        })
    }

    /// The day's report (admins and nurses).
    pub fn daily_report(&mut self, session: &Session, date: &str) -> Result<DailyReport> {
        let period = ReportPeriod::day(date)?;
        self.write(session, Action::ReadReports, |ctx| {
            let mut visits_per_unit = units(ctx)?;
            let mut stmt = ctx.tx.prepare_cached(
                "SELECT unit_code, count(*) FROM visit INDEXED BY visit_queue
                 WHERE queue_date = ?1 AND status != 'cancelled' AND facility_code = ?2
                 GROUP BY unit_code",
            )?;
            let mut rows = stmt.query(params![period.from, ctx.facility.code])?;
            while let Some(r) = rows.next()? {
                let unit: String = r.get(0)?;
                if let Some(u) = visits_per_unit.iter_mut().find(|u| u.unit_code == unit) {
                    u.visits = r.get(1)?;
                }
            }
            let diagnoses = ranked_diagnoses(ctx, &period, &ReportFilter::default(), usize::MAX)?;
            ctx.audit("report.daily", None, &period.from)?;
            Ok(DailyReport {
                date: period.from.clone(),
                visits_per_unit,
                diagnoses,
            })
        })
    }
}

fn describe(period: &ReportPeriod, filter: &ReportFilter) -> String {
    let mut text = format!("{}..{}", period.from, period.to);
    if let Some(unit) = &filter.unit_code {
        text.push_str(&format!(" unit {unit}"));
    }
    if filter.new_cases_only {
        text.push_str(" new cases");
    }
    text
}

/// A text column read in place, without copying it.
fn text<'r>(row: &'r rusqlite::Row<'_>, index: usize) -> Result<&'r str> {
    row.get_ref(index)?
        .as_str()
        .map_err(|e| StoreError::Damaged(e.to_string()))
}

/// Stored dates, each text parsed once: a month's visits fall on a few dozen days and
/// birth dates repeat.
#[derive(Default)]
struct DateCache(HashMap<String, Date>);

impl DateCache {
    fn get(&mut self, text: &str) -> Result<Date> {
        if let Some(date) = self.0.get(text) {
            return Ok(*date);
        }
        let date =
            parse_iso_date(text, "stored date").map_err(|e| StoreError::Damaged(e.to_string()))?;
        self.0.insert(text.to_owned(), date);
        Ok(date)
    }
}

/// Every active unit, with no visits counted yet.
fn units(ctx: &Ctx<'_>) -> Result<Vec<UnitCount>> {
    let mut stmt = ctx.tx.prepare_cached(
        "SELECT code, name FROM service_unit WHERE active ORDER BY built_in DESC, rowid",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(UnitCount {
            unit_code: r.get(0)?,
            unit_name: r.get(1)?,
            visits: 0,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn for_each_diagnosis(
    ctx: &Ctx<'_>,
    period: &ReportPeriod,
    filter: &ReportFilter,
    mut each: impl FnMut(&DiagnosisFact),
) -> Result<()> {
    let mut stmt = ctx.tx.prepare_cached(&format!(
        "SELECT d.code, d.new_case, p.birth_date, p.sex, v.queue_date
         FROM visit v INDEXED BY visit_queue
         JOIN diagnosis d ON d.visit_id = v.id
         JOIN patient p ON p.id = v.patient_id
         WHERE {COUNTED_VISITS}"
    ))?;
    let mut rows = stmt.query(params![
        period.from,
        period.to,
        ctx.facility.code,
        filter.unit_code
    ])?;
    let mut dates = DateCache::default();
    while let Some(r) = rows.next()? {
        let sex: u8 = r.get(3)?;
        let fact = DiagnosisFact {
            code: r.get(0)?,
            new_case: r.get(1)?,
            birth_date: dates.get(text(r, 2)?)?,
            sex: Sex::from_code(sex).unwrap_or(Sex::Unknown),
            visit_date: dates.get(text(r, 4)?)?,
        };
        each(&fact);
    }
    Ok(())
}

fn ranked_diagnoses(
    ctx: &Ctx<'_>,
    period: &ReportPeriod,
    filter: &ReportFilter,
    limit: usize,
) -> Result<Vec<DiagnosisCount>> {
    let mut stmt = ctx.tx.prepare_cached(&format!(
        "SELECT d.code, count(*) AS n
         FROM visit v INDEXED BY visit_queue JOIN diagnosis d ON d.visit_id = v.id
         WHERE {COUNTED_VISITS}
           AND (?5 = 0 OR d.new_case)
         GROUP BY d.code ORDER BY n DESC, d.code LIMIT ?6"
    ))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(
        params![
            period.from,
            period.to,
            ctx.facility.code,
            filter.unit_code,
            filter.new_cases_only,
            limit
        ],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )?;
    let mut ranked = Vec::new();
    for (index, row) in rows.enumerate() {
        let (code, count) = row?;
        ranked.push(DiagnosisCount {
            rank: index + 1,
            title: icd10::title(&code).unwrap_or_default().to_owned(),
            title_id: icd10::title_id(&code).map(str::to_owned),
            code,
            count,
        });
    }
    Ok(ranked)
}
