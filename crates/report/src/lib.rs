//! The store's monthly reports as a Puskesmas hands them on: a text table for the
//! terminal, CSV (UTF-8, one header row), XLSX laid out as the paper form (title, merged
//! age-group headings, a bold totals row) and JSON.
//!
//! Every report first becomes a [`Sheet`] (columns, rows, totals), and each format writes
//! a sheet: the layout is decided once, the formats only spell it.
#![deny(missing_docs)]

mod sheet;
mod write;

use kartika_store::{DailyReport, Lb1Report, TopDiagnoses, VisitRecap};
use serde::{Deserialize, Serialize};

pub use sheet::{Column, Sheet, Value, WHO_TITLE_COLUMN};

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The XLSX writer failed.
    #[error("the spreadsheet could not be written: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// The JSON writer failed.
    #[error("the JSON could not be written: {0}")]
    Json(#[from] serde_json::Error),
}

/// How to write a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned text for a terminal.
    Table,
    /// Comma-separated values, UTF-8, with a header row.
    Csv,
    /// An Excel workbook laid out as the paper form.
    Xlsx,
    /// The report's data as JSON.
    Json,
}

impl Format {
    /// The format for its name: `table`, `csv`, `xlsx` or `json`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "table" => Some(Self::Table),
            "csv" => Some(Self::Csv),
            "xlsx" => Some(Self::Xlsx),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Table => "txt",
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Json => "json",
        }
    }
}

/// Any of the reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "report", rename_all = "snake_case")]
pub enum Report {
    /// LB1, morbidity (boxed: its rows of 24 cells make it the largest).
    Lb1(Box<Lb1Report>),
    /// The visit recap.
    Visits(VisitRecap),
    /// The ten most common diagnoses.
    Top10(TopDiagnoses),
    /// The day's report.
    Daily(DailyReport),
}

impl Report {
    /// The report laid out as a sheet.
    pub fn sheet(&self) -> Sheet {
        match self {
            Self::Lb1(report) => sheet::lb1(report),
            Self::Visits(recap) => sheet::visits(recap),
            Self::Top10(top) => sheet::top10(top),
            Self::Daily(day) => sheet::daily(day),
        }
    }

    /// The report written in `format`.
    pub fn render(&self, format: Format) -> Result<Vec<u8>, ReportError> {
        match format {
            Format::Table => Ok(write::table(&self.sheet()).into_bytes()),
            Format::Csv => Ok(write::csv(&self.sheet()).into_bytes()),
            Format::Xlsx => write::xlsx(&self.sheet()),
            Format::Json => Ok(serde_json::to_vec_pretty(self)?),
        }
    }
}
