//! One person across Puskesmas: the links the registry hands every node that holds
//! either of two records, once their owners agreed (one proposed, the other accepted).
//!
//! Unlike a merge within this Puskesmas nothing moves: each record stays as its Puskesmas
//! keeps it. While a link is in force and both records are held here, the retired record
//! points to the survivor (`patient.merged_into`), so a card, a search or a visit naming
//! either finds the survivor, and the history reads the visits of both. An undo clears the
//! pointer; what was registered for the survivor meanwhile stays with it.

use kartika_protocol::{Change, PatientLink};
use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::{Ctx, Result, Store, StoreError};

/// The facility code the registry's own changes carry.
const REGISTRY: &str = "registry";

/// A link in force, as this store follows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientLinkRecord {
    /// The registry's proposal.
    pub proposal: String,
    /// The record that stands for both.
    pub survivor: String,
    /// The record linked into it.
    pub retired: String,
    /// The Puskesmas that accepted it.
    pub by: String,
    /// When, milliseconds since 1970 UTC.
    pub at_ms: i64,
}

/// Follows a pulled link (or its undo); returns the survivor's number for the audit log.
pub(crate) fn apply_link(
    ctx: &Ctx<'_>,
    change: &Change,
    link: &PatientLink,
) -> Result<Option<String>> {
    if change.facility != REGISTRY {
        return Err(StoreError::invalid(
            "link",
            format!(
                "comes from {}; only the registry links two Puskesmas's records",
                change.facility
            ),
        ));
    }
    if link.proposal != change.record_id || link.survivor == link.retired {
        return Err(StoreError::invalid(
            "link",
            "names another proposal than its record, or one record twice",
        ));
    }
    // The registry's order decides; a history fetched again brings older changes, which
    // must not undo a newer one.
    let changed = ctx
        .tx
        .prepare_cached(
            "INSERT INTO patient_link (proposal_id, survivor_number, retired_number, linked,
                by_facility, changed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (proposal_id) DO UPDATE SET linked = excluded.linked,
                by_facility = excluded.by_facility, changed_at = excluded.changed_at
             WHERE excluded.changed_at > patient_link.changed_at
                OR (excluded.changed_at = patient_link.changed_at AND excluded.linked = 0)",
        )?
        .execute(params![
            link.proposal,
            link.survivor,
            link.retired,
            link.linked,
            link.by,
            link.at
        ])?;
    if changed == 0 {
        return Ok(None);
    }
    if !link.linked {
        // Back to two records, unless another link (or a merge here) still retires it.
        ctx.tx
            .prepare_cached(
                "UPDATE patient SET merged_into = NULL
                 WHERE patient_number = ?1
                   AND merged_into = (SELECT id FROM patient WHERE patient_number = ?2)
                   AND NOT EXISTS (SELECT 1 FROM patient_link
                                   WHERE retired_number = ?1 AND linked = 1)
                   AND NOT EXISTS (SELECT 1 FROM patient_merge m
                                   WHERE m.retired_id = patient.id AND m.undone_at IS NULL)",
            )?
            .execute(params![link.retired, link.survivor])?;
    }
    let what = if link.linked {
        "patient.linked"
    } else {
        "patient.unlinked"
    };
    ctx.audit(
        what,
        Some(&link.survivor),
        &format!(
            "{} by {} (registry proposal {})",
            link.retired, link.by, link.proposal
        ),
    )?;
    Ok(Some(link.survivor.clone()))
}

/// Points each retired record of a link in force to its survivor, once both are held:
/// after a page that brought a link, or the record a link was waiting for. A link that is
/// a merge made here, told to the registry, is left to the merge (its undo here comes
/// before the registry's).
pub(crate) fn settle_links(ctx: &Ctx<'_>) -> Result<()> {
    ctx.tx
        .prepare_cached(
            "WITH others AS (
                 SELECT l.retired_number, s.id AS survivor_id, l.changed_at
                 FROM patient_link l JOIN patient s ON s.patient_number = l.survivor_number
                 WHERE l.linked = 1 AND l.proposal_id NOT IN (
                     SELECT registry_proposal FROM patient_merge
                     WHERE registry_proposal IS NOT NULL))
             UPDATE patient SET merged_into = (
                 SELECT survivor_id FROM others WHERE retired_number = patient.patient_number
                 ORDER BY changed_at DESC LIMIT 1)
             WHERE merged_into IS NULL
               AND patient_number IN (SELECT retired_number FROM others)",
        )?
        .execute([])?;
    Ok(())
}

/// A merge made here that the registry has not been told of yet, or its undo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeToTell {
    /// The merge.
    pub merge: i64,
    /// The record kept.
    pub survivor: String,
    /// The record retired into it.
    pub retired: String,
    /// For an undo: the registry's proposal that linked them.
    pub undo: Option<String>,
}

/// What the registry answered a merge told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeTold {
    /// Linked, as this proposal.
    Linked(String),
    /// The link undone.
    Unlinked,
    /// Refused, with the registry's reason: not told again.
    Refused(String),
}

impl Store {
    /// The merges made here, and their undos, the registry has still to learn, oldest
    /// first (an undo of a merge it never learnt is nothing to tell).
    pub fn merges_to_tell(&self) -> Result<Vec<MergeToTell>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.id, s.patient_number, r.patient_number,
                 CASE WHEN m.undone_at IS NULL THEN NULL ELSE m.registry_proposal END
             FROM patient_merge m JOIN patient s ON s.id = m.survivor_id
             JOIN patient r ON r.id = m.retired_id
             WHERE m.tell_refused IS NULL
               AND ((m.told_at IS NULL AND m.undone_at IS NULL)
                    OR (m.told_at IS NOT NULL AND m.undone_at IS NOT NULL
                        AND m.undo_told_at IS NULL))
             ORDER BY m.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(MergeToTell {
                merge: r.get(0)?,
                survivor: r.get(1)?,
                retired: r.get(2)?,
                undo: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Keeps what the registry answered a merge (or its undo) told.
    pub fn record_merge_told(&mut self, merge: i64, told: &MergeTold) -> Result<()> {
        self.write_as_system(crate::exchange::SYNC_ACTOR, |ctx| {
            let tx = ctx.tx;
            match told {
                MergeTold::Linked(proposal) => tx
                    .prepare_cached(
                        "UPDATE patient_merge SET told_at = ?2, registry_proposal = ?3
                         WHERE id = ?1",
                    )?
                    .execute(params![merge, ctx.now_ms, proposal])?,
                MergeTold::Unlinked => tx
                    .prepare_cached("UPDATE patient_merge SET undo_told_at = ?2 WHERE id = ?1")?
                    .execute(params![merge, ctx.now_ms])?,
                MergeTold::Refused(reason) => tx
                    .prepare_cached("UPDATE patient_merge SET tell_refused = ?2 WHERE id = ?1")?
                    .execute(params![merge, reason])?,
            };
            if let MergeTold::Refused(reason) = told {
                ctx.audit(
                    "patient.merge_not_linked",
                    None,
                    &format!("merge {merge}: {reason}"),
                )?;
            }
            Ok(())
        })
    }
}

impl Store {
    /// The records that links in force name and this store does not hold yet: the sync
    /// fetches them from the registry, so that one person's history is whole here.
    pub fn linked_records_missing(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT number FROM (
                 SELECT survivor_number AS number FROM patient_link WHERE linked = 1
                 UNION SELECT retired_number FROM patient_link WHERE linked = 1)
             WHERE number NOT IN (SELECT patient_number FROM patient) ORDER BY number",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// The links in force with other Puskesmas's records, newest first (the last hundred); a
/// merge made here is listed with the merges.
pub(crate) fn links_in_force(ctx: &Ctx<'_>) -> Result<Vec<PatientLinkRecord>> {
    let mut stmt = ctx.tx.prepare_cached(
        "SELECT proposal_id, survivor_number, retired_number, by_facility, changed_at
         FROM patient_link WHERE linked = 1 AND proposal_id NOT IN (
             SELECT registry_proposal FROM patient_merge WHERE registry_proposal IS NOT NULL)
         ORDER BY changed_at DESC LIMIT 100",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(PatientLinkRecord {
            proposal: r.get(0)?,
            survivor: r.get(1)?,
            retired: r.get(2)?,
            by: r.get(3)?,
            at_ms: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Store {
    /// Whether `session` may propose, accept, decline or undo a merge with another
    /// Puskesmas's record (admins only), asked before the registry is.
    pub fn check_may_merge(&mut self, session: &crate::Session) -> Result<()> {
        self.read(session, crate::access::Action::MergePatients, |_| Ok(()))
    }

    /// The audit entry of what this Puskesmas's admin did at the registry (`proposed`,
    /// `accepted`, `declined`, `undone`): the link itself arrives with the next pull.
    pub fn audit_registry_merge(
        &mut self,
        session: &crate::Session,
        did: &str,
        proposal: &kartika_protocol::MergeProposal,
    ) -> Result<()> {
        self.write(session, crate::access::Action::MergePatients, |ctx| {
            let own = if proposal.survivor_facility == ctx.facility.code {
                &proposal.survivor
            } else {
                &proposal.retired
            };
            ctx.audit(
                &format!("patient.link_{did}"),
                Some(own),
                &format!(
                    "{} to stand for {} (registry proposal {})",
                    proposal.survivor, proposal.retired, proposal.id
                ),
            )
        })
    }
}
