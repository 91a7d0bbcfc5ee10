//! Checks every pushed record before storage sees it: its id, its kind's required fields,
//! and that the node pushes only what its facility may.

use kartika_protocol::{Kind, PresenceProof, PushRecord};

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
    /// For patients: the patient's id, if sent.
    pub patient_id: Option<String>,
    /// For patients: name, date of birth and sex, lowercased and joined (`ani|2001-02-03|female`):
    /// two records that share it are listed to their owners as possibly one person.
    pub person_key: Option<String>,
    /// For cards: the card key (DF10, 65 bytes), if sent.
    pub public_key: Option<Vec<u8>>,
    /// For revocations: whether it lifts an earlier one.
    pub lifted: bool,
    /// For proofs of presence: the proof.
    pub presence: Option<PresenceProof>,
    /// The payload as JSON text.
    pub payload: String,
}

/// The fields of a payload the registry checks or indexes; the rest passes through.
#[derive(serde::Deserialize)]
struct Facts {
    patient_number: Option<String>,
    facility_code: Option<String>,
    visit_id: Option<String>,
    card_number: Option<String>,
    nik: Option<String>,
    id: Option<String>,
    public_key: Option<String>,
    lifted: Option<bool>,
    name: Option<String>,
    birth_date: Option<String>,
    sex: Option<String>,
}

/// The key two records of one person share: the registry's migration computes the same
/// (`lower(trim(name)) || '|' || birth_date || '|' || sex`).
fn person_key(facts: &Facts) -> Option<String> {
    let name = facts.name.as_deref()?.trim();
    let birth = facts.birth_date.as_deref()?;
    let sex = facts.sex.as_deref()?;
    (!name.is_empty() && name.len() <= 128 && birth.len() <= 10 && sex.len() <= 16)
        .then(|| format!("{}|{birth}|{sex}", name.to_lowercase()))
}

fn field<'a>(value: &'a Option<String>, kind: Kind, name: &str) -> Result<&'a str, String> {
    value
        .as_deref()
        .filter(|t| !t.is_empty() && t.len() <= 64)
        .ok_or_else(|| format!("the {} has no valid \"{name}\"", kind.as_str()))
}

/// Checks one record pushed by `node`.
pub fn validate(node: &Node, record: &PushRecord) -> Result<ValidRecord, String> {
    let change_id = parse_uuid(&record.id).ok_or("the change id is not a UUID")?;
    if record.record_id.is_empty() || record.record_id.len() > 64 {
        return Err("record_id must be 1 to 64 characters".into());
    }
    let raw = record.payload.get();
    if !raw.trim_start().starts_with('{') {
        return Err("the payload must be a JSON object".into());
    }
    let facts: Facts =
        serde_json::from_str(raw).map_err(|e| format!("the payload is malformed: {e}"))?;
    let kind = record.kind;
    let own_facility = || -> Result<(), String> {
        let facility = field(&facts.facility_code, kind, "facility_code")?;
        if facility == node.id {
            Ok(())
        } else {
            Err(format!(
                "this {} belongs to facility {facility}; node {} may push only its own",
                kind.as_str(),
                node.id
            ))
        }
    };
    let same_id = |value: &Option<String>, name: &str| -> Result<(), String> {
        if field(value, kind, name)? == record.record_id {
            Ok(())
        } else {
            Err(format!(
                "the {}'s {name} differs from record_id",
                kind.as_str()
            ))
        }
    };
    let patient_number = match kind {
        Kind::Patient => field(&facts.patient_number, kind, "patient_number")?,
        Kind::Visit => {
            own_facility()?;
            same_id(&facts.visit_id, "visit_id")?;
            field(&facts.patient_number, kind, "patient_number")?
        }
        Kind::Card => {
            if !node.roles.split(',').any(|r| r == "issuer") {
                return Err(format!(
                    "node {} is not enrolled as a card issuer; only an issuing node pushes card records",
                    node.id
                ));
            }
            same_id(&facts.card_number, "card_number")?;
            field(&facts.patient_number, kind, "patient_number")?
        }
        Kind::Revocation => {
            own_facility()?;
            same_id(&facts.card_number, "card_number")?;
            ""
        }
        Kind::Presence => field(&facts.patient_number, kind, "patient_number")?,
        Kind::Link => {
            return Err(
                "a link between two patients is made by the registry when both Puskesmas agree (POST /v1/merges); it is never pushed"
                    .into(),
            )
        }
    };
    let public_key = match (kind, &facts.public_key) {
        (Kind::Card, Some(text)) => Some(
            hex::decode(text)
                .ok()
                .filter(|k| kartika_card::crypto::PublicKey::from_bytes(k).is_ok())
                .ok_or("the card's public_key is not a P-256 point (65 bytes, hex)")?,
        ),
        _ => None,
    };
    let presence = match kind {
        Kind::Presence => {
            let proof: PresenceProof = serde_json::from_str(raw)
                .map_err(|e| format!("the proof of presence is malformed: {e}"))?;
            if proof.card_number != record.record_id {
                return Err("the proof's card_number differs from record_id".into());
            }
            Some(proof)
        }
        _ => None,
    };
    Ok(ValidRecord {
        change_id,
        kind,
        record_id: record.record_id.clone(),
        facility: node.id.clone(),
        patient_number: patient_number.to_owned(),
        nik: if kind == Kind::Patient {
            facts.nik.clone()
        } else {
            None
        },
        patient_id: (kind == Kind::Patient).then(|| facts.id.clone()).flatten(),
        person_key: (kind == Kind::Patient)
            .then(|| person_key(&facts))
            .flatten(),
        public_key,
        lifted: kind == Kind::Revocation && facts.lifted == Some(true),
        presence,
        payload: raw.to_owned(),
    })
}

/// The 16 bytes of a UUID written as text.
pub fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    uuid::Uuid::parse_str(text).ok().map(|u| *u.as_bytes())
}
