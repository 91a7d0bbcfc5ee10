//! The ids SATUSEHAT (Indonesia's national health data platform) knows this Puskesmas by:
//! its Organization, its units' Locations and its staff's IHS numbers. Each is optional
//! and checked; the FHIR export uses them where they are known.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::access::{Action, Session};
use crate::{Result, Store, StoreError};

/// The SATUSEHAT ids on record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SatusehatIds {
    /// The facility's Organization id.
    pub organization_id: Option<String>,
    /// Location ids, by unit code.
    pub locations: Vec<(String, String)>,
    /// Practitioners' IHS numbers, by username.
    pub practitioners: Vec<(String, String)>,
}

/// A FHIR id as SATUSEHAT issues them (a UUID, or digits in its sandbox).
fn fhir_id(text: &str, field: &'static str) -> Result<String> {
    let t = text.trim();
    if (1..=64).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        Ok(t.to_owned())
    } else {
        Err(StoreError::invalid(
            field,
            format!("\"{t}\" is not an id as SATUSEHAT gives them (letters, digits, '-', '.')"),
        ))
    }
}

/// Whose IHS number it is: its first letter says.
#[derive(Clone, Copy)]
enum IhsHolder {
    Patient,
    Practitioner,
}

/// An IHS number: `P` (patient) or `N` (practitioner) and 8 to 14 digits.
fn ihs_number(text: &str, holder: IhsHolder) -> Result<String> {
    let (prefix, whose) = match holder {
        IhsHolder::Patient => ('P', "a patient's"),
        IhsHolder::Practitioner => ('N', "a practitioner's"),
    };
    let t = text.trim().to_ascii_uppercase();
    let digits = t.strip_prefix(prefix).unwrap_or_default();
    if (8..=14).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(t)
    } else {
        Err(StoreError::invalid(
            "IHS number",
            format!(
                "\"{}\" is not {whose} IHS number ({prefix} and 8 to 14 digits)",
                text.trim()
            ),
        ))
    }
}

fn ids_on_record(ctx: &crate::Ctx<'_>) -> Result<SatusehatIds> {
    let organization_id =
        ctx.tx
            .query_row("SELECT satusehat_organization_id FROM facility", [], |r| {
                r.get(0)
            })?;
    let pairs = |sql: &str| -> Result<Vec<(String, String)>> {
        let mut stmt = ctx.tx.prepare(sql)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    };
    Ok(SatusehatIds {
        organization_id,
        locations: pairs(
            "SELECT code, satusehat_location_id FROM service_unit
             WHERE satusehat_location_id IS NOT NULL ORDER BY code",
        )?,
        practitioners: pairs(
            "SELECT username, ihs_number FROM staff WHERE ihs_number IS NOT NULL
             ORDER BY username",
        )?,
    })
}

impl Store {
    /// The SATUSEHAT ids on record (admins only).
    pub fn satusehat_ids(&mut self, session: &Session) -> Result<SatusehatIds> {
        self.read(session, Action::ManageFacility, ids_on_record)
    }

    /// What the mapping needs to send to SATUSEHAT: the ids on record and the units'
    /// names (for the sender, which runs as a part of Kartika).
    pub fn satusehat_facility(&mut self) -> Result<kartika_fhir::Facility> {
        let units = self.service_units()?;
        let ids = self.read_as_system("satusehat", ids_on_record)?;
        let code = self.facility().code;
        Ok(kartika_fhir::Facility {
            organization_id: ids.organization_id.unwrap_or(code),
            locations: ids.locations.into_iter().collect(),
            unit_names: units.into_iter().map(|u| (u.code, u.name)).collect(),
            practitioners: ids.practitioners.into_iter().collect(),
        })
    }

    /// Records (or with `None` clears) the facility's Organization id (admins only).
    pub fn set_satusehat_organization(
        &mut self,
        session: &Session,
        id: Option<&str>,
    ) -> Result<()> {
        let id = id.map(|i| fhir_id(i, "organization id")).transpose()?;
        self.write(session, Action::ManageFacility, |ctx| {
            ctx.tx
                .execute("UPDATE facility SET satusehat_organization_id = ?1", [&id])?;
            ctx.audit(
                "facility.satusehat",
                None,
                id.as_deref().unwrap_or("cleared"),
            )
        })
    }

    /// Records (or clears) a unit's Location id (admins only).
    pub fn set_unit_location(
        &mut self,
        session: &Session,
        unit: &str,
        id: Option<&str>,
    ) -> Result<()> {
        let id = id.map(|i| fhir_id(i, "location id")).transpose()?;
        self.write(session, Action::ManageFacility, |ctx| {
            let changed = ctx.tx.execute(
                "UPDATE service_unit SET satusehat_location_id = ?1 WHERE code = ?2",
                params![id, unit.trim()],
            )?;
            if changed == 0 {
                return Err(StoreError::not_found("service unit", unit.trim()));
            }
            ctx.audit(
                "unit.location",
                None,
                &format!("{} {}", unit.trim(), id.as_deref().unwrap_or("cleared")),
            )
        })
    }

    /// Records (or clears) the IHS number SATUSEHAT gave a patient: a change of the patient,
    /// so it is audited and goes to the registry.
    pub fn set_patient_ihs_number(
        &mut self,
        session: &Session,
        patient_number: &str,
        ihs: Option<&str>,
    ) -> Result<crate::Patient> {
        let ihs = ihs.map(|i| ihs_number(i, IhsHolder::Patient)).transpose()?;
        self.write(session, Action::RegisterPatient, |ctx| {
            let (row, patient) = crate::patients::find_by_number(ctx.tx, patient_number)?;
            ctx.tx.execute(
                "UPDATE patient SET ihs_number = ?1, version = version + 1 WHERE id = ?2",
                params![ihs, row],
            )?;
            let (_, patient) = crate::patients::find_by_number(ctx.tx, &patient.patient_number)?;
            ctx.audit(
                "patient.ihs",
                Some(&patient.patient_number),
                ihs.as_deref().unwrap_or("cleared"),
            )?;
            ctx.outbox(crate::OutboxKind::Patient, &patient.id, &patient)?;
            Ok(patient)
        })
    }

    /// Records (or clears) a staff member's IHS number (admins only); one number, one person.
    pub fn set_staff_ihs_number(
        &mut self,
        session: &Session,
        username: &str,
        ihs: Option<&str>,
    ) -> Result<()> {
        let ihs = ihs
            .map(|i| ihs_number(i, IhsHolder::Practitioner))
            .transpose()?;
        self.write(session, Action::ManageStaff, |ctx| {
            if let Some(number) = &ihs {
                let holder: Option<String> = ctx
                    .tx
                    .query_row(
                        "SELECT username FROM staff WHERE ihs_number = ?1 AND username != ?2",
                        params![number, username.trim()],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(holder) = holder {
                    return Err(StoreError::AlreadyRecorded {
                        what: "IHS number, held by",
                        key: holder,
                    });
                }
            }
            let changed = ctx.tx.execute(
                "UPDATE staff SET ihs_number = ?1 WHERE username = ?2",
                params![ihs, username.trim()],
            )?;
            if changed == 0 {
                return Err(StoreError::not_found("staff member", username.trim()));
            }
            ctx.audit(
                "staff.ihs",
                None,
                &format!(
                    "{} {}",
                    username.trim(),
                    ihs.as_deref().unwrap_or("cleared")
                ),
            )
        })
    }
}
