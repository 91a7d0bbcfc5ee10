//! Each report laid out as the district's form lays it out, in the form's own words
//! (Bahasa Indonesia): columns (some under a merged group heading), rows and totals.

use kartika_store::{AgeGroup, DailyReport, Lb1Report, Lb1Row, TopDiagnoses, VisitRecap};

/// A column, possibly under a group heading (an age group over its L and P columns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The merged heading above, if any.
    pub group: Option<String>,
    /// The column's own heading.
    pub name: String,
}

impl Column {
    fn plain(name: &str) -> Self {
        Self {
            group: None,
            name: name.to_owned(),
        }
    }

    /// The heading in one line: "0-7 hr L".
    pub fn flat_name(&self) -> String {
        match &self.group {
            Some(group) => format!("{group} {}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Words.
    Text(String),
    /// A count.
    Number(i64),
}

impl Value {
    fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    /// The cell as text.
    pub fn display(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Number(n) => n.to_string(),
        }
    }
}

/// A report laid out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sheet {
    /// The form's title.
    pub title: String,
    /// Facility and period.
    pub subtitle: String,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows.
    pub rows: Vec<Vec<Value>>,
    /// The totals row, if the form has one.
    pub totals: Option<Vec<Value>>,
}

/// The heading of the column that holds WHO's English title beside the Indonesian one: a
/// file keeps it; a screen shows it when the pointer rests on the Indonesian title.
pub const WHO_TITLE_COLUMN: &str = "Diagnosa (WHO)";

const MONTHS: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

/// `2026-11-01` as a Puskesmas writes it on a form: "1 November 2026". Anything else is
/// left as it is.
fn long_date(iso: &str) -> String {
    let mut parts = iso.splitn(3, '-');
    let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next()) else {
        return iso.to_owned();
    };
    let month = month
        .parse::<usize>()
        .ok()
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)));
    match (day.parse::<u8>(), month) {
        (Ok(day), Some(month)) => format!("{day} {month} {year}"),
        _ => iso.to_owned(),
    }
}

fn period_words(from: &str, to: &str) -> String {
    if from == to {
        format!("Tanggal {}", long_date(from))
    } else {
        format!("Periode {} s.d. {}", long_date(from), long_date(to))
    }
}

fn unit_words(unit_code: Option<&str>) -> String {
    unit_code.map(|u| format!(", poli {u}")).unwrap_or_default()
}

fn lb1_cells(row: &Lb1Row) -> Vec<Value> {
    let mut cells = vec![Value::text(&row.code), Value::text(&row.title)];
    for cell in row.new_by_age {
        cells.push(Value::Number(cell.male));
        cells.push(Value::Number(cell.female));
    }
    cells.push(Value::Number(row.new_cases));
    cells.push(Value::Number(row.old_cases));
    cells.push(Value::Number(row.total));
    cells
}

pub fn lb1(report: &Lb1Report) -> Sheet {
    let mut columns = vec![Column::plain("Kode ICD-10"), Column::plain("Diagnosa")];
    for group in AgeGroup::ALL {
        for sex in ["L", "P"] {
            columns.push(Column {
                group: Some(group.label().to_owned()),
                name: sex.to_owned(),
            });
        }
    }
    for name in ["Kasus baru", "Kasus lama", "Jumlah"] {
        columns.push(Column::plain(name));
    }
    Sheet {
        title: "LB1 — Laporan Bulanan Data Kesakitan".into(),
        subtitle: format!(
            "{} ({}), {}{}",
            report.facility_name,
            report.facility_code,
            period_words(&report.period.from, &report.period.to),
            unit_words(report.unit_code.as_deref())
        ),
        columns,
        rows: report.rows.iter().map(lb1_cells).collect(),
        totals: Some(lb1_cells(&report.totals)),
    }
}

pub fn visits(recap: &VisitRecap) -> Sheet {
    let mut rows = Vec::new();
    let mut add = |group: &str, item: &str, count: i64| {
        rows.push(vec![
            Value::text(group),
            Value::text(item),
            Value::Number(count),
        ]);
    };
    add("Kunjungan", "Jumlah kunjungan", recap.total);
    for unit in &recap.by_unit {
        add("Poli", &unit.unit_name, unit.visits);
    }
    add("Cara bayar", "Umum", recap.payer_general);
    add("Cara bayar", "BPJS PBI", recap.payer_bpjs_pbi);
    add("Cara bayar", "BPJS non-PBI", recap.payer_bpjs_non_pbi);
    add("Kunjungan", "Kunjungan baru", recap.new_visits);
    add("Kunjungan", "Kunjungan lama", recap.repeat_visits);
    add("Kunjungan", "Kunjungan sakit", recap.sick);
    add("Kunjungan", "Kunjungan sehat", recap.well);
    add("Wilayah", "Dalam wilayah", recap.inside_catchment);
    add("Wilayah", "Luar wilayah", recap.outside_catchment);
    add("Wilayah", "Tidak diketahui", recap.catchment_unknown);
    add("Usia", "60 tahun ke atas", recap.age_60_plus);
    add("Rujukan", "Dirujuk", recap.referrals);
    let period = recap
        .period
        .as_ref()
        .map(|p| period_words(&p.from, &p.to))
        .unwrap_or_default();
    let unit = unit_words(recap.unit_code.as_deref());
    Sheet {
        title: "Rekap Kunjungan (LB4)".into(),
        subtitle: format!("{period}{unit}"),
        columns: ["Kelompok", "Uraian", "Jumlah"]
            .into_iter()
            .map(Column::plain)
            .collect(),
        rows,
        totals: None,
    }
}

pub fn top10(top: &TopDiagnoses) -> Sheet {
    let mut subtitle = period_words(&top.period.from, &top.period.to);
    subtitle.push_str(&unit_words(top.unit_code.as_deref()));
    if top.new_cases_only {
        subtitle.push_str(", kasus baru saja");
    }
    Sheet {
        title: "10 Besar Penyakit".into(),
        subtitle,
        columns: ["No", "Kode ICD-10", "Diagnosa", WHO_TITLE_COLUMN, "Jumlah"]
            .into_iter()
            .map(Column::plain)
            .collect(),
        rows: top
            .rows
            .iter()
            .map(|r| {
                vec![
                    Value::Number(r.rank as i64),
                    Value::text(&r.code),
                    Value::text(r.title_id.as_deref().unwrap_or(&r.title)),
                    Value::text(&r.title),
                    Value::Number(r.count),
                ]
            })
            .collect(),
        totals: None,
    }
}

pub fn daily(day: &DailyReport) -> Sheet {
    let mut rows: Vec<Vec<Value>> = day
        .visits_per_unit
        .iter()
        .map(|u| {
            vec![
                Value::text("Kunjungan per poli"),
                Value::text(&u.unit_code),
                Value::text(&u.unit_name),
                Value::Number(u.visits),
            ]
        })
        .collect();
    rows.extend(day.diagnoses.iter().map(|d| {
        vec![
            Value::text("Diagnosa"),
            Value::text(&d.code),
            Value::text(&d.title),
            Value::Number(d.count),
        ]
    }));
    Sheet {
        title: "Laporan Harian".into(),
        subtitle: period_words(&day.date, &day.date),
        columns: ["Bagian", "Kode", "Uraian", "Jumlah"]
            .into_iter()
            .map(Column::plain)
            .collect(),
        rows,
        totals: None,
    }
}
