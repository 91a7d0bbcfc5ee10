//! Patients: created with a patient number no other Puskesmas can mint, checked field by
//! field and against each other, found by any number a patient carries or by name.

use kartika_card::checks::mod30_check_char;
use kartika_card::model::{
    parse_iso_date, BloodGroup, BpjsNumber, Nik, PatientNumber, RegionCode, Sex, MAX_ADDRESS_BYTES,
    MAX_NAME_BYTES,
};
use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};

use crate::access::{Action, Session};
use crate::text::{name_key, optional_digits, optional_text, required_line, search_words};
use crate::{new_uuid, regions, Ctx, OutboxKind, Result, Store, StoreError};

/// The most results a search returns; a desk wants the few right ones, not a list to scroll.
pub const MAX_SEARCH_RESULTS: usize = 50;

/// A patient's details as the desk types them. Dates are `YYYY-MM-DD`; blank optional
/// fields mean "not known".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPatient {
    /// NIK, 16 digits, agreeing with birth date and sex.
    pub nik: Option<String>,
    /// BPJS (JKN) number, 13 digits.
    pub bpjs_number: Option<String>,
    /// No. KK, the family card number, 16 digits.
    pub family_card_number: Option<String>,
    /// Full name, as on the KTP.
    pub name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// Sex.
    pub sex: Option<Sex>,
    /// ABO and Rhesus, for example `O+`.
    pub blood_group: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// Village code, for example `36.74.03.1001`.
    pub region_code: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
}

/// A patient as stored. In JSON (the record a sync pushes) a field not known is left out;
/// records written before that carry it as `null`, and both read alike.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    /// The record's id, born where the patient was first registered.
    pub id: String,
    /// No. RM: facility code, sequence, check character.
    pub patient_number: String,
    /// NIK.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nik: Option<String>,
    /// BPJS number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bpjs_number: Option<String>,
    /// No. KK.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_card_number: Option<String>,
    /// Full name.
    pub name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// Sex.
    pub sex: Sex,
    /// Blood group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blood_group: Option<String>,
    /// Street address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Village code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    /// Phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The facility that registered the patient first.
    pub origin_facility: String,
    /// Counts changes; the registry keeps every version.
    pub version: i64,
    /// The IHS number SATUSEHAT gave the patient, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ihs_number: Option<String>,
}

/// Something the desk should look at, which does not stop the operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// The NIK's first six digits name no district in the region list.
    UnknownNikDistrict {
        /// The district code, `pp.kk.dd`.
        district: String,
    },
    /// The village code is not in the region list.
    UnknownRegion {
        /// The code.
        region_code: String,
    },
    /// Another patient has the same name, birth date and sex; flagged for the admin.
    PossibleDuplicate {
        /// The other patient's number.
        patient_number: String,
        /// The other patient's name.
        name: String,
    },
    /// The tapped card says something else than the patient's record here.
    CardDiffers {
        /// Which field: "name", "NIK" or "birth date".
        field: String,
        /// What the card says.
        on_card: String,
        /// What the record here says.
        here: String,
    },
}

impl From<&Patient> for NewPatient {
    /// A registered patient's details, as a form to change them from.
    fn from(patient: &Patient) -> Self {
        Self {
            nik: patient.nik.clone(),
            bpjs_number: patient.bpjs_number.clone(),
            family_card_number: patient.family_card_number.clone(),
            name: patient.name.clone(),
            birth_date: patient.birth_date.clone(),
            sex: Some(patient.sex),
            blood_group: patient.blood_group.clone(),
            address: patient.address.clone(),
            region_code: patient.region_code.clone(),
            phone: patient.phone.clone(),
        }
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownNikDistrict { district } => write!(
                f,
                "the NIK's district {district} is not in the region list; check the NIK against the KTP"
            ),
            Self::UnknownRegion { region_code } => {
                write!(f, "village code {region_code} is not in the region list")
            }
            Self::PossibleDuplicate {
                patient_number,
                name,
            } => write!(
                f,
                "{name} ({patient_number}) may be the same person; the admin will check"
            ),
            Self::CardDiffers {
                field,
                on_card,
                here,
            } => write!(
                f,
                "the card's {field} is \"{on_card}\" but the record here says \"{here}\"; ask the patient which is right"
            ),
        }
    }
}

/// A new patient and what the desk should look at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientCreated {
    /// The patient as stored.
    pub patient: Patient,
    /// Warnings that did not stop the registration.
    pub warnings: Vec<Warning>,
}

/// How to find a patient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum PatientQuery {
    /// By NIK.
    Nik(String),
    /// By patient number (No. RM).
    PatientNumber(String),
    /// By the number printed on a card, current or old.
    CardNumber(String),
    /// By BPJS number.
    BpjsNumber(String),
    /// By family card number (No. KK): the whole family.
    FamilyCard(String),
    /// By name: every word a prefix of a word of the name, ignoring case and accents;
    /// the birth date narrows it when given.
    Name {
        /// Part of the name, for example "sit rah".
        name: String,
        /// `YYYY-MM-DD`.
        birth_date: Option<String>,
    },
}

impl PatientQuery {
    /// Reads one search box the way a clerk uses it: 16 digits are a NIK, card number or
    /// No. KK; 13 digits a BPJS number; a valid patient number is one; anything else a name.
    pub fn guess(text: &str) -> Vec<Self> {
        let t = text.trim();
        let all_digits = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        match (all_digits, t.len()) {
            (true, 16) => vec![
                Self::Nik(t.into()),
                Self::CardNumber(t.into()),
                Self::FamilyCard(t.into()),
            ],
            (true, 13) => vec![Self::BpjsNumber(t.into())],
            _ if PatientNumber::new(&t.to_ascii_uppercase()).is_ok()
                && t.bytes().any(|b| b.is_ascii_digit()) =>
            {
                vec![Self::PatientNumber(t.to_ascii_uppercase())]
            }
            _ => vec![Self::Name {
                name: t.into(),
                birth_date: None,
            }],
        }
    }

    fn label(&self) -> &'static str {
        match self {
            Self::Nik(_) => "nik",
            Self::PatientNumber(_) => "patient_number",
            Self::CardNumber(_) => "card_number",
            Self::BpjsNumber(_) => "bpjs_number",
            Self::FamilyCard(_) => "family_card",
            Self::Name { .. } => "name",
        }
    }
}

/// A search hit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientSummary {
    /// No. RM.
    pub patient_number: String,
    /// Full name.
    pub name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// Sex.
    pub sex: Sex,
    /// NIK.
    pub nik: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// The retired record's number when the search found a record merged into this one
    /// ("digabung dari …").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_from: Option<String>,
}

/// Two patients who may be one person, for the admin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PossibleDuplicate {
    /// The patient registered later.
    pub patient_number: String,
    /// The patient it resembles.
    pub other_patient_number: String,
    /// Why they were flagged.
    pub reason: String,
}

/// The fields of a patient, each checked.
pub(crate) struct ValidPatient {
    pub nik: Option<String>,
    pub bpjs_number: Option<String>,
    pub family_card_number: Option<String>,
    pub name: String,
    pub name_key: String,
    pub birth_date: String,
    pub sex: Sex,
    pub blood_group: Option<String>,
    pub address: Option<String>,
    pub region_code: Option<String>,
    pub phone: Option<String>,
    pub warnings: Vec<Warning>,
}

pub(crate) fn validate(new: &NewPatient, today: time::Date) -> Result<ValidPatient> {
    let name = required_line(&new.name, "name", MAX_NAME_BYTES)?;
    if name.len() > MAX_NAME_BYTES {
        return Err(StoreError::invalid(
            "name",
            format!(
                "is {} bytes long; at most {MAX_NAME_BYTES} fit on the card",
                name.len()
            ),
        ));
    }
    let key = name_key(&name);
    if key.is_empty() {
        return Err(StoreError::invalid("name", "must contain letters"));
    }
    let birth = parse_iso_date(new.birth_date.trim(), "birth date")?;
    if birth > today {
        return Err(StoreError::invalid(
            "birth date",
            format!("{} is in the future", new.birth_date.trim()),
        ));
    }
    let sex = new
        .sex
        .ok_or_else(|| StoreError::invalid("sex", "is required (use unknown if not known)"))?;
    let mut warnings = Vec::new();
    let nik = match optional_digits(new.nik.as_deref(), "NIK", 16)? {
        Some(text) => {
            let nik = Nik::new(&text)?;
            nik.check_agrees(birth, sex)?;
            if let Some((district, None)) = regions::nik_district(nik.as_str()) {
                warnings.push(Warning::UnknownNikDistrict { district });
            }
            Some(text)
        }
        None => None,
    };
    let bpjs_number = optional_digits(new.bpjs_number.as_deref(), "BPJS number", 13)?;
    if let Some(bpjs) = &bpjs_number {
        BpjsNumber::new(bpjs)?;
    }
    let blood_group = match new.blood_group.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => {
            Some(BloodGroup::new(&text.to_ascii_uppercase())?.to_string())
        }
        _ => None,
    };
    let address = optional_text(new.address.as_deref(), "address", MAX_ADDRESS_BYTES, false)?;
    if address
        .as_ref()
        .is_some_and(|a| a.len() > MAX_ADDRESS_BYTES)
    {
        return Err(StoreError::invalid(
            "address",
            format!("at most {MAX_ADDRESS_BYTES} bytes fit on the card"),
        ));
    }
    let region_code = match new.region_code.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => {
            let code = RegionCode::new(text)?.to_string();
            if regions::name(&code).is_none() {
                warnings.push(Warning::UnknownRegion {
                    region_code: code.clone(),
                });
            }
            Some(code)
        }
        _ => None,
    };
    let phone = optional_text(new.phone.as_deref(), "phone", 20, false)?;
    if let Some(p) = &phone {
        let digits = p.bytes().filter(u8::is_ascii_digit).count();
        if digits < 6 || !p.bytes().all(|b| b.is_ascii_digit() || b" +-".contains(&b)) {
            return Err(StoreError::invalid(
                "phone",
                "must be a phone number such as 0812 3456 7890",
            ));
        }
    }
    Ok(ValidPatient {
        nik,
        bpjs_number,
        family_card_number: optional_digits(
            new.family_card_number.as_deref(),
            "family card number",
            16,
        )?,
        name,
        name_key: key,
        birth_date: kartika_card::model::format_iso_date(birth),
        sex,
        blood_group,
        address,
        region_code,
        phone,
        warnings,
    })
}

pub(crate) const PATIENT_COLUMNS: &str = "p.uuid, p.patient_number, p.nik, p.bpjs_number, \
    p.family_card_number, p.name, p.birth_date, p.sex, p.blood_group, p.address, p.region_code, \
    p.phone, p.origin_facility, p.version, p.ihs_number";

/// How many columns [`PATIENT_COLUMNS`] names: a query adding its own reads from here on.
pub(crate) const PATIENT_COLUMN_COUNT: usize = 15;

/// The internal row id and the record of a patient number; a number merged into another
/// record gives the record that survived it (a card, a search or a visit naming it finds
/// the one person).
pub(crate) fn find_by_number(tx: &Transaction<'_>, number: &str) -> Result<(i64, Patient)> {
    let (id, patient) = find_exact(tx, number)?;
    let survivor = survivor_of(tx, id)?;
    if survivor == id {
        return Ok((id, patient));
    }
    tx.prepare_cached(&format!(
        "SELECT p.id, {PATIENT_COLUMNS} FROM patient p WHERE p.id = ?1"
    ))?
    .query_row([survivor], |r| Ok((r.get(0)?, patient_row_at(r, 1)?)))
    .map_err(Into::into)
}

/// The record that stands for `id`: itself, or the survivor it was merged or linked into,
/// through every step of a merge of a merge.
pub(crate) fn survivor_of(tx: &Transaction<'_>, id: i64) -> Result<i64> {
    let mut at = id;
    // Never more steps than there are records; a cycle a lying registry made stops here.
    for _ in 0..64 {
        let next: Option<i64> = tx
            .prepare_cached("SELECT merged_into FROM patient WHERE id = ?1")?
            .query_row([at], |r| r.get(0))?;
        match next {
            Some(next) => at = next,
            None => break,
        }
    }
    Ok(at)
}

pub(crate) fn find_exact(tx: &Transaction<'_>, number: &str) -> Result<(i64, Patient)> {
    tx.prepare_cached(&format!(
        "SELECT p.id, {PATIENT_COLUMNS} FROM patient p WHERE p.patient_number = ?1"
    ))?
    .query_row([number.trim().to_ascii_uppercase()], |r| {
        Ok((r.get(0)?, patient_row_at(r, 1)?))
    })
    .optional()?
    .ok_or_else(|| StoreError::not_found("patient", number.trim()))
}

/// Reads the [`PATIENT_COLUMNS`] that start at column `offset`.
pub(crate) fn patient_row_at(r: &Row<'_>, offset: usize) -> rusqlite::Result<Patient> {
    let sex: u8 = r.get(offset + 7)?;
    Ok(Patient {
        id: r.get::<_, uuid::Uuid>(offset)?.to_string(),
        patient_number: r.get(offset + 1)?,
        nik: r.get(offset + 2)?,
        bpjs_number: r.get(offset + 3)?,
        family_card_number: r.get(offset + 4)?,
        name: r.get(offset + 5)?,
        birth_date: r.get(offset + 6)?,
        sex: Sex::from_code(sex).unwrap_or(Sex::Unknown),
        blood_group: r.get(offset + 8)?,
        address: r.get(offset + 9)?,
        region_code: r.get(offset + 10)?,
        phone: r.get(offset + 11)?,
        origin_facility: r.get(offset + 12)?,
        version: r.get(offset + 13)?,
        ihs_number: r.get(offset + 14)?,
    })
}

/// Writes checked details over a patient's row. The version counts up by one for a local
/// edit, or becomes the registry's when `version` is given (never going back).
pub(crate) fn write_details(
    ctx: &Ctx<'_>,
    row_id: i64,
    valid: &ValidPatient,
    version: Option<i64>,
) -> Result<()> {
    ctx.tx
        .prepare_cached(
            "UPDATE patient SET nik = ?2, bpjs_number = ?3, family_card_number = ?4, name = ?5,
                name_key = ?6, birth_date = ?7, sex = ?8, blood_group = ?9, address = ?10,
                region_code = ?11, phone = ?12, updated_at = ?13,
                version = CASE WHEN ?14 IS NULL THEN version + 1 ELSE max(version, ?14) END
             WHERE id = ?1",
        )?
        .execute(params![
            row_id,
            valid.nik,
            valid.bpjs_number,
            valid.family_card_number,
            valid.name,
            valid.name_key,
            valid.birth_date,
            valid.sex.code(),
            valid.blood_group,
            valid.address,
            valid.region_code,
            valid.phone,
            ctx.now_ms,
            version
        ])?;
    Ok(())
}

/// Allocates the next patient number of this facility.
fn next_patient_number(ctx: &Ctx<'_>) -> Result<String> {
    loop {
        let seq: i64 = ctx.tx.query_row(
            "UPDATE facility SET next_patient_seq = next_patient_seq + 1 WHERE id = 1
             RETURNING next_patient_seq - 1",
            [],
            |r| r.get(0),
        )?;
        let payload = format!("{}{seq:07}", ctx.facility.code);
        let check = mod30_check_char(&payload)
            .ok_or_else(|| StoreError::Damaged(format!("facility code {}", ctx.facility.code)))?;
        let number = format!("{payload}{check}");
        // A restored backup can lag behind numbers already handed out: skip those.
        let taken: bool = ctx.tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM patient WHERE patient_number = ?1)",
            [&number],
            |r| r.get(0),
        )?;
        if !taken {
            return Ok(number);
        }
    }
}

/// Where a new patient record comes from, which decides what a NIK already registered
/// here means and whether the registry must hear of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Typed at the desk: a known NIK is refused with a pointer to the existing patient.
    Desk,
    /// From a genuine card issued elsewhere: both kept, flagged for the admin. Kept as
    /// version 0, so the registering facility's own record, version 1 or later, replaces
    /// what the card could tell.
    Card,
    /// Handed on by the registry at this version: both kept and flagged; not sent back.
    Registry(i64),
}

impl Origin {
    fn version(self) -> i64 {
        match self {
            Self::Desk => 1,
            Self::Card => 0,
            Self::Registry(version) => version,
        }
    }
}

/// Inserts a checked patient with a given number and id; flags possible duplicates.
pub(crate) fn insert_patient(
    ctx: &Ctx<'_>,
    valid: ValidPatient,
    number: String,
    uuid: uuid::Uuid,
    origin: &str,
    source: Origin,
) -> Result<(i64, PatientCreated)> {
    let mut nik_twin = None;
    if let Some(nik) = &valid.nik {
        let existing: Option<(String, String)> = ctx
            .tx
            .prepare_cached("SELECT patient_number, name FROM patient WHERE nik = ?1 AND merged_into IS NULL LIMIT 1")?
            .query_row([nik], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match (existing, source) {
            (Some((existing_patient_number, existing_name)), Origin::Desk) => {
                return Err(StoreError::DuplicateNik {
                    nik: nik.clone(),
                    existing_patient_number,
                    existing_name,
                });
            }
            (Some(twin), Origin::Card | Origin::Registry(_)) => nik_twin = Some(twin),
            (None, _) => {}
        }
    }
    let mut lookalikes: Vec<(i64, String, String)> = ctx
        .tx
        .prepare_cached(
            "SELECT id, patient_number, name FROM patient
             WHERE name_key = ?1 AND birth_date = ?2 AND sex = ?3 LIMIT 10",
        )?
        .query_map(
            params![valid.name_key, valid.birth_date, valid.sex.code()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    ctx.tx
        .prepare_cached(
            "INSERT INTO patient (uuid, patient_number, nik, bpjs_number, family_card_number, name,
                name_key, birth_date, sex, blood_group, address, region_code, phone,
                origin_facility, created_at, updated_at, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16)",
        )?
        .execute(params![
            uuid,
            number,
            valid.nik,
            valid.bpjs_number,
            valid.family_card_number,
            valid.name,
            valid.name_key,
            valid.birth_date,
            valid.sex.code(),
            valid.blood_group,
            valid.address,
            valid.region_code,
            valid.phone,
            origin,
            ctx.now_ms,
            source.version(),
        ])?;
    let row_id = ctx.tx.last_insert_rowid();
    // A pulled page's patients are indexed together at its end (see `DeferredNames`).
    if !matches!(source, Origin::Registry(_)) {
        ctx.tx
            .prepare_cached("INSERT INTO patient_name (rowid, name_key) VALUES (?1, ?2)")?
            .execute(params![row_id, valid.name_key])?;
    }
    let mut warnings = valid.warnings;
    let mut flags: Vec<(&str, (i64, String, String))> = Vec::new();
    if let Some((number, name)) = nik_twin {
        let other_id: i64 = ctx.tx.query_row(
            "SELECT id FROM patient WHERE patient_number = ?1",
            [&number],
            |r| r.get(0),
        )?;
        lookalikes.retain(|(id, _, _)| *id != other_id);
        flags.push(("same NIK", (other_id, number, name)));
    }
    flags.extend(
        lookalikes
            .into_iter()
            .map(|l| ("same name, birth date and sex", l)),
    );
    for (reason, (other_id, other_number, other_name)) in flags {
        ctx.tx.execute(
            "INSERT INTO patient_flag (patient_id, other_patient_id, reason, created_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![row_id, other_id, reason, ctx.now_ms],
        )?;
        warnings.push(Warning::PossibleDuplicate {
            patient_number: other_number,
            name: other_name,
        });
    }
    let patient = Patient {
        id: uuid.to_string(),
        patient_number: number,
        nik: valid.nik,
        bpjs_number: valid.bpjs_number,
        family_card_number: valid.family_card_number,
        name: valid.name,
        birth_date: valid.birth_date,
        sex: valid.sex,
        blood_group: valid.blood_group,
        address: valid.address,
        region_code: valid.region_code,
        phone: valid.phone,
        origin_facility: origin.to_owned(),
        version: source.version(),
        ihs_number: None,
    };
    // A pulled patient is named in the audit log by whoever pulls it (one entry a page).
    if !matches!(source, Origin::Registry(_)) {
        ctx.audit("patient.create", Some(&patient.patient_number), "")?;
        // A patient registered here from another Puskesmas's card stays theirs: the
        // registry takes a patient's details only from the facility that registered them.
        if patient.origin_facility == ctx.facility.code {
            ctx.outbox(OutboxKind::Patient, &patient.id, &patient)?;
        }
    }
    Ok((row_id, PatientCreated { patient, warnings }))
}

impl Store {
    /// Registers a new patient and gives them a patient number. Refused when the NIK is
    /// already registered; allowed, with a warning and a flag for the admin, when another
    /// patient has the same name, birth date and sex.
    pub fn create_patient(
        &mut self,
        session: &Session,
        new: &NewPatient,
    ) -> Result<PatientCreated> {
        let valid = validate(new, self.today())?;
        self.write(session, Action::RegisterPatient, |ctx| {
            let number = next_patient_number(ctx)?;
            let origin = ctx.facility.code.clone();
            insert_patient(ctx, valid, number, new_uuid(), &origin, Origin::Desk)
                .map(|(_, created)| created)
        })
    }

    /// Changes a patient's details. The patient number stays.
    pub fn update_patient(
        &mut self,
        session: &Session,
        patient_number: &str,
        details: &NewPatient,
    ) -> Result<Patient> {
        let valid = validate(details, self.today())?;
        self.write(session, Action::RegisterPatient, |ctx| {
            let (row_id, old) = find_by_number(ctx.tx, patient_number)?;
            if let Some(nik) = &valid.nik {
                let other: Option<(String, String)> = ctx
                    .tx
                    .query_row(
                        "SELECT patient_number, name FROM patient WHERE nik = ?1 AND id != ?2 AND merged_into IS NULL LIMIT 1",
                        params![nik, row_id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                if let Some((existing_patient_number, existing_name)) = other {
                    return Err(StoreError::DuplicateNik {
                        nik: nik.clone(),
                        existing_patient_number,
                        existing_name,
                    });
                }
            }
            write_details(ctx, row_id, &valid, None)?;
            let (_, patient) = find_by_number(ctx.tx, &old.patient_number)?;
            ctx.audit("patient.update", Some(&patient.patient_number), "")?;
            if patient.origin_facility == ctx.facility.code {
                ctx.outbox(OutboxKind::Patient, &patient.id, &patient)?;
            }
            Ok(patient)
        })
    }

    /// One patient's details. The read is audited.
    pub fn patient(&mut self, session: &Session, patient_number: &str) -> Result<Patient> {
        self.write(session, Action::ReadPatients, |ctx| {
            let (_, patient) = find_by_number(ctx.tx, patient_number)?;
            ctx.audit("patient.read", Some(&patient.patient_number), "")?;
            Ok(patient)
        })
    }

    /// Finds patients. Input is only ever bound as a parameter, never spliced into SQL.
    pub fn search_patients(
        &mut self,
        session: &Session,
        query: &PatientQuery,
    ) -> Result<Vec<PatientSummary>> {
        let birth_date = match query {
            PatientQuery::Name {
                birth_date: Some(d),
                ..
            } if !d.trim().is_empty() => Some(kartika_card::model::format_iso_date(
                parse_iso_date(d.trim(), "birth date")?,
            )),
            _ => None,
        };
        self.write(session, Action::ReadPatients, |ctx| {
            let hits = survivors_of(ctx.tx, search(ctx.tx, query, birth_date.as_deref())?)?;
            // Who looked at whom (UU PDP): the entry names every patient the search showed.
            let shown: Vec<&str> = hits.iter().map(|h| h.patient_number.as_str()).collect();
            ctx.audit(
                "patient.search",
                None,
                &format!(
                    "by {}: {} found: {}",
                    query.label(),
                    hits.len(),
                    shown.join(", ")
                ),
            )?;
            Ok(hits)
        })
    }

    /// Patients flagged as possibly one person, not yet resolved (admins only).
    pub fn possible_duplicates(&mut self, session: &Session) -> Result<Vec<PossibleDuplicate>> {
        self.write(session, Action::ManageStaff, |ctx| {
            let mut stmt = ctx.tx.prepare(
                "SELECT a.patient_number, b.patient_number, f.reason FROM patient_flag f
                 JOIN patient a ON a.id = f.patient_id JOIN patient b ON b.id = f.other_patient_id
                 WHERE f.resolved_at IS NULL ORDER BY f.id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(PossibleDuplicate {
                    patient_number: r.get(0)?,
                    other_patient_number: r.get(1)?,
                    reason: r.get(2)?,
                })
            })?;
            let flags = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            ctx.audit("patient.duplicates", None, &format!("{} open", flags.len()))?;
            Ok(flags)
        })
    }
}

fn summary_row(r: &Row<'_>) -> rusqlite::Result<PatientSummary> {
    let sex: u8 = r.get(3)?;
    Ok(PatientSummary {
        patient_number: r.get(0)?,
        name: r.get(1)?,
        birth_date: r.get(2)?,
        sex: Sex::from_code(sex).unwrap_or(Sex::Unknown),
        nik: r.get(4)?,
        address: r.get(5)?,
        merged_from: None,
    })
}

/// Each hit on a retired record becomes the record that survived it, marked with the
/// number it was found by; one person is listed once.
fn survivors_of(tx: &Transaction<'_>, hits: Vec<PatientSummary>) -> Result<Vec<PatientSummary>> {
    let mut listed: Vec<PatientSummary> = Vec::with_capacity(hits.len());
    for hit in hits {
        let merged: bool = tx
            .prepare_cached(
                "SELECT merged_into IS NOT NULL FROM patient WHERE patient_number = ?1",
            )?
            .query_row([&hit.patient_number], |r| r.get(0))?;
        let shown = if merged {
            let (_, survivor) = find_by_number(tx, &hit.patient_number)?;
            PatientSummary {
                patient_number: survivor.patient_number,
                name: survivor.name,
                birth_date: survivor.birth_date,
                sex: survivor.sex,
                nik: survivor.nik,
                address: survivor.address,
                merged_from: Some(hit.patient_number),
            }
        } else {
            hit
        };
        match listed
            .iter_mut()
            .find(|l| l.patient_number == shown.patient_number)
        {
            // Found as itself and by a retired number: say where it came from too.
            Some(already) => {
                if already.merged_from.is_none() {
                    already.merged_from = shown.merged_from;
                }
            }
            None => listed.push(shown),
        }
    }
    Ok(listed)
}

const SUMMARY_COLUMNS: &str =
    "p.patient_number, p.name, p.birth_date, p.sex, p.nik, p.address, p.name_key";

fn search(
    tx: &Transaction<'_>,
    query: &PatientQuery,
    birth_date: Option<&str>,
) -> Result<Vec<PatientSummary>> {
    let limit = MAX_SEARCH_RESULTS as i64;
    let by_key = |sql: &str, key: String| -> Result<Vec<PatientSummary>> {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM {sql} LIMIT {limit}"
        ))?;
        let rows = stmt.query_map([key.trim()], summary_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    };
    match query {
        PatientQuery::Nik(nik) => by_key("patient p WHERE p.nik = ?1", nik.clone()),
        PatientQuery::PatientNumber(number) => by_key(
            "patient p WHERE p.patient_number = ?1",
            number.trim().to_ascii_uppercase(),
        ),
        PatientQuery::CardNumber(card) => by_key(
            "card c JOIN patient p ON p.id = c.patient_id WHERE c.card_number = ?1",
            card.clone(),
        ),
        PatientQuery::BpjsNumber(bpjs) => {
            by_key("patient p WHERE p.bpjs_number = ?1", bpjs.clone())
        }
        PatientQuery::FamilyCard(kk) => by_key(
            "patient p WHERE p.family_card_number = ?1 ORDER BY p.birth_date",
            kk.clone(),
        ),
        PatientQuery::Name { name, .. } => {
            let words = search_words(name);
            if words.is_empty() {
                return Err(StoreError::invalid(
                    "name",
                    "type at least one letter of the name",
                ));
            }
            match birth_date {
                Some(date) => by_name_and_birth_date(tx, &words, date),
                None => by_name(tx, &words),
            }
        }
    }
}

/// Every search word must begin some word of the name.
fn name_matches(key: &str, words: &[String]) -> bool {
    words
        .iter()
        .all(|w| key.split(' ').any(|part| part.starts_with(w.as_str())))
}

/// A birth date narrows a million patients to a handful: scan those in Rust.
fn by_name_and_birth_date(
    tx: &Transaction<'_>,
    words: &[String],
    date: &str,
) -> Result<Vec<PatientSummary>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM patient p WHERE p.birth_date = ?1"
    ))?;
    let mut rows = stmt.query([date])?;
    let mut hits = Vec::new();
    while let Some(row) = rows.next()? {
        let key: String = row.get(6)?;
        if name_matches(&key, words) {
            hits.push(summary_row(row)?);
            if hits.len() == MAX_SEARCH_RESULTS {
                break;
            }
        }
    }
    Ok(hits)
}

/// Word-prefix search through the FTS5 index. The words are folded to letters and digits
/// before they are quoted, so FTS query syntax in the input has no effect.
fn by_name(tx: &Transaction<'_>, words: &[String]) -> Result<Vec<PatientSummary>> {
    let fts_query = words
        .iter()
        .map(|w| format!("\"{w}\"*"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM patient_name n JOIN patient p ON p.id = n.rowid
         WHERE patient_name MATCH ?1 LIMIT {MAX_SEARCH_RESULTS}"
    ))?;
    let rows = stmt.query_map([fts_query], summary_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
