//! The facility this file belongs to (its code prefixes every patient number it creates),
//! its time zone (the queue day is the local day), and its service units.

use std::path::Path;

use kartika_card::checks::MOD30_ALPHABET;
use kartika_card::model::{FacilityCode, RegionCode};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use time::UtcOffset;

use crate::access::{Action, Session};
use crate::text::required_line;
use crate::{regions, Result, Store, StoreError};

/// Indonesia's three time zones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TimeZone {
    /// Waktu Indonesia Barat, UTC+7 (Sumatra, Java, West and Central Kalimantan).
    Wib,
    /// Waktu Indonesia Tengah, UTC+8 (Bali, Nusa Tenggara, Sulawesi, the rest of Kalimantan).
    Wita,
    /// Waktu Indonesia Timur, UTC+9 (Maluku, Papua).
    Wit,
}

impl TimeZone {
    /// Hours ahead of UTC.
    pub fn hours(self) -> i8 {
        match self {
            Self::Wib => 7,
            Self::Wita => 8,
            Self::Wit => 9,
        }
    }

    /// `WIB`, `WITA` or `WIT`.
    pub fn abbreviation(self) -> &'static str {
        match self {
            Self::Wib => "WIB",
            Self::Wita => "WITA",
            Self::Wit => "WIT",
        }
    }

    /// The zone for its abbreviation, `WIB`, `WITA` or `WIT`.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_uppercase().as_str() {
            "WIB" => Ok(Self::Wib),
            "WITA" => Ok(Self::Wita),
            "WIT" => Ok(Self::Wit),
            other => Err(StoreError::invalid(
                "time zone",
                format!("\"{other}\" is not WIB, WITA or WIT"),
            )),
        }
    }

    fn from_minutes(minutes: i64) -> Option<Self> {
        [Self::Wib, Self::Wita, Self::Wit]
            .into_iter()
            .find(|z| i64::from(z.hours()) * 60 == minutes)
    }
}

/// What `kartika db init` asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityProfile {
    /// The facility code, for example `P3674010` (letters of the patient-number alphabet).
    pub code: String,
    /// The facility's name, for example "Puskesmas Pamulang".
    pub name: String,
    /// The catchment: a region code; patients whose village code lies under it are
    /// "dalam wilayah". `None` when not set up yet.
    pub region_code: Option<String>,
    /// The facility's time zone.
    pub zone: TimeZone,
}

/// A service unit (poli) with its own queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceUnit {
    /// Stable code, for example `general`.
    pub code: String,
    /// Shown name, for example "Poli Umum".
    pub name: String,
    /// The letter before queue numbers, for example `U` in `U-001`.
    pub queue_prefix: String,
    /// Whether every Puskesmas has it.
    pub built_in: bool,
}

/// The facility as the store keeps it in memory.
#[derive(Clone, Debug)]
pub(crate) struct Facility {
    pub code: String,
    pub name: String,
    pub region_code: Option<String>,
    pub zone: TimeZone,
}

impl Facility {
    pub fn validate(profile: &FacilityProfile) -> Result<Self> {
        let code = FacilityCode::new(profile.code.trim())?;
        if let Some(bad) = code.as_str().bytes().find(|b| !MOD30_ALPHABET.contains(b)) {
            return Err(StoreError::invalid(
                "facility code",
                format!(
                    "contains '{}', which patient numbers cannot hold (B, I, O, Q, S and Z are left out because they look like digits)",
                    char::from(bad)
                ),
            ));
        }
        let region_code = match profile.region_code.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => {
                let region = RegionCode::new(text)?;
                if regions::name(region.as_str()).is_none() {
                    return Err(StoreError::invalid(
                        "region code",
                        format!("{region} is not in the Kemendagri region list"),
                    ));
                }
                Some(region.to_string())
            }
            _ => None,
        };
        Ok(Self {
            code: code.to_string(),
            name: required_line(&profile.name, "facility name", 120)?,
            region_code,
            zone: profile.zone,
        })
    }

    pub fn insert(&self, tx: &Transaction<'_>, now: i64) -> Result<()> {
        tx.execute(
            "INSERT INTO facility (id, code, name, region_code, utc_offset_minutes, created_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5)",
            params![
                self.code,
                self.name,
                self.region_code,
                i64::from(self.zone.hours()) * 60,
                now
            ],
        )?;
        Ok(())
    }

    pub fn load(conn: &Connection, path: &Path) -> Result<Self> {
        let row: Option<(String, String, Option<String>, i64)> = conn
            .query_row(
                "SELECT code, name, region_code, utc_offset_minutes FROM facility WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((code, name, region_code, minutes)) = row else {
            return Err(StoreError::NotAStore {
                path: path.display().to_string(),
                detail: "its creation did not finish; delete it and run `kartika db init` again"
                    .into(),
            });
        };
        let zone = TimeZone::from_minutes(minutes)
            .ok_or_else(|| StoreError::Damaged(format!("facility UTC offset {minutes} min")))?;
        Ok(Self {
            code,
            name,
            region_code,
            zone,
        })
    }

    pub fn offset(&self) -> UtcOffset {
        UtcOffset::from_hms(self.zone.hours(), 0, 0).unwrap_or(UtcOffset::UTC)
    }

    pub fn profile(&self) -> FacilityProfile {
        FacilityProfile {
            code: self.code.clone(),
            name: self.name.clone(),
            region_code: self.region_code.clone(),
            zone: self.zone,
        }
    }

    /// Whether a village code lies in the catchment; `None` when either is unknown.
    pub fn inside_catchment(&self, village: Option<&str>) -> Option<bool> {
        let catchment = self.region_code.as_deref()?;
        let village = village?;
        Some(village == catchment || village.starts_with(&format!("{catchment}.")))
    }
}

impl Store {
    /// The facility's service units, built-in ones first.
    pub fn service_units(&self) -> Result<Vec<ServiceUnit>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT code, name, queue_prefix, built_in FROM service_unit WHERE active
             ORDER BY built_in DESC, rowid",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ServiceUnit {
                code: r.get(0)?,
                name: r.get(1)?,
                queue_prefix: r.get(2)?,
                built_in: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Changes the facility's name, catchment and time zone (admins only); its code, which
    /// every patient number carries, never changes.
    pub fn update_facility(&mut self, session: &Session, profile: &FacilityProfile) -> Result<()> {
        let updated = Facility::validate(profile)?;
        if updated.code != self.facility.code {
            return Err(StoreError::invalid(
                "facility code",
                format!(
                    "stays {}: every patient number made here carries it",
                    self.facility.code
                ),
            ));
        }
        self.write(session, Action::ManageFacility, |ctx| {
            ctx.tx.execute(
                "UPDATE facility SET name = ?1, region_code = ?2, utc_offset_minutes = ?3
                 WHERE id = 1",
                params![
                    updated.name,
                    updated.region_code,
                    i64::from(updated.zone.hours()) * 60
                ],
            )?;
            ctx.audit(
                "facility.update",
                None,
                &format!(
                    "{} {} {}",
                    updated.name,
                    updated.region_code.as_deref().unwrap_or("-"),
                    updated.zone.abbreviation()
                ),
            )
        })?;
        self.facility = updated;
        Ok(())
    }

    /// Adds one of the facility's own service units (admins only), for example MTBS or TB.
    pub fn add_service_unit(&mut self, session: &Session, unit: &ServiceUnit) -> Result<()> {
        let code = unit.code.trim();
        if !(2..=32).contains(&code.len())
            || !code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        {
            return Err(StoreError::invalid(
                "unit code",
                "must be 2 to 32 lower-case letters or '_'",
            ));
        }
        let prefix = unit.queue_prefix.trim();
        if !(1..=2).contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(StoreError::invalid(
                "queue prefix",
                "must be one or two capital letters",
            ));
        }
        let name = required_line(&unit.name, "unit name", 40)?;
        self.write(session, Action::ManageFacility, |ctx| {
            let taken: Option<String> = ctx
                .tx
                .query_row(
                    "SELECT name FROM service_unit WHERE code = ?1 OR queue_prefix = ?2",
                    params![code, prefix],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(existing) = taken {
                return Err(StoreError::AlreadyRecorded {
                    what: "service unit with this code or queue prefix:",
                    key: existing,
                });
            }
            ctx.tx.execute(
                "INSERT INTO service_unit (code, name, queue_prefix, built_in) VALUES (?1, ?2, ?3, 0)",
                params![code, name, prefix],
            )?;
            ctx.audit("unit.add", None, &format!("{code} {prefix} {name}"))
        })
    }
}
