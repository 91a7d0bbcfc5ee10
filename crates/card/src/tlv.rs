//! BER-TLV (ISO/IEC 7816-4 §5.2): the tags of the contract, an encoder, and a template
//! reader over `iso7816-tlv` that ignores unknown tags and refuses duplicates.

use iso7816_tlv::ber::{Tlv, Value};

use crate::DataError;

/// The tags of card-application.md §4.
pub mod tags {
    #![allow(missing_docs)]
    pub const FCI: u16 = 0x6F;
    pub const FCI_AID: u16 = 0x84;
    pub const FCI_PROPRIETARY: u16 = 0xA5;
    pub const SPEC_VERSION: u16 = 0xDF40;
    pub const LIFE_CYCLE: u16 = 0xDF41;
    pub const CAPABILITIES: u16 = 0xDF42;
    pub const MAX_COMMAND_DATA: u16 = 0xDF43;
    pub const MAX_RESPONSE_DATA: u16 = 0xDF44;

    pub const IDENTITY: u16 = 0xFF20;
    pub const CARD_NUMBER: u16 = 0xDF01;
    pub const PATIENT_NUMBER: u16 = 0xDF02;
    pub const NIK: u16 = 0xDF03;
    pub const BPJS_NUMBER: u16 = 0xDF04;
    pub const NAME: u16 = 0xDF05;
    pub const BIRTH_DATE: u16 = 0xDF06;
    pub const SEX: u16 = 0xDF07;
    pub const BLOOD_GROUP: u16 = 0xDF08;
    pub const ADDRESS: u16 = 0xDF09;
    pub const REGION_CODE: u16 = 0xDF0A;
    pub const FACILITY_CODE: u16 = 0xDF0B;
    pub const ISSUE_DATE: u16 = 0xDF0C;
    pub const EXPIRY_DATE: u16 = 0xDF0D;

    pub const NODE_CERTIFICATE: u16 = 0x7F21;
    pub const NODE_ID: u16 = 0xDF50;
    pub const NODE_PUBLIC_KEY: u16 = 0xDF51;
    pub const NODE_VALID_UNTIL: u16 = 0xDF52;
    pub const NODE_ROLES: u16 = 0xDF53;
    pub const ROOT_SIGNATURE: u16 = 0xDF54;
    pub const TERMINAL_SIGNATURE: u16 = 0xDF55;

    pub const SECURITY_OBJECT: u16 = 0xFF21;
    pub const CARD_PUBLIC_KEY: u16 = 0xDF10;
    pub const ISSUER_SIGNATURE: u16 = 0xDF15;

    pub const MEDICAL_SUMMARY: u16 = 0xFF22;
    pub const ALLERGIES: u16 = 0xDF20;
    pub const CHRONIC_CONDITIONS: u16 = 0xDF21;

    pub const VISIT_LOG: u16 = 0xFF30;
    pub const VISIT_RECORD: u16 = 0xFF31;
    pub const VISIT_ID: u16 = 0xDF30;
    pub const VISIT_TIME: u16 = 0xDF31;
    pub const VISIT_FACILITY: u16 = 0xDF32;
    pub const VISIT_SERVICE_UNIT: u16 = 0xDF33;
    pub const VISIT_DIAGNOSES: u16 = 0xDF34;

    pub const PIN_OLD: u16 = 0xDF60;
    pub const PIN_NEW: u16 = 0xDF61;

    pub const ROOT_PUBLIC_KEY: u16 = 0xDF70;
    pub const GENERATED_KEY: u16 = 0x7F49;
    pub const GENERATED_POINT: u16 = 0x86;
}

/// The largest data object this library parses. Every object of the contract is far
/// smaller; the cap bounds memory and the parser's recursion on a hostile card.
pub const MAX_OBJECT_SIZE: usize = 2048;

/// Appends the TLV encoding of `tag` and `value` to `out`.
pub fn encode_into(out: &mut Vec<u8>, tag: u16, value: &[u8]) {
    if tag > 0xFF {
        out.extend_from_slice(&tag.to_be_bytes());
    } else {
        out.push(tag as u8);
    }
    let len = value.len();
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0xFF => out.extend_from_slice(&[0x81, len as u8]),
        _ => {
            out.push(0x82);
            out.extend_from_slice(&((len.min(0xFFFF)) as u16).to_be_bytes());
        }
    }
    out.extend_from_slice(value);
}

/// The TLV encoding of `tag` and `value`.
pub fn encode(tag: u16, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 5);
    encode_into(&mut out, tag, value);
    out
}

/// The fields of one constructed data object, in the order the card sent them.
#[derive(Debug, Clone)]
pub struct Template {
    what: &'static str,
    fields: Vec<(u16, Tlv)>,
}

impl Template {
    /// Parses `bytes` as exactly one constructed object with tag `expected`.
    pub fn parse(bytes: &[u8], expected: u16, what: &'static str) -> Result<Self, DataError> {
        let tlv = parse_one(bytes, what)?;
        if tag_number(&tlv) != Some(expected) {
            return Err(DataError::encoding(
                what,
                format!("expected tag {expected:04X}, found {}", tag_hex(&tlv)),
            ));
        }
        Self::from_tlv(&tlv, what)
    }

    /// Parses `bytes` as a sequence of objects side by side (for example the data of
    /// EXTERNAL AUTHENTICATE: 7F21 then DF55).
    pub fn parse_sequence(bytes: &[u8], what: &'static str) -> Result<Self, DataError> {
        if bytes.len() > MAX_OBJECT_SIZE {
            return Err(DataError::encoding(what, "larger than any Kartika object"));
        }
        let mut fields = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let (parsed, remaining) = Tlv::parse(rest);
            let tlv = parsed.map_err(|e| DataError::encoding(what, e.to_string()))?;
            if let Some(tag) = tag_number(&tlv) {
                fields.push((tag, tlv));
            }
            rest = remaining;
        }
        Ok(Self { what, fields })
    }

    fn from_tlv(tlv: &Tlv, what: &'static str) -> Result<Self, DataError> {
        match tlv.value() {
            Value::Constructed(children) => Ok(Self {
                what,
                fields: children
                    .iter()
                    .filter_map(|child| tag_number(child).map(|tag| (tag, child.clone())))
                    .collect(),
            }),
            Value::Primitive(_) => Err(DataError::encoding(what, "expected a template")),
        }
    }

    /// The value of a primitive field, if present; an error if it appears twice.
    pub fn optional(&self, tag: u16, field: &'static str) -> Result<Option<&[u8]>, DataError> {
        let mut found = None;
        for (t, tlv) in &self.fields {
            if *t != tag {
                continue;
            }
            if found.is_some() {
                return Err(DataError::Duplicate { field });
            }
            match tlv.value() {
                Value::Primitive(bytes) => found = Some(bytes.as_slice()),
                Value::Constructed(_) => {
                    return Err(DataError::encoding(
                        self.what,
                        format!("{field} must be primitive"),
                    ))
                }
            }
        }
        Ok(found)
    }

    /// The value of a mandatory primitive field.
    pub fn required(&self, tag: u16, field: &'static str) -> Result<&[u8], DataError> {
        self.optional(tag, field)?
            .ok_or(DataError::Missing { field })
    }

    /// The whole encoding of a mandatory nested object (for example 7F21 inside FF21).
    pub fn required_object(&self, tag: u16, field: &'static str) -> Result<Vec<u8>, DataError> {
        let mut found = self.fields.iter().filter(|(t, _)| *t == tag);
        let first = found.next().ok_or(DataError::Missing { field })?;
        if found.next().is_some() {
            return Err(DataError::Duplicate { field });
        }
        Ok(first.1.to_vec())
    }

    /// The whole encodings of every nested object with `tag`, in order.
    pub fn objects(&self, tag: u16) -> Vec<Vec<u8>> {
        self.fields
            .iter()
            .filter(|(t, _)| *t == tag)
            .map(|(_, tlv)| tlv.to_vec())
            .collect()
    }
}

/// Parses exactly one TLV object, refusing oversized input and trailing bytes.
pub fn parse_one(bytes: &[u8], what: &'static str) -> Result<Tlv, DataError> {
    if bytes.len() > MAX_OBJECT_SIZE {
        return Err(DataError::encoding(
            what,
            format!("{} bytes is larger than any Kartika object", bytes.len()),
        ));
    }
    Tlv::from_bytes(bytes).map_err(|e| DataError::encoding(what, e.to_string()))
}

/// Parses exactly one primitive object with tag `expected` and returns its value.
pub fn parse_primitive(
    bytes: &[u8],
    expected: u16,
    what: &'static str,
) -> Result<Vec<u8>, DataError> {
    let tlv = parse_one(bytes, what)?;
    match (tag_number(&tlv), tlv.value()) {
        (Some(tag), Value::Primitive(value)) if tag == expected => Ok(value.clone()),
        _ => Err(DataError::encoding(
            what,
            format!("expected a primitive object {expected:04X}"),
        )),
    }
}

/// The tag as a number, for tags of one or two bytes (the only ones the contract uses).
fn tag_number(tlv: &Tlv) -> Option<u16> {
    match tlv.tag().to_bytes() {
        [a] => Some(u16::from(*a)),
        [a, b] => Some(u16::from_be_bytes([*a, *b])),
        _ => None,
    }
}

fn tag_hex(tlv: &Tlv) -> String {
    tlv.tag()
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}
