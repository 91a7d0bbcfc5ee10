//! Merge proposals and links in the SQLite registry (see [`crate::merges`]).

use std::collections::BTreeMap;

use kartika_protocol::{
    LikelySame, MergeBoard, MergeCandidate, MergeProposal, ProposalState, ProposeMerge,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::log_access;
use crate::backend::{Node, OPERATOR};
use crate::merges::{
    check_decision, check_proposal, link_payload, Decision, MergeSide, PairFacts, Proposing,
};
use crate::{now_millis, RegistryError, Result};

const PROPOSAL: &str = crate::merges::PROPOSAL_SELECT;

fn proposal_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MergeProposal> {
    let state: String = r.get(7)?;
    Ok(MergeProposal {
        id: r.get(0)?,
        survivor: r.get(1)?,
        survivor_facility: r.get(2)?,
        retired: r.get(3)?,
        retired_facility: r.get(4)?,
        proposed_by: r.get(5)?,
        proposed_at: r.get(6)?,
        state: ProposalState::parse(&state).unwrap_or(ProposalState::Declined),
        decided_by: r.get(8)?,
        decided_at: r.get(9)?,
    })
}

/// The pairs flagged for `node` and the proposals naming its records; the access log
/// names the other Puskesmas's records it listed.
pub(super) fn board(conn: &mut Connection, node: &Node) -> Result<MergeBoard> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let proposals: Vec<MergeProposal> = tx
        .prepare_cached(&format!(
            "{PROPOSAL} WHERE s.facility = ?1 OR r.facility = ?1
             ORDER BY m.state IN ('proposed', 'accepted') DESC, m.proposed_at DESC LIMIT 200"
        ))?
        .query_map([&node.id], proposal_row)?
        .collect::<rusqlite::Result<_>>()?;
    let mut found: BTreeMap<(String, String), MergeCandidate> = BTreeMap::new();
    for (column, reason) in [
        ("person_key", LikelySame::NameBirthSex),
        ("nik", LikelySame::Nik),
    ] {
        let sql = format!(
            "SELECT mine.patient_number, other.patient_number, other.facility
             FROM patient mine JOIN patient other
               ON other.{column} = mine.{column} AND other.facility != mine.facility
             WHERE mine.facility = ?1 AND mine.{column} IS NOT NULL"
        );
        let mut stmt = tx.prepare_cached(&sql)?;
        let rows = stmt.query_map([&node.id], |r| {
            Ok(MergeCandidate {
                patient: r.get(0)?,
                other: r.get(1)?,
                other_facility: r.get(2)?,
                reason,
            })
        })?;
        for row in rows {
            let candidate = row?;
            found.insert(
                (candidate.patient.clone(), candidate.other.clone()),
                candidate,
            );
        }
    }
    let board = crate::merges::board(found.into_values().collect(), proposals);
    let others: Vec<&str> = board.candidates.iter().map(|c| c.other.as_str()).collect();
    if !others.is_empty() {
        let said = format!("listed {} possible duplicates", others.len());
        log_access(&tx, &node.id, "/v1/merges", &said, &others, now_millis())?;
    }
    tx.commit()?;
    Ok(board)
}

fn side(tx: &Transaction<'_>, number: &str, besides: &str) -> Result<MergeSide> {
    let (owner, nik) = tx
        .prepare_cached("SELECT facility, nik FROM patient WHERE patient_number = ?1")?
        .query_row([number], |r| Ok((Some(r.get(0)?), r.get(1)?)))
        .optional()?
        .unwrap_or((None, None));
    let linked_into = tx
        .prepare_cached(
            "SELECT survivor FROM merge_proposal
             WHERE retired = ?1 AND state = 'accepted' AND id != ?2 LIMIT 1",
        )?
        .query_row([number, besides], |r| r.get(0))
        .optional()?;
    Ok(MergeSide {
        number: number.to_owned(),
        owner,
        nik,
        linked_into,
    })
}

fn pair_facts(
    tx: &Transaction<'_>,
    survivor: &str,
    retired: &str,
    besides: &str,
) -> Result<PairFacts> {
    let between = tx
        .prepare_cached(&format!(
            "{PROPOSAL} WHERE m.state IN ('proposed', 'accepted') AND m.id != ?3
               AND ((m.survivor = ?1 AND m.retired = ?2) OR (m.survivor = ?2 AND m.retired = ?1))
             ORDER BY m.proposed_at DESC LIMIT 1"
        ))?
        .query_row([survivor, retired, besides], proposal_row)
        .optional()?;
    Ok(PairFacts {
        survivor: side(tx, survivor, besides)?,
        retired: side(tx, retired, besides)?,
        between,
    })
}

fn proposal(tx: &Transaction<'_>, id: &str) -> Result<MergeProposal> {
    tx.prepare_cached(&format!("{PROPOSAL} WHERE m.id = ?1"))?
        .query_row([id], proposal_row)
        .optional()?
        .ok_or_else(|| RegistryError::NotFound(format!("there is no merge proposal {id}")))
}

/// Stores `node`'s proposal (or answers with the same one made before); two records of
/// its own are linked at once.
pub(super) fn propose(
    conn: &mut Connection,
    node: &Node,
    ask: &ProposeMerge,
) -> Result<MergeProposal> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let facts = pair_facts(&tx, &ask.survivor, &ask.retired, "")?;
    let (id, own) = match check_proposal(node, ask, &facts)? {
        Proposing::Existing(existing) => return Ok(existing),
        Proposing::New { own } => (uuid::Uuid::now_v7().to_string(), own),
    };
    let now = now_millis();
    tx.prepare_cached(
        "INSERT INTO merge_proposal (id, survivor, retired, proposed_by, proposed_at, state)
         VALUES (?1, ?2, ?3, ?4, ?5, 'proposed')",
    )?
    .execute(params![id, ask.survivor, ask.retired, node.id, now])?;
    if own {
        let proposed = proposal(&tx, &id)?;
        settle(&tx, &proposed, ProposalState::Accepted, &node.id, now)?;
    }
    let stored = proposal(&tx, &id)?;
    tx.commit()?;
    Ok(stored)
}

/// Accepts, declines or undoes a proposal (see [`settle`]).
pub(super) fn decide(
    conn: &mut Connection,
    node: &Node,
    id: &str,
    decision: Decision,
) -> Result<MergeProposal> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current = proposal(&tx, id)?;
    let facts = pair_facts(&tx, &current.survivor, &current.retired, id)?;
    let Some(state) = check_decision(node, &current, decision, &facts)? else {
        return Ok(current);
    };
    settle(&tx, &current, state, &node.id, now_millis())?;
    let stored = proposal(&tx, id)?;
    tx.commit()?;
    Ok(stored)
}

/// Takes `proposal` to `state` by `by`; an acceptance or an undo travels to every node that
/// holds either record as a `link` change, and an acceptance subscribes each such node to
/// both records.
fn settle(
    tx: &Transaction<'_>,
    proposal: &MergeProposal,
    state: ProposalState,
    by: &str,
    now: i64,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE merge_proposal SET state = ?2, decided_by = ?3, decided_at = ?4 WHERE id = ?1",
    )?
    .execute(params![proposal.id, state.as_str(), by, now])?;
    if state == ProposalState::Declined {
        return Ok(());
    }
    let linked = state == ProposalState::Accepted;
    let payload = link_payload(proposal, linked, by, now);
    for number in [&proposal.survivor, &proposal.retired] {
        tx.prepare_cached(
            "INSERT INTO change (change_id, facility, kind, record_id, patient_number,
                payload, received_at)
             VALUES (?1, ?2, 'link', ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            &uuid::Uuid::now_v7().as_bytes()[..],
            OPERATOR,
            proposal.id,
            number,
            payload,
            now
        ])?;
    }
    if linked {
        tx.prepare_cached(
            "INSERT INTO patient_seen (node, patient_number)
             SELECT s.node, n.column1 FROM patient_seen s CROSS JOIN (VALUES (?1), (?2)) n
             WHERE s.patient_number IN (?1, ?2)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![proposal.survivor, proposal.retired])?;
    }
    Ok(())
}

/// The links in force that name `number`: (survivor, retired).
pub(super) fn links_of(conn: &Connection, number: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT survivor, retired FROM merge_proposal
         WHERE state = 'accepted' AND (survivor = ?1 OR retired = ?1) ORDER BY proposed_at",
    )?;
    let rows = stmt.query_map([number], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// `number` and every record linked to it, directly or through another link.
pub(super) fn one_person(tx: &Transaction<'_>, number: &str) -> Result<Vec<String>> {
    let mut stmt = tx.prepare_cached(
        "WITH RECURSIVE person(n) AS (
             SELECT ?1
             UNION SELECT CASE WHEN m.survivor = p.n THEN m.retired ELSE m.survivor END
             FROM merge_proposal m JOIN person p ON m.survivor = p.n OR m.retired = p.n
             WHERE m.state = 'accepted')
         SELECT n FROM person",
    )?;
    let rows = stmt.query_map([number], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
