//! The workstations of the LAN: a PC asks to join with its public key, an admin approves
//! it (the Puskesmas's CA issues its certificate in the same transaction), and the server
//! serves it only while its certificate is approved and not revoked.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::{Action, Session};
use crate::{Result, Store, StoreError};

/// The most requests waiting for an admin at once: a stranger on the LAN cannot fill the
/// list.
const MOST_WAITING: i64 = 20;

/// A workstation, as the admin sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workstation {
    /// Its id, shown on the workstation while it waits.
    pub id: String,
    /// The name it asked under ("Loket 1").
    pub name: String,
    /// When it asked, UTC milliseconds.
    pub requested_at: i64,
    /// Who approved it, once approved.
    pub approved_by: Option<String>,
    /// Its certificate (DER), once approved.
    pub certificate: Option<Vec<u8>>,
    /// Whether it was revoked.
    pub revoked: bool,
    /// Its emergency series (the letter of the tickets it gives while the server is away),
    /// once approved.
    pub emergency_series: Option<u8>,
    /// Where it asked from (its address, as the server saw it).
    #[serde(default)]
    pub requested_from: Option<String>,
}

impl Store {
    /// A PC asks to become a workstation; answers the id it waits under. Nothing is
    /// trusted yet: an admin decides. Anyone on the LAN may ask, so a request writes (and
    /// audits) only when it adds one: a key that is no P-256 point, a name another
    /// workstation holds, or a request already made changes nothing.
    pub fn request_workstation(
        &mut self,
        name: &str,
        public_key: &[u8],
        requested_from: &str,
    ) -> Result<String> {
        let name = crate::text::required_line(name, "workstation name", 60)?;
        kartika_card::crypto::PublicKey::from_bytes(public_key)
            .map_err(|_| StoreError::invalid("workstation key", "is not a P-256 public key"))?;
        let id = hex::encode(&Sha256::digest(public_key)[..5]);
        let asked_before: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM workstation WHERE id = ?1)",
            [&id],
            |r| r.get(0),
        )?;
        if asked_before {
            return Ok(id);
        }
        let name_taken: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM workstation WHERE name = ?1 AND revoked_at IS NULL)",
            [&name],
            |r| r.get(0),
        )?;
        if name_taken {
            return Err(StoreError::Conflict(format!(
                "a workstation named \"{name}\" already waits or is approved; choose another name, or ask the admin to revoke the old one"
            )));
        }
        let public_key = public_key.to_vec();
        let requested_from: String = requested_from.chars().take(64).collect();
        self.write_as_system("workstation", move |ctx| {
            let waiting: i64 = ctx.tx.query_row(
                "SELECT COUNT(*) FROM workstation WHERE approved_at IS NULL AND revoked_at IS NULL",
                [],
                |r| r.get(0),
            )?;
            if waiting >= MOST_WAITING {
                return Err(StoreError::Conflict(format!(
                    "{MOST_WAITING} workstations already wait for an admin; approve or refuse them first"
                )));
            }
            let added = ctx.tx.execute(
                "INSERT INTO workstation (id, name, public_key, requested_at, requested_from)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO NOTHING",
                params![id, name, public_key, ctx.now_ms, requested_from],
            )?;
            // Two asking at once with one key: the second adds nothing, and audits nothing.
            if added > 0 {
                ctx.audit(
                    "workstation.requested",
                    None,
                    &format!("{id} {name} from {requested_from}"),
                )?;
            }
            Ok(id)
        })
    }

    /// A workstation by its id, for the PC waiting on it.
    pub fn workstation(&mut self, id: &str) -> Result<Workstation> {
        self.conn
            .query_row(&format!("{SELECT} WHERE id = ?1"), [id], workstation_row)
            .optional()?
            .ok_or_else(|| StoreError::not_found("workstation", id))
    }

    /// Every workstation, newest request first.
    pub fn list_workstations(&mut self, session: &Session) -> Result<Vec<Workstation>> {
        self.read(session, Action::ManageStaff, |ctx| {
            let mut statement = ctx
                .tx
                .prepare(&format!("{SELECT} ORDER BY requested_at DESC"))?;
            let rows = statement.query_map([], workstation_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// An admin approves a workstation: `issue` makes its certificate (DER) from its name
    /// and public key, and the certificate is kept in the same transaction.
    pub fn approve_workstation(
        &mut self,
        session: &Session,
        id: &str,
        issue: impl FnOnce(&str, &[u8]) -> std::result::Result<Vec<u8>, String>,
    ) -> Result<Workstation> {
        self.write(session, Action::ManageStaff, |ctx| {
            let (name, public_key, approved): (String, Vec<u8>, Option<i64>) = ctx
                .tx
                .query_row(
                    "SELECT name, public_key, approved_at FROM workstation
                     WHERE id = ?1 AND revoked_at IS NULL",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?
                .ok_or_else(|| StoreError::not_found("workstation", id))?;
            if approved.is_some() {
                return Err(StoreError::Conflict(format!(
                    "workstation {id} is already approved"
                )));
            }
            let certificate = issue(&name, &public_key).map_err(StoreError::Damaged)?;
            let fingerprint: [u8; 32] = Sha256::digest(&certificate).into();
            let series: Option<i64> = ctx.tx.query_row(
                "WITH RECURSIVE n(s) AS (SELECT 1 UNION ALL SELECT s + 1 FROM n WHERE s < ?1)
                 SELECT min(s) FROM n WHERE s NOT IN (SELECT emergency_series FROM workstation
                     WHERE emergency_series IS NOT NULL AND revoked_at IS NULL)",
                [i64::from(crate::EMERGENCY_SERIES)],
                |r| r.get(0),
            )?;
            let Some(series) = series else {
                return Err(StoreError::Conflict(format!(
                    "{} workstations are approved already; revoke one first",
                    crate::EMERGENCY_SERIES
                )));
            };
            ctx.tx.execute(
                "UPDATE workstation SET approved_at = ?2, approved_by = ?3, certificate = ?4,
                 fingerprint = ?5, emergency_series = ?6 WHERE id = ?1",
                params![
                    id,
                    ctx.now_ms,
                    ctx.actor,
                    certificate,
                    fingerprint.as_slice(),
                    series
                ],
            )?;
            ctx.audit("workstation.approved", None, &format!("{id} {name}"))?;
            Ok(())
        })?;
        self.workstation(id)
    }

    /// An admin revokes a workstation (stolen, replaced): from now on the server refuses
    /// its certificate.
    pub fn revoke_workstation(&mut self, session: &Session, id: &str) -> Result<()> {
        self.write(session, Action::ManageStaff, |ctx| {
            let changed = ctx.tx.execute(
                "UPDATE workstation SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, ctx.now_ms],
            )?;
            if changed == 0 {
                return Err(StoreError::not_found("workstation", id));
            }
            // The sessions opened on it end with it.
            let fingerprint: Option<Vec<u8>> = ctx.tx.query_row(
                "SELECT fingerprint FROM workstation WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?;
            if let Some(fingerprint) = fingerprint.and_then(|f| <[u8; 32]>::try_from(f).ok()) {
                ctx.tx.execute(
                    "DELETE FROM staff_session WHERE source = ?1",
                    [workstation_source(&fingerprint)],
                )?;
            }
            ctx.audit("workstation.revoked", None, id)
        })
    }

    /// The emergency series of the approved, unrevoked workstation whose certificate has
    /// this fingerprint, if it has one.
    pub fn workstation_series(&mut self, fingerprint: &[u8; 32]) -> Result<Option<u8>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT emergency_series FROM workstation WHERE fingerprint = ?1 AND revoked_at IS NULL",
            )?
            .query_row([fingerprint.as_slice()], |r| r.get::<_, Option<u8>>(0))
            .optional()?
            .flatten())
    }

    /// Whether the certificate with this SHA-256 belongs to an approved workstation that
    /// is not revoked.
    pub fn workstation_allowed(&mut self, fingerprint: &[u8; 32]) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT 1 FROM workstation WHERE fingerprint = ?1 AND revoked_at IS NULL",
            )?
            .query_row([fingerprint.as_slice()], |_| Ok(()))
            .optional()?
            .is_some())
    }
}

/// Where a login from the workstation whose certificate has this SHA-256 comes from, as
/// wrong passwords and sessions are kept.
pub fn workstation_source(fingerprint: &[u8; 32]) -> String {
    format!("workstation {}", hex::encode(&fingerprint[..8]))
}

const SELECT: &str = "SELECT id, name, requested_at, approved_by, certificate, revoked_at,
                      emergency_series, requested_from FROM workstation";

fn workstation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Workstation> {
    Ok(Workstation {
        id: r.get(0)?,
        name: r.get(1)?,
        requested_at: r.get(2)?,
        approved_by: r.get(3)?,
        certificate: r.get(4)?,
        revoked: r.get::<_, Option<i64>>(5)?.is_some(),
        emergency_series: r.get(6)?,
        requested_from: r.get(7)?,
    })
}
