//! Text people type: names folded for matching, free text checked before it is stored.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::{Result, StoreError};

/// A name folded for matching: compatibility-decomposed, accents and punctuation dropped,
/// lower case, words separated by one space. "  Siti  Ma'rifah " and "siti marifah" match.
pub fn name_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    let mut pending_space = false;
    for c in name.nfkd() {
        if is_combining_mark(c) || c == '\'' || c == '\u{2019}' || c == '`' {
            continue;
        }
        if c.is_alphanumeric() {
            if pending_space && !key.is_empty() {
                key.push(' ');
            }
            pending_space = false;
            key.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    key
}

/// The words of a search text, folded like [`name_key`].
pub(crate) fn search_words(text: &str) -> Vec<String> {
    name_key(text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks a required line of text: trimmed, not empty, at most `max_chars`, no control
/// characters. Returns the trimmed text.
pub(crate) fn required_line(text: &str, field: &'static str, max_chars: usize) -> Result<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(StoreError::invalid(field, "is empty"));
    }
    check_length_and_controls(trimmed, field, max_chars, false)?;
    Ok(trimmed.to_owned())
}

/// Checks optional free text; blank becomes `None`. `multiline` allows line breaks.
pub(crate) fn optional_text(
    text: Option<&str>,
    field: &'static str,
    max_chars: usize,
    multiline: bool,
) -> Result<Option<String>> {
    let Some(trimmed) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    check_length_and_controls(trimmed, field, max_chars, multiline)?;
    Ok(Some(trimmed.to_owned()))
}

fn check_length_and_controls(
    text: &str,
    field: &'static str,
    max_chars: usize,
    multiline: bool,
) -> Result<()> {
    let count = text.chars().count();
    if count > max_chars {
        return Err(StoreError::invalid(
            field,
            format!("is {count} characters long; at most {max_chars} are allowed"),
        ));
    }
    let allowed = |c: char| multiline && (c == '\n' || c == '\r' || c == '\t');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(StoreError::invalid(field, "contains control characters"));
    }
    Ok(())
}

/// Checks an optional number of exactly `count` digits; blank becomes `None`.
pub(crate) fn optional_digits(
    text: Option<&str>,
    field: &'static str,
    count: usize,
) -> Result<Option<String>> {
    let Some(trimmed) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if trimmed.len() == count && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Some(trimmed.to_owned()))
    } else {
        Err(StoreError::invalid(
            field,
            format!("must be {count} digits"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_case_accents_apostrophes_and_spaces() {
        assert_eq!(name_key("  Siti  Ma'rifah "), "siti marifah");
        assert_eq!(name_key("RENÉ Dàvid-Ünal"), "rene david unal");
        assert_eq!(name_key("Muh. Ridwan"), "muh ridwan");
    }
}
