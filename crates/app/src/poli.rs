//! The nurse's workspace, as state: the unit's queue, the open visit with its patient's
//! history laid out once for the table and the charts, the examination form, the ICD-10
//! search and the card of the patient in the room. Views draw it; what changes it arrives
//! from the workers.

use kartika_card::model::{FacilityCode, Icd10Code, Identity, MedicalSummary, Pin, VisitRecord};
use kartika_card::PinStatus;
use kartika_protocol::PresenceProof;
use kartika_store::icd10::Icd10Entry;
use kartika_store::{
    CaseKind, DiagnosisRank, Examination, PatientHistory, QueueEntry, VisitDetail, VisitStatus,
    Vitals,
};

use crate::format;
use crate::problem::Problem;
use crate::text::Lang;
use crate::workers::clinic::PoliVisit;

/// How many ICD-10 matches the search shows.
pub const DIAGNOSIS_HITS: usize = 8;

/// The parts of the open visit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PoliTab {
    /// Pemeriksaan: vitals, complaint, notes, diagnoses.
    #[default]
    Examination,
    /// Riwayat: every visit, here and elsewhere.
    History,
    /// Grafik: weight, blood pressure and temperature over time.
    Charts,
    /// Kartu: the card's own log and the medical summary.
    Card,
}

/// The nurse's workspace.
#[derive(Debug, Default)]
pub struct PoliState {
    /// The unit's queue of today.
    pub queue: Vec<QueueEntry>,
    /// The visit being examined (or looked at).
    pub open: Option<OpenVisit>,
    /// The part of it on screen.
    pub tab: PoliTab,
    /// The examination form.
    pub exam: ExamForm,
    /// The ICD-10 search.
    pub diagnosis: DiagnosisSearch,
    /// Where the patient is referred to, while the referral is being written.
    pub referral: Option<String>,
    /// The card in the poli's reader.
    pub card: Option<PoliCard>,
    /// The last failure.
    pub problem: Option<Problem>,
    /// A passing message.
    pub notice: Option<String>,
    /// Put the keyboard in the first vital sign on the next frame.
    pub focus_exam: bool,
    /// Put the keyboard in the referral's "where to" on the next frame.
    pub focus_referral: bool,
}

impl PoliState {
    /// The open visit's id.
    pub fn open_visit_id(&self) -> Option<&str> {
        self.open.as_ref().map(|o| o.visit.visit_id.as_str())
    }

    /// Whether the open visit can still be examined and ended.
    pub fn open_is_active(&self) -> bool {
        self.open
            .as_ref()
            .is_some_and(|o| o.visit.status == VisitStatus::InProgress)
    }
}

/// A visit open at the poli, with its history laid out.
#[derive(Clone, Debug)]
pub struct OpenVisit {
    /// The visit.
    pub visit: VisitDetail,
    /// The patient, cards and visits.
    pub history: PatientHistory,
    /// One line per visit, newest first, text ready to draw.
    pub rows: Vec<HistoryRow>,
    /// The chart series.
    pub charts: ChartSeries,
    /// Open duplicate flags that involve the patient.
    pub duplicates: Vec<kartika_store::PossibleDuplicate>,
}

impl OpenVisit {
    /// Lays out the history once, so drawing a frame formats nothing.
    pub fn new(opened: PoliVisit, here: &Here) -> Self {
        let rows = history_rows(&opened.history, here);
        let charts = ChartSeries::of(&opened.history.visits);
        Self {
            visit: opened.visit,
            history: opened.history,
            rows,
            charts,
            duplicates: opened.duplicates,
        }
    }

    /// After a change to the visit: it replaces its line in the history.
    pub fn replace_visit(&mut self, visit: VisitDetail, here: &Here) {
        if let Some(v) = self
            .history
            .visits
            .iter_mut()
            .find(|v| v.visit_id == visit.visit_id)
        {
            *v = visit.clone();
        }
        self.visit = visit;
        self.rows = history_rows(&self.history, here);
        self.charts = ChartSeries::of(&self.history.visits);
    }

    /// After the registry sent more: the history is read again.
    pub fn replace_history(&mut self, history: PatientHistory, here: &Here) {
        if let Some(v) = history
            .visits
            .iter()
            .find(|v| v.visit_id == self.visit.visit_id)
        {
            self.visit = v.clone();
        }
        self.rows = history_rows(&history, here);
        self.charts = ChartSeries::of(&history.visits);
        self.history = history;
    }
}

/// One visit as the history table shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRow {
    /// The visit's id.
    pub visit_id: String,
    /// "12-03-2025".
    pub date: String,
    /// The facility's code, "di sini" for this one.
    pub facility: String,
    /// Whether it was at another Puskesmas.
    pub elsewhere: bool,
    /// The unit's code.
    pub unit: String,
    /// "J06.9 Infeksi saluran pernapasan atas akut… (kasus baru); …", primary first, in
    /// the screen's language where the list has the title in it.
    pub diagnoses: String,
    /// The same codes with WHO's English titles, shown on hover.
    pub diagnoses_who: String,
    /// "120/80".
    pub blood_pressure: String,
    /// "76".
    pub pulse: String,
    /// "37,2".
    pub temperature: String,
    /// "54,5".
    pub weight: String,
    /// Status in words.
    pub status: String,
    /// Where the visit stands with SATUSEHAT, for a finished visit of this Puskesmas.
    pub satusehat: Option<kartika_store::DeliveryState>,
    /// Where a BPJS visit of this Puskesmas stands with P-Care.
    pub pcare: Option<kartika_store::BpjsVisitState>,
}

/// How this Puskesmas names what a history shows: its own visits "di sini", its units by
/// name, in the screens' language.
#[derive(Clone, Debug)]
pub struct Here {
    /// This facility's code.
    pub facility: String,
    /// Its service units.
    pub units: Vec<kartika_store::ServiceUnit>,
    /// The language.
    pub lang: Lang,
}

fn history_rows(history: &kartika_store::PatientHistory, here: &Here) -> Vec<HistoryRow> {
    let lang = here.lang;
    history
        .visits
        .iter()
        .map(|v| {
            let elsewhere = v.facility_code != here.facility;
            let vitals = &v.vitals;
            HistoryRow {
                satusehat: history.satusehat.get(&v.visit_id).copied(),
                pcare: history.bpjs.get(&v.visit_id).cloned(),
                visit_id: v.visit_id.clone(),
                date: format::parse_iso(&v.queue_date)
                    .map_or_else(|| v.queue_date.clone(), format::short_date),
                facility: if elsewhere {
                    v.facility_code.clone()
                } else {
                    here_words(lang).to_owned()
                },
                elsewhere,
                // Another Puskesmas's units are known here only by their codes.
                unit: here
                    .units
                    .iter()
                    .find(|u| !elsewhere && u.code == v.unit_code)
                    .map_or_else(|| v.unit_code.clone(), |u| u.name.clone()),
                diagnoses: diagnoses_line(v, lang),
                diagnoses_who: diagnoses_line(v, Lang::En),
                blood_pressure: match (vitals.systolic, vitals.diastolic) {
                    (Some(s), Some(d)) => format!("{s}/{d}"),
                    _ => String::new(),
                },
                pulse: vitals.pulse.map(|p| p.to_string()).unwrap_or_default(),
                temperature: vitals
                    .temperature
                    .map(|t| format::decimal(t, 1, lang))
                    .unwrap_or_default(),
                weight: vitals
                    .weight
                    .map(|w| format::decimal(w, 1, lang))
                    .unwrap_or_default(),
                status: status_words(v.status, lang).to_owned(),
            }
        })
        .collect()
}

fn here_words(lang: Lang) -> &'static str {
    match lang {
        Lang::Id => "di sini",
        Lang::En => "here",
    }
}

/// Primary first, each with its title in `lang` and whether it is a new case.
pub fn diagnoses_line(visit: &VisitDetail, lang: Lang) -> String {
    let mut diagnoses: Vec<_> = visit.diagnoses.iter().collect();
    diagnoses.sort_by_key(|d| d.rank != DiagnosisRank::Primary);
    diagnoses
        .iter()
        .map(|d| {
            let title = diagnosis_title(&d.code, &d.title, lang);
            format!("{} {title} ({})", d.code, case_words(d.case, lang))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A diagnosis's title as the screen shows it: in Bahasa Indonesia the shipped Indonesian
/// title where there is one, otherwise (and in English) WHO's title, which stays on hover.
pub fn diagnosis_title<'a>(code: &str, who_title: &'a str, lang: Lang) -> &'a str {
    match lang {
        Lang::Id => kartika_store::icd10::title_id(code).unwrap_or(who_title),
        Lang::En => who_title,
    }
}

/// "baru" or "lama".
pub fn case_words(case: CaseKind, lang: Lang) -> &'static str {
    match (lang, case) {
        (Lang::Id, CaseKind::New) => "kasus baru",
        (Lang::Id, CaseKind::Old) => "kasus lama",
        (Lang::En, CaseKind::New) => "new case",
        (Lang::En, CaseKind::Old) => "old case",
    }
}

/// "utama" or "sekunder".
pub fn rank_words(rank: DiagnosisRank, lang: Lang) -> &'static str {
    match (lang, rank) {
        (Lang::Id, DiagnosisRank::Primary) => "utama",
        (Lang::Id, DiagnosisRank::Secondary) => "sekunder",
        (Lang::En, DiagnosisRank::Primary) => "primary",
        (Lang::En, DiagnosisRank::Secondary) => "secondary",
    }
}

/// Antri, Dilayani, Selesai, Dirujuk, Batal.
pub fn status_words(status: VisitStatus, lang: Lang) -> &'static str {
    match (lang, status) {
        (Lang::Id, VisitStatus::Waiting) => "Antri",
        (Lang::Id, VisitStatus::InProgress) => "Dilayani",
        (Lang::Id, VisitStatus::Finished) => "Selesai",
        (Lang::Id, VisitStatus::Referred) => "Dirujuk",
        (Lang::Id, VisitStatus::Cancelled) => "Batal",
        (Lang::En, VisitStatus::Waiting) => "Waiting",
        (Lang::En, VisitStatus::InProgress) => "Being seen",
        (Lang::En, VisitStatus::Finished) => "Finished",
        (Lang::En, VisitStatus::Referred) => "Referred",
        (Lang::En, VisitStatus::Cancelled) => "Cancelled",
    }
}

/// The chart points, x in days since the first of January 1970, oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChartSeries {
    /// Weight, kg.
    pub weight: Vec<ChartPoint>,
    /// Systolic pressure, mmHg.
    pub systolic: Vec<ChartPoint>,
    /// Diastolic pressure, mmHg.
    pub diastolic: Vec<ChartPoint>,
    /// Temperature, °C.
    pub temperature: Vec<ChartPoint>,
}

/// One measurement and the visit it was taken at.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartPoint {
    /// Days since 1970-01-01 (fractional: the time of day).
    pub x: f64,
    /// The value.
    pub y: f64,
    /// The visit's date, "12-03-2025".
    pub date: String,
    /// Where: the facility's code.
    pub facility: String,
}

impl ChartSeries {
    /// The series of `visits`, whatever their order.
    pub fn of(visits: &[VisitDetail]) -> Self {
        let mut ordered: Vec<&VisitDetail> = visits.iter().collect();
        ordered.sort_by_key(|v| v.arrived.at);
        let mut series = Self::default();
        for v in ordered {
            let x = v.arrived.at.unix_timestamp() as f64 / 86_400.0;
            let point = |y: f64| ChartPoint {
                x,
                y,
                date: format::parse_iso(&v.queue_date)
                    .map_or_else(|| v.queue_date.clone(), format::short_date),
                facility: v.facility_code.clone(),
            };
            let vitals = &v.vitals;
            if let Some(w) = vitals.weight {
                series.weight.push(point(w));
            }
            if let (Some(s), Some(d)) = (vitals.systolic, vitals.diastolic) {
                series.systolic.push(point(s as f64));
                series.diastolic.push(point(d as f64));
            }
            if let Some(t) = vitals.temperature {
                series.temperature.push(point(t));
            }
        }
        series
    }
}

/// The examination as typed: text until saved, so a half-typed number is not lost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExamForm {
    /// Sistole.
    pub systolic: String,
    /// Diastole.
    pub diastolic: String,
    /// Nadi.
    pub pulse: String,
    /// Napas.
    pub respiratory_rate: String,
    /// Suhu.
    pub temperature: String,
    /// Berat badan.
    pub weight: String,
    /// Tinggi badan.
    pub height: String,
    /// Keluhan.
    pub complaint: String,
    /// Catatan.
    pub notes: String,
}

impl ExamForm {
    /// The form filled from what the visit already holds.
    pub fn of(visit: &VisitDetail, lang: Lang) -> Self {
        let v = &visit.vitals;
        let whole = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        let decimal = |n: Option<f64>| n.map(|n| format::decimal(n, 1, lang)).unwrap_or_default();
        Self {
            systolic: whole(v.systolic),
            diastolic: whole(v.diastolic),
            pulse: whole(v.pulse),
            respiratory_rate: whole(v.respiratory_rate),
            temperature: decimal(v.temperature),
            weight: decimal(v.weight),
            height: decimal(v.height),
            complaint: visit.complaint.clone().unwrap_or_default(),
            notes: visit.notes.clone().unwrap_or_default(),
        }
    }

    /// What the store is asked to record. A field that is not a number is refused here,
    /// named as the store names it; the ranges are the store's to check.
    pub fn examination(&self) -> Result<Examination, Problem> {
        let vitals = Vitals {
            systolic: whole(&self.systolic, "systolic pressure")?,
            diastolic: whole(&self.diastolic, "diastolic pressure")?,
            pulse: whole(&self.pulse, "pulse")?,
            respiratory_rate: whole(&self.respiratory_rate, "respiratory rate")?,
            temperature: decimal(&self.temperature, "temperature")?,
            weight: decimal(&self.weight, "weight")?,
            height: decimal(&self.height, "height")?,
        };
        Ok(Examination {
            complaint: Some(self.complaint.clone()),
            notes: Some(self.notes.clone()),
            vitals,
        })
    }
}

fn not_a_number(field: &str) -> Problem {
    Problem::InvalidField {
        field: field.to_owned(),
        reason: "is not a number".into(),
    }
}

fn whole(text: &str, field: &str) -> Result<Option<i64>, Problem> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| not_a_number(field))
}

/// Accepts "36,5" as a Puskesmas writes it, and "36.5".
fn decimal(text: &str, field: &str) -> Result<Option<f64>, Problem> {
    let text = text.trim().replace(',', ".");
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(Some(n)),
        _ => Err(not_a_number(field)),
    }
}

/// The ICD-10 search box.
#[derive(Clone, Debug, Default)]
pub struct DiagnosisSearch {
    /// What was typed.
    pub text: String,
    /// What the text found.
    pub hits: Vec<Icd10Entry>,
    /// The highlighted hit (arrow keys), added by Enter.
    pub selected: usize,
    /// The text the hits belong to.
    pub searched: String,
}

impl DiagnosisSearch {
    /// Searches again when the text changed since the last search.
    pub fn refresh(&mut self) {
        if self.text != self.searched {
            self.searched.clone_from(&self.text);
            self.hits = kartika_store::icd10::search(&self.text, DIAGNOSIS_HITS);
            self.selected = 0;
        }
    }
}

/// The rank the next diagnosis gets: primary when the visit has none yet.
pub fn next_rank(visit: &VisitDetail) -> DiagnosisRank {
    if visit
        .diagnoses
        .iter()
        .any(|d| d.rank == DiagnosisRank::Primary)
    {
        DiagnosisRank::Secondary
    } else {
        DiagnosisRank::Primary
    }
}

/// The card in the poli's reader.
#[derive(Debug)]
pub struct PoliCard {
    /// The reader it was tapped on.
    pub reader: String,
    /// What it says (verified at the tap).
    pub identity: Box<Identity>,
    /// Its patient, once the store has accepted the card.
    pub patient_number: Option<String>,
    /// Its answer to the tap's presence challenge, until the registry has been asked.
    pub proof: Option<PresenceProof>,
    /// The card's own visit log, newest first, once read.
    pub visits: Option<Vec<VisitRecord>>,
    /// The PIN's state, once read.
    pub pin: Option<PinStatus>,
    /// A card task is running.
    pub busy: bool,
    /// The running task writes the finished visit to the card.
    pub writing_visit: bool,
    /// The medical summary, once the patient has typed the PIN.
    pub summary: SummaryForm,
    /// The last failure with this card.
    pub problem: Option<Problem>,
    /// A passing message about this card.
    pub notice: Option<String>,
}

impl PoliCard {
    /// A card just tapped, before anything is known of it.
    pub fn new(reader: String, identity: Box<Identity>) -> Self {
        Self {
            reader,
            identity,
            patient_number: None,
            proof: None,
            visits: None,
            pin: None,
            busy: false,
            writing_visit: false,
            summary: SummaryForm::default(),
            problem: None,
            notice: None,
        }
    }

    /// The card's number.
    pub fn card_number(&self) -> String {
        self.identity.card_number.to_string()
    }
}

/// The medical summary form.
#[derive(Debug, Default)]
pub struct SummaryForm {
    /// The PIN as the patient types it (shown masked).
    pub pin_typed: String,
    /// The PIN that opened the summary, kept to write it back; cleared with the card.
    pub pin: Option<Pin>,
    /// Whether the summary has been read.
    pub read: bool,
    /// Allergies as typed.
    pub allergies: String,
    /// Chronic conditions as ICD-10 codes, separated by commas.
    pub conditions: String,
}

impl SummaryForm {
    /// Fills the form from what the card holds.
    pub fn show(&mut self, summary: Option<&MedicalSummary>) {
        self.read = true;
        self.allergies = summary
            .and_then(MedicalSummary::allergies)
            .unwrap_or_default()
            .to_owned();
        self.conditions = summary
            .map(|s| {
                s.chronic_conditions()
                    .iter()
                    .map(|c| c.as_str().to_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
    }

    /// The summary as typed, checked as the card will check it.
    pub fn summary(&self) -> Result<MedicalSummary, Problem> {
        let allergies = self.allergies.trim();
        let conditions = self
            .conditions
            .split([',', ';', ' '])
            .filter(|c| !c.trim().is_empty())
            .map(|c| {
                let code = kartika_store::icd10::normalize_code(c);
                Icd10Code::new(&code).map_err(|_| Problem::InvalidField {
                    field: "chronic conditions".into(),
                    reason: format!("{code} is not an ICD-10 code"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        MedicalSummary::new(
            (!allergies.is_empty()).then(|| allergies.to_owned()),
            conditions,
        )
        .map_err(|e| Problem::InvalidField {
            field: "medical summary".into(),
            reason: e.to_string(),
        })
    }
}

/// The card's record of a finished visit: date, facility, unit and diagnosis codes
/// (primary first, as many as one record holds).
pub fn card_record(visit: &VisitDetail) -> Result<VisitRecord, Problem> {
    let invalid = |e: kartika_card::DataError| Problem::CardUnreadable(e.to_string());
    let id = *uuid::Uuid::parse_str(&visit.visit_id)
        .map_err(|_| Problem::NotFound)?
        .as_bytes();
    let at = visit.arrived.at.to_offset(time::UtcOffset::UTC);
    let when = time::PrimitiveDateTime::new(at.date(), at.time());
    let facility = FacilityCode::new(&visit.facility_code).map_err(invalid)?;
    let unit: String = visit
        .unit_code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(16)
        .collect::<String>()
        .to_ascii_uppercase();
    let mut diagnoses: Vec<_> = visit.diagnoses.iter().collect();
    diagnoses.sort_by_key(|d| d.rank != DiagnosisRank::Primary);
    let mut codes: Vec<Icd10Code> = Vec::new();
    for d in diagnoses {
        let Ok(code) = Icd10Code::new(&d.code) else {
            continue;
        };
        codes.push(code);
        if VisitRecord::new(id, when, facility.clone(), &unit, codes.clone()).is_err() {
            codes.pop();
            break;
        }
    }
    VisitRecord::new(id, when, facility, &unit, codes).map_err(invalid)
}

/// Minutes a queue line has waited: until called in, or until now.
pub fn minutes_waited(entry: &QueueEntry, now: time::OffsetDateTime) -> i64 {
    let until = entry.started_at.or(entry.ended_at).unwrap_or(now);
    (until - entry.arrived_at).whole_minutes().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_vitals_accept_a_decimal_comma_and_name_a_field_that_is_not_a_number() {
        let form = ExamForm {
            temperature: "37,5".into(),
            weight: " 54.5 ".into(),
            pulse: "80".into(),
            ..ExamForm::default()
        };
        let exam = form.examination().unwrap();
        assert_eq!(exam.vitals.temperature, Some(37.5));
        assert_eq!(exam.vitals.weight, Some(54.5));
        assert_eq!(exam.vitals.pulse, Some(80));
        let wrong = ExamForm {
            pulse: "8o".into(),
            ..ExamForm::default()
        };
        assert!(matches!(
            wrong.examination(),
            Err(Problem::InvalidField { field, .. }) if field == "pulse"
        ));
    }
}
