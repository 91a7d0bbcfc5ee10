//! FF22, the medical summary: allergies and chronic conditions, readable only with the
//! patient's PIN or an authenticated staff terminal.

use super::fields::{checked_free_text, join_icd10_list, parse_icd10_list, Icd10Code};
use crate::tlv::{encode, encode_into, tags, Template};
use crate::DataError;

/// The most bytes of allergy text the card holds.
pub const MAX_ALLERGIES_BYTES: usize = 200;
/// The most bytes of the chronic-condition list the card holds.
pub const MAX_CONDITIONS_BYTES: usize = 200;

/// Allergies and chronic conditions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MedicalSummary {
    allergies: Option<String>,
    chronic_conditions: Vec<Icd10Code>,
}

impl MedicalSummary {
    /// Checks lengths: allergies at most 200 bytes, the code list at most 200.
    pub fn new(
        allergies: Option<String>,
        chronic_conditions: Vec<Icd10Code>,
    ) -> Result<Self, DataError> {
        if let Some(text) = &allergies {
            checked_free_text(text.as_bytes(), "allergies", MAX_ALLERGIES_BYTES)?;
        }
        if join_icd10_list(&chronic_conditions).len() > MAX_CONDITIONS_BYTES {
            return Err(DataError::invalid(
                "chronic conditions",
                "too many codes for the card",
            ));
        }
        Ok(Self {
            allergies,
            chronic_conditions,
        })
    }

    /// Allergies, as free text.
    pub fn allergies(&self) -> Option<&str> {
        self.allergies.as_deref()
    }

    /// Chronic conditions as ICD-10 codes.
    pub fn chronic_conditions(&self) -> &[Icd10Code] {
        &self.chronic_conditions
    }

    /// The FF22 template.
    pub fn to_tlv(&self) -> Vec<u8> {
        let mut body = Vec::new();
        if let Some(text) = &self.allergies {
            encode_into(&mut body, tags::ALLERGIES, text.as_bytes());
        }
        if !self.chronic_conditions.is_empty() {
            let list = join_icd10_list(&self.chronic_conditions);
            encode_into(&mut body, tags::CHRONIC_CONDITIONS, list.as_bytes());
        }
        encode(tags::MEDICAL_SUMMARY, &body)
    }

    /// Reads an FF22 template.
    pub fn from_tlv(bytes: &[u8]) -> Result<Self, DataError> {
        let t = Template::parse(bytes, tags::MEDICAL_SUMMARY, "the medical summary (FF22)")?;
        let allergies = t
            .optional(tags::ALLERGIES, "allergies")?
            .map(|b| checked_free_text(b, "allergies", MAX_ALLERGIES_BYTES))
            .transpose()?;
        let conditions = t
            .optional(tags::CHRONIC_CONDITIONS, "chronic conditions")?
            .map(parse_icd10_list)
            .transpose()?
            .unwrap_or_default();
        Self::new(allergies, conditions)
    }
}
