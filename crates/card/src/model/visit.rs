//! FF31, one visit in the card's own log (the newest ten travel with the patient).

use time::{Date, Month, PrimitiveDateTime, Time};

use super::fields::{join_icd10_list, parse_icd10_list, FacilityCode, Icd10Code};
use crate::tlv::{encode, encode_into, tags, Template};
use crate::DataError;

/// How many visits the card keeps (the newest).
pub const MAX_VISITS: usize = 10;
/// The most bytes of the diagnosis list in one record.
pub const MAX_DIAGNOSES_BYTES: usize = 64;

/// One visit as the card remembers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitRecord {
    visit_id: [u8; 16],
    time_utc: PrimitiveDateTime,
    facility_code: FacilityCode,
    service_unit: String,
    diagnoses: Vec<Icd10Code>,
}

impl VisitRecord {
    /// Checks the service unit code (1 to 16 upper-case letters, digits or `-`) and the
    /// length of the diagnosis list. The time is UTC, kept to the minute.
    pub fn new(
        visit_id: [u8; 16],
        time_utc: PrimitiveDateTime,
        facility_code: FacilityCode,
        service_unit: &str,
        diagnoses: Vec<Icd10Code>,
    ) -> Result<Self, DataError> {
        let unit_ok = (1..=16).contains(&service_unit.len())
            && service_unit
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if !unit_ok {
            return Err(DataError::invalid(
                "service unit",
                "must be 1 to 16 upper-case letters, digits or -",
            ));
        }
        if join_icd10_list(&diagnoses).len() > MAX_DIAGNOSES_BYTES {
            return Err(DataError::invalid(
                "diagnoses",
                "too many codes for one card record",
            ));
        }
        let time_utc = time_utc
            .replace_second(0)
            .and_then(|t| t.replace_nanosecond(0))
            .map_err(|_| DataError::invalid("visit time", "out of range"))?;
        Ok(Self {
            visit_id,
            time_utc,
            facility_code,
            service_unit: service_unit.to_owned(),
            diagnoses,
        })
    }

    /// The visit's id (a UUID), the same in the clinic store and the registry.
    pub fn visit_id(&self) -> [u8; 16] {
        self.visit_id
    }

    /// When the visit happened, UTC, to the minute.
    pub fn time_utc(&self) -> PrimitiveDateTime {
        self.time_utc
    }

    /// The facility of the visit.
    pub fn facility_code(&self) -> &FacilityCode {
        &self.facility_code
    }

    /// The service unit (poli) code.
    pub fn service_unit(&self) -> &str {
        &self.service_unit
    }

    /// The diagnoses made.
    pub fn diagnoses(&self) -> &[Icd10Code] {
        &self.diagnoses
    }

    /// The FF31 template.
    pub fn to_tlv(&self) -> Vec<u8> {
        let t = self.time_utc;
        let stamp = format!(
            "{:04}{:02}{:02}{:02}{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        );
        let mut body = Vec::with_capacity(128);
        encode_into(&mut body, tags::VISIT_ID, &self.visit_id);
        encode_into(&mut body, tags::VISIT_TIME, stamp.as_bytes());
        encode_into(
            &mut body,
            tags::VISIT_FACILITY,
            self.facility_code.as_str().as_bytes(),
        );
        encode_into(
            &mut body,
            tags::VISIT_SERVICE_UNIT,
            self.service_unit.as_bytes(),
        );
        encode_into(
            &mut body,
            tags::VISIT_DIAGNOSES,
            join_icd10_list(&self.diagnoses).as_bytes(),
        );
        encode(tags::VISIT_RECORD, &body)
    }

    /// Reads an FF31 template.
    pub fn from_tlv(bytes: &[u8]) -> Result<Self, DataError> {
        let t = Template::parse(bytes, tags::VISIT_RECORD, "a visit record (FF31)")?;
        let visit_id: [u8; 16] = t
            .required(tags::VISIT_ID, "visit id")?
            .try_into()
            .map_err(|_| DataError::invalid("visit id", "must be 16 bytes"))?;
        let time_utc = parse_visit_time(t.required(tags::VISIT_TIME, "visit time")?)?;
        let facility =
            FacilityCode::from_bytes(t.required(tags::VISIT_FACILITY, "visit facility")?)?;
        let unit = std::str::from_utf8(t.required(tags::VISIT_SERVICE_UNIT, "service unit")?)
            .map_err(|_| DataError::invalid("service unit", "is not ASCII"))?;
        let diagnoses = t
            .optional(tags::VISIT_DIAGNOSES, "diagnoses")?
            .map(parse_icd10_list)
            .transpose()?
            .unwrap_or_default();
        Self::new(visit_id, time_utc, facility, unit, diagnoses)
    }

    /// Reads the FF30 visit log: the records, newest first.
    pub fn list_from_tlv(bytes: &[u8]) -> Result<Vec<Self>, DataError> {
        let t = Template::parse(bytes, tags::VISIT_LOG, "the visit log (FF30)")?;
        let records = t.objects(tags::VISIT_RECORD);
        if records.len() > MAX_VISITS {
            return Err(DataError::encoding(
                "the visit log (FF30)",
                "more than 10 records",
            ));
        }
        records.iter().map(|r| Self::from_tlv(r)).collect()
    }

    /// The date of the record, for the card's terminal-certificate expiry rule.
    pub fn date(&self) -> Date {
        self.time_utc.date()
    }
}

/// Parses the card's `YYYYMMDDhhmm`.
pub(crate) fn parse_visit_time(bytes: &[u8]) -> Result<PrimitiveDateTime, DataError> {
    let bad = || DataError::invalid("visit time", "is not YYYYMMDDhhmm");
    if bytes.len() != 12 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let num = |range: std::ops::Range<usize>| -> u32 {
        bytes[range]
            .iter()
            .fold(0, |acc, b| acc * 10 + u32::from(b - b'0'))
    };
    let month = Month::try_from(num(4..6) as u8).map_err(|_| bad())?;
    let date =
        Date::from_calendar_date(num(0..4) as i32, month, num(6..8) as u8).map_err(|_| bad())?;
    let time = Time::from_hms(num(8..10) as u8, num(10..12) as u8, 0).map_err(|_| bad())?;
    Ok(PrimitiveDateTime::new(date, time))
}
