//! What staff do with the outside systems that the store does not hold but must answer
//! for: setting BPJS up, and each look at a member's BPJS status (who looked at whom).

use crate::access::{Action, Session};
use crate::{Result, Store};

/// A step with an outside system, for the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutsideStep {
    /// An admin set BPJS up (its addresses, the consumer, the secrets beside the store).
    BpjsSetUp {
        /// P-Care's base address.
        pcare_url: String,
    },
    /// P-Care was asked about a member: by card or NIK (only its last four digits kept).
    BpjsMemberChecked {
        /// "card" or "NIK".
        by: &'static str,
        /// The number's last four digits.
        ending: String,
    },
}

impl OutsideStep {
    /// A look at the member numbered `number` (a card number or a NIK, as `by` says):
    /// only its last four digits are kept.
    pub fn member_checked(by: &'static str, number: &str) -> Self {
        let skip = number.chars().count().saturating_sub(4);
        Self::BpjsMemberChecked {
            by,
            ending: number.chars().skip(skip).collect(),
        }
    }
}

impl Store {
    /// Records `step` in the audit log, after checking the session may take it.
    pub fn note_outside(&mut self, session: &Session, step: &OutsideStep) -> Result<()> {
        let (action, name, detail) = match step {
            OutsideStep::BpjsSetUp { pcare_url } => {
                (Action::ManageFacility, "bpjs.setup", pcare_url.clone())
            }
            OutsideStep::BpjsMemberChecked { by, ending } => (
                Action::ReadPatients,
                "bpjs.peserta",
                format!("by {by} …{ending}"),
            ),
        };
        self.write(session, action, |ctx| ctx.audit(name, None, &detail))
    }
}

/// The codes BPJS knows this Puskesmas's units and staff by.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BpjsCodes {
    /// Each unit's P-Care kdPoli: (unit code, kdPoli).
    pub units: Vec<(String, String)>,
    /// Each nurse's or doctor's P-Care kdDokter: (username, kdDokter).
    pub staff: Vec<(String, String)>,
}

/// What a unit or a staff member is to BPJS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BpjsCode {
    /// A unit's kdPoli.
    Unit {
        /// The unit's code here.
        unit: String,
        /// P-Care's code.
        kd_poli: String,
    },
    /// A nurse's or doctor's kdDokter.
    Staff {
        /// The account.
        username: String,
        /// P-Care's code.
        kd_dokter: String,
    },
}

impl Store {
    /// Keeps the code BPJS knows a unit or a staff member by (admins only; audited).
    pub fn set_bpjs_code(&mut self, session: &Session, code: &BpjsCode) -> Result<BpjsCodes> {
        self.write(session, Action::ManageFacility, |ctx| {
            let (sql, key, value, what) = match code {
                BpjsCode::Unit { unit, kd_poli } => (
                    "INSERT INTO bpjs_unit_code (unit_code, kd_poli) VALUES (?1, ?2)
                     ON CONFLICT (unit_code) DO UPDATE SET kd_poli = excluded.kd_poli",
                    unit,
                    kd_poli,
                    "unit",
                ),
                BpjsCode::Staff {
                    username,
                    kd_dokter,
                } => (
                    "INSERT INTO bpjs_staff_code (username, kd_dokter) VALUES (?1, ?2)
                     ON CONFLICT (username) DO UPDATE SET kd_dokter = excluded.kd_dokter",
                    username,
                    kd_dokter,
                    "staff",
                ),
            };
            let known: bool = ctx.tx.query_row(
                match what {
                    "unit" => "SELECT EXISTS (SELECT 1 FROM service_unit WHERE code = ?1)",
                    _ => "SELECT EXISTS (SELECT 1 FROM staff WHERE username = ?1)",
                },
                [key],
                |r| r.get(0),
            )?;
            if !known {
                return Err(crate::StoreError::not_found(
                    if what == "unit" {
                        "unit"
                    } else {
                        "staff member"
                    },
                    key.clone(),
                ));
            }
            ctx.tx.prepare_cached(sql)?.execute([key, value])?;
            ctx.audit("bpjs.code", None, &format!("{what} {key} = {value}"))?;
            codes(ctx)
        })
    }

    /// The codes kept (any role: the senders and the screens read them).
    pub fn bpjs_codes(&mut self, session: &Session) -> Result<BpjsCodes> {
        self.read(session, Action::ReadPatients, codes)
    }
}

fn codes(ctx: &crate::Ctx<'_>) -> Result<BpjsCodes> {
    let pairs = |sql: &str| -> Result<Vec<(String, String)>> {
        let mut stmt = ctx.tx.prepare_cached(sql)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    };
    Ok(BpjsCodes {
        units: pairs("SELECT unit_code, kd_poli FROM bpjs_unit_code ORDER BY unit_code")?,
        staff: pairs("SELECT username, kd_dokter FROM bpjs_staff_code ORDER BY username")?,
    })
}
