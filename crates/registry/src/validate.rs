//! Checks every pushed record before storage sees it: its id, its kind's required fields,
//! and that the node pushes only what its facility may.

use kartika_protocol::{Kind, PushRecord};

use crate::backend::Node;

/// A record that passed the checks, with the facts storage indexes.
#[derive(Clone, Debug)]
pub struct ValidRecord {
    /// The change id, 16 bytes.
    pub change_id: [u8; 16],
    /// The kind.
    pub kind: Kind,
    /// The record it describes.
    pub record_id: String,
    /// The pushing node's facility.
    pub facility: String,
    /// The patient the record belongs to.
    pub patient_number: String,
    /// For patients: the NIK, if any.
    pub nik: Option<String>,
    /// The payload as JSON text.
    pub payload: String,
}

fn text<'a>(record: &'a PushRecord, field: &str) -> Result<&'a str, String> {
    record
        .payload
        .get(field)
        .and_then(serde_json::Value::as_str)
        .filter(|t| !t.is_empty() && t.len() <= 64)
        .ok_or_else(|| format!("the {} has no valid \"{field}\"", record.kind.as_str()))
}

/// Checks one record pushed by `node`.
pub fn validate(node: &Node, record: &PushRecord) -> Result<ValidRecord, String> {
    let change_id = parse_uuid(&record.id).ok_or("the change id is not a UUID")?;
    if record.record_id.is_empty() || record.record_id.len() > 64 {
        return Err("record_id must be 1 to 64 characters".into());
    }
    if !record.payload.is_object() {
        return Err("the payload must be a JSON object".into());
    }
    let own_facility = |field: &str| -> Result<(), String> {
        let facility = text(record, field)?;
        if facility == node.id {
            Ok(())
        } else {
            Err(format!(
                "this {} belongs to facility {facility}; node {} may push only its own",
                record.kind.as_str(),
                node.id
            ))
        }
    };
    let (patient_number, nik) = match record.kind {
        Kind::Patient => {
            let nik = record
                .payload
                .get("nik")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned);
            (text(record, "patient_number")?, nik)
        }
        Kind::Visit => {
            own_facility("facility_code")?;
            if text(record, "visit_id")? != record.record_id {
                return Err("the visit's visit_id differs from record_id".into());
            }
            (text(record, "patient_number")?, None)
        }
        Kind::Card => {
            if text(record, "card_number")? != record.record_id {
                return Err("the card's card_number differs from record_id".into());
            }
            (text(record, "patient_number")?, None)
        }
        Kind::Revocation => {
            own_facility("facility_code")?;
            if text(record, "card_number")? != record.record_id {
                return Err("the revocation's card_number differs from record_id".into());
            }
            ("", None)
        }
    };
    Ok(ValidRecord {
        change_id,
        kind: record.kind,
        record_id: record.record_id.clone(),
        facility: node.id.clone(),
        patient_number: patient_number.to_owned(),
        nik,
        payload: record.payload.to_string(),
    })
}

/// The 16 bytes of a UUID written as text.
pub fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    uuid::Uuid::parse_str(text).ok().map(|u| *u.as_bytes())
}
