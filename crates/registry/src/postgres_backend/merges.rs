//! Merge proposals and links in the PostgreSQL registry (see [`crate::merges`]).

use std::collections::BTreeMap;

use kartika_protocol::{
    LikelySame, MergeBoard, MergeCandidate, MergeProposal, ProposalState, ProposeMerge,
};
use postgres::{Client, Row, Transaction};

use super::log_access;
use crate::backend::{Node, OPERATOR};
use crate::merges::{
    check_decision, check_proposal, link_payload, Decision, MergeSide, PairFacts, Proposing,
};
use crate::{now_millis, RegistryError, Result};

const PROPOSAL: &str = crate::merges::PROPOSAL_SELECT;

fn proposal_row(r: &Row) -> MergeProposal {
    let state: String = r.get(7);
    MergeProposal {
        id: r.get(0),
        survivor: r.get(1),
        survivor_facility: r.get(2),
        retired: r.get(3),
        retired_facility: r.get(4),
        proposed_by: r.get(5),
        proposed_at: r.get(6),
        state: ProposalState::parse(&state).unwrap_or(ProposalState::Declined),
        decided_by: r.get(8),
        decided_at: r.get(9),
    }
}

/// The pairs flagged for `node` and the proposals naming its records; the access log
/// names the other Puskesmas's records it listed.
pub(super) fn board(client: &mut Client, node: &Node) -> Result<MergeBoard> {
    let mut tx = client.transaction()?;
    let proposals: Vec<MergeProposal> = tx
        .query(
            &format!(
                "{PROPOSAL} WHERE s.facility = $1 OR r.facility = $1
                 ORDER BY m.state IN ('proposed', 'accepted') DESC, m.proposed_at DESC LIMIT 200"
            ),
            &[&node.id],
        )?
        .iter()
        .map(proposal_row)
        .collect();
    let mut found: BTreeMap<(String, String), MergeCandidate> = BTreeMap::new();
    for (column, reason) in [
        ("person_key", LikelySame::NameBirthSex),
        ("nik", LikelySame::Nik),
    ] {
        let sql = format!(
            "SELECT mine.patient_number, other.patient_number, other.facility
             FROM patient mine JOIN patient other
               ON other.{column} = mine.{column} AND other.facility <> mine.facility
             WHERE mine.facility = $1 AND mine.{column} IS NOT NULL"
        );
        for row in tx.query(&sql, &[&node.id])? {
            let candidate = MergeCandidate {
                patient: row.get(0),
                other: row.get(1),
                other_facility: row.get(2),
                reason,
            };
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
        log_access(
            &mut tx,
            &node.id,
            "/v1/merges",
            &said,
            &others,
            now_millis(),
        )?;
    }
    tx.commit()?;
    Ok(board)
}

fn side(tx: &mut Transaction<'_>, number: &str, besides: &str) -> Result<MergeSide> {
    let (owner, nik) = tx
        .query_opt(
            "SELECT facility, nik FROM patient WHERE patient_number = $1",
            &[&number],
        )?
        .map_or((None, None), |r| (Some(r.get(0)), r.get(1)));
    let linked_into = tx
        .query_opt(
            "SELECT survivor FROM merge_proposal
             WHERE retired = $1 AND state = 'accepted' AND id <> $2 LIMIT 1",
            &[&number, &besides],
        )?
        .map(|r| r.get(0));
    Ok(MergeSide {
        number: number.to_owned(),
        owner,
        nik,
        linked_into,
    })
}

/// The facts of a pair, with both records locked until the transaction ends: two
/// decisions that could contradict each other always share a record, so they take turns.
fn pair_facts(
    tx: &mut Transaction<'_>,
    survivor: &str,
    retired: &str,
    besides: &str,
) -> Result<PairFacts> {
    tx.execute(
        "SELECT 1 FROM patient WHERE patient_number IN ($1, $2) ORDER BY patient_number
         FOR UPDATE",
        &[&survivor, &retired],
    )?;
    let between = tx
        .query_opt(
            &format!(
                "{PROPOSAL} WHERE m.state IN ('proposed', 'accepted') AND m.id <> $3
                   AND ((m.survivor = $1 AND m.retired = $2)
                        OR (m.survivor = $2 AND m.retired = $1))
                 ORDER BY m.proposed_at DESC LIMIT 1"
            ),
            &[&survivor, &retired, &besides],
        )?
        .map(|r| proposal_row(&r));
    Ok(PairFacts {
        survivor: side(tx, survivor, besides)?,
        retired: side(tx, retired, besides)?,
        between,
    })
}

fn proposal(tx: &mut Transaction<'_>, id: &str) -> Result<MergeProposal> {
    tx.query_opt(&format!("{PROPOSAL} WHERE m.id = $1"), &[&id])?
        .map(|r| proposal_row(&r))
        .ok_or_else(|| RegistryError::NotFound(format!("there is no merge proposal {id}")))
}

/// Stores `node`'s proposal (or answers with the same one made before); two records of
/// its own are linked at once.
pub(super) fn propose(
    client: &mut Client,
    node: &Node,
    ask: &ProposeMerge,
) -> Result<MergeProposal> {
    let mut tx = client.transaction()?;
    let facts = pair_facts(&mut tx, &ask.survivor, &ask.retired, "")?;
    let (id, own) = match check_proposal(node, ask, &facts)? {
        Proposing::Existing(existing) => return Ok(existing),
        Proposing::New { own } => (uuid::Uuid::now_v7().to_string(), own),
    };
    let now = now_millis();
    tx.execute(
        "INSERT INTO merge_proposal (id, survivor, retired, proposed_by, proposed_at, state)
         VALUES ($1, $2, $3, $4, $5, 'proposed')",
        &[&id, &ask.survivor, &ask.retired, &node.id, &now],
    )?;
    if own {
        let proposed = proposal(&mut tx, &id)?;
        settle(&mut tx, &proposed, ProposalState::Accepted, &node.id, now)?;
    }
    let stored = proposal(&mut tx, &id)?;
    tx.commit()?;
    Ok(stored)
}

/// Accepts, declines or undoes a proposal (see the SQLite backend's `decide`).
pub(super) fn decide(
    client: &mut Client,
    node: &Node,
    id: &str,
    decision: Decision,
) -> Result<MergeProposal> {
    let mut tx = client.transaction()?;
    let current = proposal(&mut tx, id)?;
    let facts = pair_facts(&mut tx, &current.survivor, &current.retired, id)?;
    // Read again under the pair's lock: another decision may have come first.
    let current = proposal(&mut tx, id)?;
    let Some(state) = check_decision(node, &current, decision, &facts)? else {
        return Ok(current);
    };
    settle(&mut tx, &current, state, &node.id, now_millis())?;
    let stored = proposal(&mut tx, id)?;
    tx.commit()?;
    Ok(stored)
}

/// Takes `proposal` to `state` by `by` (see the SQLite backend's `settle`).
fn settle(
    tx: &mut Transaction<'_>,
    proposal: &MergeProposal,
    state: ProposalState,
    by: &str,
    now: i64,
) -> Result<()> {
    tx.execute(
        "UPDATE merge_proposal SET state = $2, decided_by = $3, decided_at = $4 WHERE id = $1",
        &[&proposal.id, &state.as_str(), &by, &now],
    )?;
    if state == ProposalState::Declined {
        return Ok(());
    }
    let linked = state == ProposalState::Accepted;
    let payload = link_payload(proposal, linked, by, now);
    for number in [&proposal.survivor, &proposal.retired] {
        tx.execute(
            "INSERT INTO change (change_id, facility, kind, record_id, patient_number,
                payload, received_at)
             VALUES ($1, $2, 'link', $3, $4, $5, $6)",
            &[
                &&uuid::Uuid::now_v7().as_bytes()[..],
                &OPERATOR,
                &proposal.id,
                number,
                &payload,
                &now,
            ],
        )?;
    }
    if linked {
        tx.execute(
            "INSERT INTO patient_seen (node, patient_number)
             SELECT s.node, n FROM patient_seen s, unnest(ARRAY[$1, $2]::text[]) AS n
             WHERE s.patient_number IN ($1, $2)
             ON CONFLICT DO NOTHING",
            &[&proposal.survivor, &proposal.retired],
        )?;
    }
    Ok(())
}

/// The links in force that name `number`: (survivor, retired).
pub(super) fn links_of(client: &mut Client, number: &str) -> Result<Vec<(String, String)>> {
    Ok(client
        .query(
            "SELECT survivor, retired FROM merge_proposal
             WHERE state = 'accepted' AND (survivor = $1 OR retired = $1) ORDER BY proposed_at",
            &[&number],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// `number` and every record linked to it, directly or through another link.
pub(super) fn one_person(tx: &mut Transaction<'_>, number: &str) -> Result<Vec<String>> {
    Ok(tx
        .query(
            "WITH RECURSIVE person(n) AS (
                 SELECT $1::text
                 UNION SELECT CASE WHEN m.survivor = p.n THEN m.retired ELSE m.survivor END
                 FROM merge_proposal m JOIN person p ON m.survivor = p.n OR m.retired = p.n
                 WHERE m.state = 'accepted')
             SELECT n FROM person",
            &[&number],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect())
}
