//! Dates as the card writes them (YYYYMMDD) and as people and JSON write them (YYYY-MM-DD).

use time::{Date, Month};

use crate::DataError;

/// Parses the card's `YYYYMMDD`.
pub fn parse_compact_date(bytes: &[u8], field: &'static str) -> Result<Date, DataError> {
    let text = std::str::from_utf8(bytes).map_err(|_| DataError::invalid(field, "not ASCII"))?;
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DataError::invalid(
            field,
            format!("\"{text}\" is not a date YYYYMMDD"),
        ));
    }
    date_from_parts(&text[0..4], &text[4..6], &text[6..8], field, text)
}

/// Parses `YYYY-MM-DD`.
pub fn parse_iso_date(text: &str, field: &'static str) -> Result<Date, DataError> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return Err(DataError::invalid(
            field,
            format!("\"{text}\" is not a date YYYY-MM-DD"),
        ));
    }
    date_from_parts(&text[0..4], &text[5..7], &text[8..10], field, text)
}

fn date_from_parts(
    year: &str,
    month: &str,
    day: &str,
    field: &'static str,
    text: &str,
) -> Result<Date, DataError> {
    let bad = || DataError::invalid(field, format!("\"{text}\" is not a calendar date"));
    let year: i32 = year.parse().map_err(|_| bad())?;
    let month: u8 = month.parse().map_err(|_| bad())?;
    let day: u8 = day.parse().map_err(|_| bad())?;
    if year < 1900 {
        return Err(DataError::invalid(
            field,
            format!("year {year} is before 1900"),
        ));
    }
    let month = Month::try_from(month).map_err(|_| bad())?;
    Date::from_calendar_date(year, month, day).map_err(|_| bad())
}

/// `YYYYMMDD`, as the card stores dates.
pub fn format_compact_date(date: Date) -> String {
    format!(
        "{:04}{:02}{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// `YYYY-MM-DD`.
pub fn format_iso_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}
