//! Dates, times, numbers and ages as a Puskesmas writes them: "Senin, 3 Maret 2025",
//! "08.15", "62,5 kg", "34 tahun 2 bulan"; English when the screens are in English.

use time::{Date, Month, OffsetDateTime, UtcOffset, Weekday};

use crate::text::Lang;

fn weekday(day: Weekday, lang: Lang) -> &'static str {
    use Weekday::*;
    match (lang, day) {
        (Lang::Id, Monday) => "Senin",
        (Lang::Id, Tuesday) => "Selasa",
        (Lang::Id, Wednesday) => "Rabu",
        (Lang::Id, Thursday) => "Kamis",
        (Lang::Id, Friday) => "Jumat",
        (Lang::Id, Saturday) => "Sabtu",
        (Lang::Id, Sunday) => "Minggu",
        (Lang::En, Monday) => "Monday",
        (Lang::En, Tuesday) => "Tuesday",
        (Lang::En, Wednesday) => "Wednesday",
        (Lang::En, Thursday) => "Thursday",
        (Lang::En, Friday) => "Friday",
        (Lang::En, Saturday) => "Saturday",
        (Lang::En, Sunday) => "Sunday",
    }
}

fn month(month: Month, lang: Lang) -> &'static str {
    use Month::*;
    match (lang, month) {
        (Lang::Id, January) => "Januari",
        (Lang::Id, February) => "Februari",
        (Lang::Id, March) => "Maret",
        (Lang::Id, April) => "April",
        (Lang::Id, May) => "Mei",
        (Lang::Id, June) => "Juni",
        (Lang::Id, July) => "Juli",
        (Lang::Id, August) => "Agustus",
        (Lang::Id, September) => "September",
        (Lang::Id, October) => "Oktober",
        (Lang::Id, November) => "November",
        (Lang::Id, December) => "Desember",
        (Lang::En, January) => "January",
        (Lang::En, February) => "February",
        (Lang::En, March) => "March",
        (Lang::En, April) => "April",
        (Lang::En, May) => "May",
        (Lang::En, June) => "June",
        (Lang::En, July) => "July",
        (Lang::En, August) => "August",
        (Lang::En, September) => "September",
        (Lang::En, October) => "October",
        (Lang::En, November) => "November",
        (Lang::En, December) => "December",
    }
}

/// "03-12-2025", as a Puskesmas writes a date in a table.
pub fn short_date(date: Date) -> String {
    format!(
        "{:02}-{:02}-{}",
        date.day(),
        u8::from(date.month()),
        date.year()
    )
}

/// "Senin, 3 Maret 2025".
pub fn long_date(date: Date, lang: Lang) -> String {
    format!(
        "{}, {}",
        weekday(date.weekday(), lang),
        date_words(date, lang)
    )
}

/// "November 2026".
pub fn month_year(year: i32, m: Month, lang: Lang) -> String {
    format!("{} {year}", month(m, lang))
}

/// "3 Maret 2025".
pub fn date_words(date: Date, lang: Lang) -> String {
    format!(
        "{} {} {}",
        date.day(),
        month(date.month(), lang),
        date.year()
    )
}

/// A stored `YYYY-MM-DD` in words, or as it is when it is not a date.
pub fn iso_date_words(iso: &str, lang: Lang) -> String {
    parse_iso(iso).map_or_else(|| iso.to_owned(), |d| date_words(d, lang))
}

/// A `YYYY-MM-DD` text as a date.
pub fn parse_iso(iso: &str) -> Option<Date> {
    kartika_card::model::parse_iso_date(iso.trim(), "date").ok()
}

/// A date typed at the desk, `DD-MM-YYYY` (or `DD/MM/YYYY`, or already `YYYY-MM-DD`), as
/// the store's `YYYY-MM-DD`; `None` when it is not a calendar date.
pub fn typed_date_to_iso(text: &str) -> Option<String> {
    let t = text.trim();
    if parse_iso(t).is_some() {
        return Some(t.to_owned());
    }
    let parts: Vec<&str> = t.split(['-', '/', '.']).collect();
    let [day, month, year] = parts.as_slice() else {
        return None;
    };
    let iso = format!("{year:0>4}-{month:0>2}-{day:0>2}");
    parse_iso(&iso).map(|_| iso)
}

/// "08.15" (Indonesian) or "08:15", in the facility's zone.
pub fn clock_time(at: OffsetDateTime, zone: UtcOffset, lang: Lang) -> String {
    let local = at.to_offset(zone);
    let separator = if lang == Lang::Id { '.' } else { ':' };
    format!("{:02}{separator}{:02}", local.hour(), local.minute())
}

/// A moment given in milliseconds since 1970 as the day and the time in `zone`:
/// "03-11-2026 09.15".
pub fn moment(at_ms: i64, zone: UtcOffset, lang: Lang) -> String {
    let Ok(at) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000) else {
        return "—".into();
    };
    let local = at.to_offset(zone);
    format!(
        "{} {}",
        short_date(local.date()),
        clock_time(at, zone, lang)
    )
}

/// A number with `decimals` places and the language's decimal mark: "62,5".
pub fn decimal(value: f64, decimals: usize, lang: Lang) -> String {
    let text = format!("{value:.decimals$}");
    match lang {
        Lang::Id => text.replace('.', ","),
        Lang::En => text,
    }
}

/// Whole years and the months beyond them, from birth to `on`.
pub fn age(birth: Date, on: Date) -> (i32, i32) {
    let mut months = (on.year() - birth.year()) * 12 + (on.month() as i32 - birth.month() as i32);
    if on.day() < birth.day() {
        months -= 1;
    }
    let months = months.max(0);
    (months / 12, months % 12)
}

/// "34 tahun 2 bulan".
pub fn age_words(birth: Date, on: Date, lang: Lang) -> String {
    let (years, months) = age(birth, on);
    match lang {
        Lang::Id => format!("{years} tahun {months} bulan"),
        Lang::En => format!("{years} years {months} months"),
    }
}

/// A NIK with its middle hidden, as a screen others may see shows it: the district and
/// the last four digits stay, enough to compare with a KTP.
pub fn masked_nik(nik: &str) -> String {
    let chars: Vec<char> = nik.chars().collect();
    if chars.len() != 16 {
        return "•".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[12..].iter().collect();
    format!("{head}••••••{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_and_numbers_read_as_a_puskesmas_writes_them() {
        assert_eq!(
            long_date(date!(2025 - 03 - 03), Lang::Id),
            "Senin, 3 Maret 2025"
        );
        assert_eq!(
            long_date(date!(2025 - 03 - 03), Lang::En),
            "Monday, 3 March 2025"
        );
        assert_eq!(decimal(62.5, 1, Lang::Id), "62,5");
        assert_eq!(decimal(62.5, 1, Lang::En), "62.5");
        assert_eq!(
            typed_date_to_iso("10-01-1990").as_deref(),
            Some("1990-01-10")
        );
        assert_eq!(typed_date_to_iso("1/2/2003").as_deref(), Some("2003-02-01"));
        assert_eq!(typed_date_to_iso("31-02-2003"), None);
        assert_eq!(masked_nik("3674065001909001"), "367406••••••9001");
    }

    #[test]
    fn ages_count_whole_months() {
        assert_eq!(age(date!(1990 - 01 - 10), date!(2026 - 11 - 28)), (36, 10));
        assert_eq!(age(date!(1990 - 01 - 29), date!(2026 - 11 - 28)), (36, 9));
        assert_eq!(age(date!(2026 - 11 - 01), date!(2026 - 11 - 28)), (0, 0));
        assert_eq!(
            age_words(date!(2024 - 09 - 28), date!(2026 - 11 - 28), Lang::Id),
            "2 tahun 2 bulan"
        );
    }
}
