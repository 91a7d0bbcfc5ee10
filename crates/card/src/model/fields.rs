//! The validated fields of the identity and the visit log: numbers people type, codes
//! systems exchange. Each newtype can only hold a value its format allows.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::checks::{luhn_valid, mod30_valid};
use crate::DataError;

/// Declares a string newtype whose constructor runs `$check` on the text.
macro_rules! checked_text {
    ($(#[$doc:meta])* $name:ident, $field:literal, $check:path) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Checks `text` and keeps it.
            pub fn new(text: &str) -> Result<Self, DataError> {
                $check(text).map_err(|reason| DataError::invalid($field, reason))?;
                Ok(Self(text.to_owned()))
            }

            /// Checks raw bytes from a card.
            pub fn from_bytes(bytes: &[u8]) -> Result<Self, DataError> {
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| DataError::invalid($field, "is not ASCII text"))?;
                Self::new(text)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

fn digits(text: &str, count: usize) -> Result<(), String> {
    if text.len() == count && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("must be {count} digits"))
    }
}

fn check_card_number(text: &str) -> Result<(), String> {
    digits(text, 16)?;
    if luhn_valid(text) {
        Ok(())
    } else {
        Err("the check digit is wrong; re-read the number printed on the card".into())
    }
}

fn check_patient_number(text: &str) -> Result<(), String> {
    if !(2..=32).contains(&text.len()) {
        return Err("must be 2 to 32 characters".into());
    }
    if !text
        .bytes()
        .all(|b| crate::checks::MOD30_ALPHABET.contains(&b))
    {
        return Err("may hold only digits and the letters ACDEFGHJKLMNPRTUVWXY".into());
    }
    if mod30_valid(text) {
        Ok(())
    } else {
        Err("the check character is wrong; re-read the number".into())
    }
}

fn check_nik(text: &str) -> Result<(), String> {
    digits(text, 16)
}

fn check_bpjs(text: &str) -> Result<(), String> {
    digits(text, 13)
}

fn check_blood_group(text: &str) -> Result<(), String> {
    let base = text.trim_end_matches(['+', '-']);
    let suffix = &text[base.len()..];
    if matches!(base, "A" | "B" | "AB" | "O") && suffix.len() <= 1 {
        Ok(())
    } else {
        Err("must be A, B, AB or O, optionally followed by + or -".into())
    }
}

fn check_region_code(text: &str) -> Result<(), String> {
    let widths: Vec<usize> = text.split('.').map(str::len).collect();
    let shaped = matches!(widths.as_slice(), [2] | [2, 2] | [2, 2, 2] | [2, 2, 2, 4])
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if shaped {
        Ok(())
    } else {
        Err("must look like 36.74.03.1001 (province, city, district, village)".into())
    }
}

fn check_facility_code(text: &str) -> Result<(), String> {
    if (1..=16).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err("must be 1 to 16 upper-case letters and digits".into())
    }
}

fn check_icd10(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let head = bytes.len() >= 3
        && bytes[0].is_ascii_uppercase()
        && bytes[1].is_ascii_digit()
        && bytes[2].is_ascii_alphanumeric();
    let tail_ok = match &bytes.get(3..) {
        Some([]) | None => true,
        Some([b'.', rest @ ..]) => {
            (1..=4).contains(&rest.len()) && rest.iter().all(u8::is_ascii_alphanumeric)
        }
        Some(_) => false,
    };
    if head && tail_ok {
        Ok(())
    } else {
        Err(format!("\"{text}\" is not an ICD-10 code such as J06.9"))
    }
}

checked_text!(
    /// The 16-digit number printed on the card; the last digit is a Luhn check digit.
    CardNumber, "card number", check_card_number
);
checked_text!(
    /// The registry-wide patient number (No. RM): facility code, local sequence and a
    /// Luhn mod-30 check character.
    PatientNumber, "patient number", check_patient_number
);
checked_text!(
    /// NIK (Nomor Induk Kependudukan), the 16-digit national identity number.
    Nik, "NIK", check_nik
);
checked_text!(
    /// The 13-digit BPJS Kesehatan (JKN) membership number.
    BpjsNumber, "BPJS number", check_bpjs
);
checked_text!(
    /// ABO blood group with optional Rhesus sign, such as `O+`.
    BloodGroup, "blood group", check_blood_group
);
checked_text!(
    /// A Kemendagri region code: province, regency or city, district, village.
    RegionCode, "region code", check_region_code
);
checked_text!(
    /// The code of a Puskesmas or other facility.
    FacilityCode, "facility code", check_facility_code
);
checked_text!(
    /// An ICD-10 code such as `J06.9` (its form only; the code list lives with the store).
    Icd10Code, "ICD-10 code", check_icd10
);

impl Nik {
    /// The district (kecamatan) where the NIK was issued, as `pp.kk.dd`.
    pub fn district_code(&self) -> String {
        let d = &self.0;
        format!("{}.{}.{}", &d[0..2], &d[2..4], &d[4..6])
    }

    /// Digits 7 to 12: the birth date as DDMMYY, with 40 added to the day for women.
    pub(crate) fn birth_digits(&self) -> (u8, u8, u8) {
        let two = |i: usize| self.0[i..i + 2].parse::<u8>().unwrap_or(0);
        (two(6), two(8), two(10))
    }
}

/// Sex as ISO/IEC 5218 codes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// `0`: not known.
    Unknown,
    /// `1`.
    Male,
    /// `2`.
    Female,
    /// `9`: not applicable.
    NotApplicable,
}

impl Sex {
    /// The ISO/IEC 5218 code.
    pub fn code(self) -> u8 {
        match self {
            Self::Unknown => 0,
            Self::Male => 1,
            Self::Female => 2,
            Self::NotApplicable => 9,
        }
    }

    /// The sex for an ISO/IEC 5218 code.
    pub fn from_code(code: u8) -> Result<Self, DataError> {
        match code {
            0 => Ok(Self::Unknown),
            1 => Ok(Self::Male),
            2 => Ok(Self::Female),
            9 => Ok(Self::NotApplicable),
            other => Err(DataError::invalid(
                "sex",
                format!("{other} is not an ISO/IEC 5218 code"),
            )),
        }
    }
}

/// Checks UTF-8 text for a free-text field: not blank, within `max_bytes`, no control
/// characters.
pub(crate) fn checked_free_text(
    bytes: &[u8],
    field: &'static str,
    max_bytes: usize,
) -> Result<String, DataError> {
    let text = std::str::from_utf8(bytes).map_err(|_| DataError::invalid(field, "is not UTF-8"))?;
    if text.trim().is_empty() {
        return Err(DataError::invalid(field, "is empty"));
    }
    if bytes.len() > max_bytes {
        return Err(DataError::invalid(
            field,
            format!(
                "is {} bytes long; at most {max_bytes} fit on the card",
                bytes.len()
            ),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(DataError::invalid(field, "contains control characters"));
    }
    Ok(text.to_owned())
}

/// Parses a comma-separated list of ICD-10 codes (empty text is an empty list).
pub(crate) fn parse_icd10_list(bytes: &[u8]) -> Result<Vec<Icd10Code>, DataError> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    bytes
        .split(|&b| b == b',')
        .map(Icd10Code::from_bytes)
        .collect()
}

/// Joins ICD-10 codes with commas, as the card stores them.
pub(crate) fn join_icd10_list(codes: &[Icd10Code]) -> String {
    codes
        .iter()
        .map(Icd10Code::as_str)
        .collect::<Vec<_>>()
        .join(",")
}
