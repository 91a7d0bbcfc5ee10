//! FF20, the patient's identity: what a desk reads at every tap.

use serde::{Deserialize, Serialize};
use time::Date;

use super::dates::{format_compact_date, format_iso_date, parse_compact_date, parse_iso_date};
use super::fields::{
    checked_free_text, BloodGroup, BpjsNumber, CardNumber, FacilityCode, Nik, PatientNumber,
    RegionCode, Sex,
};
use crate::tlv::{encode_into, tags, Template};
use crate::DataError;

/// The most bytes of a name the card holds.
pub const MAX_NAME_BYTES: usize = 80;
/// The most bytes of an address the card holds.
pub const MAX_ADDRESS_BYTES: usize = 120;

/// The identity's fields, each already valid on its own. [`Identity::new`] checks how they
/// fit together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityFields {
    /// DF01.
    pub card_number: CardNumber,
    /// DF02.
    pub patient_number: PatientNumber,
    /// DF03.
    pub nik: Option<Nik>,
    /// DF04.
    pub bpjs_number: Option<BpjsNumber>,
    /// DF05, 1 to 80 bytes of UTF-8.
    pub name: String,
    /// DF06.
    pub birth_date: Date,
    /// DF07.
    pub sex: Sex,
    /// DF08.
    pub blood_group: Option<BloodGroup>,
    /// DF09, at most 120 bytes of UTF-8.
    pub address: Option<String>,
    /// DF0A.
    pub region_code: Option<RegionCode>,
    /// DF0B, the facility that issued the card.
    pub facility_code: FacilityCode,
    /// DF0C.
    pub issue_date: Date,
    /// DF0D.
    pub expiry_date: Date,
}

/// A valid identity: every field valid and all of them consistent with each other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity(IdentityFields);

impl std::ops::Deref for Identity {
    type Target = IdentityFields;
    fn deref(&self) -> &IdentityFields {
        &self.0
    }
}

impl Identity {
    /// Checks the fields together: name and address lengths, dates in order, and a NIK
    /// that agrees with the birth date and sex.
    pub fn new(fields: IdentityFields) -> Result<Self, DataError> {
        checked_free_text(fields.name.as_bytes(), "name", MAX_NAME_BYTES)?;
        if let Some(address) = &fields.address {
            checked_free_text(address.as_bytes(), "address", MAX_ADDRESS_BYTES)?;
        }
        if fields.birth_date > fields.issue_date {
            return Err(DataError::invalid(
                "birth date",
                format!(
                    "{} is after the card's issue date {}",
                    format_iso_date(fields.birth_date),
                    format_iso_date(fields.issue_date)
                ),
            ));
        }
        if fields.expiry_date < fields.issue_date {
            return Err(DataError::invalid(
                "expiry date",
                "is before the issue date",
            ));
        }
        if let Some(nik) = &fields.nik {
            nik.check_agrees(fields.birth_date, fields.sex)?;
        }
        Ok(Self(fields))
    }

    /// The fields.
    pub fn fields(&self) -> &IdentityFields {
        &self.0
    }

    /// The FF20 template, fields in tag order.
    pub fn to_tlv(&self) -> Vec<u8> {
        let f = &self.0;
        let mut body = Vec::with_capacity(256);
        encode_into(
            &mut body,
            tags::CARD_NUMBER,
            f.card_number.as_str().as_bytes(),
        );
        encode_into(
            &mut body,
            tags::PATIENT_NUMBER,
            f.patient_number.as_str().as_bytes(),
        );
        if let Some(nik) = &f.nik {
            encode_into(&mut body, tags::NIK, nik.as_str().as_bytes());
        }
        if let Some(bpjs) = &f.bpjs_number {
            encode_into(&mut body, tags::BPJS_NUMBER, bpjs.as_str().as_bytes());
        }
        encode_into(&mut body, tags::NAME, f.name.as_bytes());
        encode_into(
            &mut body,
            tags::BIRTH_DATE,
            format_compact_date(f.birth_date).as_bytes(),
        );
        encode_into(&mut body, tags::SEX, &[f.sex.code()]);
        if let Some(blood) = &f.blood_group {
            encode_into(&mut body, tags::BLOOD_GROUP, blood.as_str().as_bytes());
        }
        if let Some(address) = &f.address {
            encode_into(&mut body, tags::ADDRESS, address.as_bytes());
        }
        if let Some(region) = &f.region_code {
            encode_into(&mut body, tags::REGION_CODE, region.as_str().as_bytes());
        }
        encode_into(
            &mut body,
            tags::FACILITY_CODE,
            f.facility_code.as_str().as_bytes(),
        );
        encode_into(
            &mut body,
            tags::ISSUE_DATE,
            format_compact_date(f.issue_date).as_bytes(),
        );
        encode_into(
            &mut body,
            tags::EXPIRY_DATE,
            format_compact_date(f.expiry_date).as_bytes(),
        );
        crate::tlv::encode(tags::IDENTITY, &body)
    }

    /// Reads an FF20 template; unknown tags are ignored, missing mandatory ones refused.
    pub fn from_tlv(bytes: &[u8]) -> Result<Self, DataError> {
        let t = Template::parse(bytes, tags::IDENTITY, "the identity (FF20)")?;
        let sex = match t.required(tags::SEX, "sex")? {
            [code] => Sex::from_code(*code)?,
            _ => return Err(DataError::invalid("sex", "must be one byte")),
        };
        let name = checked_free_text(t.required(tags::NAME, "name")?, "name", MAX_NAME_BYTES)?;
        let address = t
            .optional(tags::ADDRESS, "address")?
            .map(|b| checked_free_text(b, "address", MAX_ADDRESS_BYTES))
            .transpose()?;
        Self::new(IdentityFields {
            card_number: CardNumber::from_bytes(t.required(tags::CARD_NUMBER, "card number")?)?,
            patient_number: PatientNumber::from_bytes(
                t.required(tags::PATIENT_NUMBER, "patient number")?,
            )?,
            nik: t
                .optional(tags::NIK, "NIK")?
                .map(Nik::from_bytes)
                .transpose()?,
            bpjs_number: t
                .optional(tags::BPJS_NUMBER, "BPJS number")?
                .map(BpjsNumber::from_bytes)
                .transpose()?,
            name,
            birth_date: parse_compact_date(
                t.required(tags::BIRTH_DATE, "birth date")?,
                "birth date",
            )?,
            sex,
            blood_group: t
                .optional(tags::BLOOD_GROUP, "blood group")?
                .map(BloodGroup::from_bytes)
                .transpose()?,
            address,
            region_code: t
                .optional(tags::REGION_CODE, "region code")?
                .map(RegionCode::from_bytes)
                .transpose()?,
            facility_code: FacilityCode::from_bytes(
                t.required(tags::FACILITY_CODE, "facility code")?,
            )?,
            issue_date: parse_compact_date(
                t.required(tags::ISSUE_DATE, "issue date")?,
                "issue date",
            )?,
            expiry_date: parse_compact_date(
                t.required(tags::EXPIRY_DATE, "expiry date")?,
                "expiry date",
            )?,
        })
    }
}

impl Nik {
    /// Checks digits 7 to 12, the birth date as DDMMYY with 40 added to the day for women,
    /// against a birth date and sex.
    pub fn check_agrees(&self, birth: Date, sex: Sex) -> Result<(), DataError> {
        check_nik_agrees(self, birth, sex)
    }
}

fn check_nik_agrees(nik: &Nik, birth: Date, sex: Sex) -> Result<(), DataError> {
    let (dd, mm, yy) = nik.birth_digits();
    let nik_says_female = dd > 40;
    let day = if nik_says_female { dd - 40 } else { dd };
    let expected = format!(
        "{:02}{:02}{:02}",
        birth.day(),
        u8::from(birth.month()),
        birth.year().rem_euclid(100)
    );
    if day != birth.day()
        || mm != u8::from(birth.month())
        || i32::from(yy) != birth.year().rem_euclid(100)
    {
        return Err(DataError::invalid(
            "NIK",
            format!(
                "digits 7 to 12 ({}) do not match the birth date {} (expected {expected}, or the day plus 40 for a woman)",
                &nik.as_str()[6..12],
                format_iso_date(birth)
            ),
        ));
    }
    match (sex, nik_says_female) {
        (Sex::Female, false) => Err(DataError::invalid(
            "NIK",
            "is a man's NIK (a woman's has 40 added to the birth day); check the sex or the NIK",
        )),
        (Sex::Male, true) => Err(DataError::invalid(
            "NIK",
            "is a woman's NIK (40 added to the birth day); check the sex or the NIK",
        )),
        _ => Ok(()),
    }
}

/// The identity as JSON, with the field names that `kartika card issue` reads and
/// `kartika card read --json` prints. Dates are `YYYY-MM-DD`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityJson {
    #[allow(missing_docs)]
    pub card_number: String,
    #[allow(missing_docs)]
    pub patient_number: String,
    #[allow(missing_docs)]
    #[serde(default)]
    pub nik: Option<String>,
    #[allow(missing_docs)]
    #[serde(default)]
    pub bpjs_number: Option<String>,
    #[allow(missing_docs)]
    pub name: String,
    #[allow(missing_docs)]
    pub birth_date: String,
    #[allow(missing_docs)]
    pub sex: Sex,
    #[allow(missing_docs)]
    #[serde(default)]
    pub blood_group: Option<String>,
    #[allow(missing_docs)]
    #[serde(default)]
    pub address: Option<String>,
    #[allow(missing_docs)]
    #[serde(default)]
    pub region_code: Option<String>,
    #[allow(missing_docs)]
    pub facility_code: String,
    #[allow(missing_docs)]
    pub issue_date: String,
    #[allow(missing_docs)]
    pub expiry_date: String,
}

impl TryFrom<IdentityJson> for Identity {
    type Error = DataError;
    fn try_from(j: IdentityJson) -> Result<Self, DataError> {
        Identity::new(IdentityFields {
            card_number: CardNumber::new(&j.card_number)?,
            patient_number: PatientNumber::new(&j.patient_number)?,
            nik: j.nik.as_deref().map(Nik::new).transpose()?,
            bpjs_number: j.bpjs_number.as_deref().map(BpjsNumber::new).transpose()?,
            name: j.name,
            birth_date: parse_iso_date(&j.birth_date, "birth date")?,
            sex: j.sex,
            blood_group: j.blood_group.as_deref().map(BloodGroup::new).transpose()?,
            address: j.address,
            region_code: j.region_code.as_deref().map(RegionCode::new).transpose()?,
            facility_code: FacilityCode::new(&j.facility_code)?,
            issue_date: parse_iso_date(&j.issue_date, "issue date")?,
            expiry_date: parse_iso_date(&j.expiry_date, "expiry date")?,
        })
    }
}

impl From<&Identity> for IdentityJson {
    fn from(identity: &Identity) -> Self {
        let f = identity.fields();
        Self {
            card_number: f.card_number.to_string(),
            patient_number: f.patient_number.to_string(),
            nik: f.nik.as_ref().map(ToString::to_string),
            bpjs_number: f.bpjs_number.as_ref().map(ToString::to_string),
            name: f.name.clone(),
            birth_date: format_iso_date(f.birth_date),
            sex: f.sex,
            blood_group: f.blood_group.as_ref().map(ToString::to_string),
            address: f.address.clone(),
            region_code: f.region_code.as_ref().map(ToString::to_string),
            facility_code: f.facility_code.to_string(),
            issue_date: format_iso_date(f.issue_date),
            expiry_date: format_iso_date(f.expiry_date),
        }
    }
}
