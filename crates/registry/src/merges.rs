//! One person, one record across Puskesmas: the decisions both backends make on a merge
//! proposal, on facts each gathers its own way. The owners of two records agree that they
//! are one person (one proposes, the other accepts); the registry then keeps both records
//! and a link, which travels to every node that holds either as a `link` change. Either
//! owner may undo the link; no node acts on a record it does not own. Two records of one
//! Puskesmas, merged in its own admin room, are told to the registry the same way and
//! linked at once (there is nobody else to ask), so every node holding either follows.

pub use kartika_protocol::MergeDecision as Decision;
use kartika_protocol::{MergeProposal, PatientLink, ProposalState, ProposeMerge};

use crate::backend::Node;
use crate::{RegistryError, Result};

/// A proposal with its records' owners, as both backends read it (columns in the order
/// of [`MergeProposal`]'s fields); each adds its own `WHERE`.
pub const PROPOSAL_SELECT: &str = "SELECT m.id, m.survivor, s.facility, m.retired, r.facility,
        m.proposed_by, m.proposed_at, m.state, m.decided_by, m.decided_at
    FROM merge_proposal m JOIN patient s ON s.patient_number = m.survivor
    JOIN patient r ON r.patient_number = m.retired";

/// A record as the registry knows it, for a merge.
#[derive(Clone, Debug, Default)]
pub struct MergeSide {
    /// The record's number.
    pub number: String,
    /// Its owner; `None` when the registry does not know the record.
    pub owner: Option<String>,
    /// Its NIK, if any.
    pub nik: Option<String>,
    /// The record it is linked into by another accepted proposal, if it is.
    pub linked_into: Option<String>,
}

/// What a proposal's checks read: both records, and an open or accepted proposal between
/// the two already, if there is one.
#[derive(Clone, Debug, Default)]
pub struct PairFacts {
    /// The record that would stand for both.
    pub survivor: MergeSide,
    /// The record that would be retired into it.
    pub retired: MergeSide,
    /// A proposal between the two that is proposed or accepted.
    pub between: Option<MergeProposal>,
}

/// What to do with a proposal asked for.
#[derive(Debug)]
pub enum Proposing {
    /// The same proposal was made before (a resend): answer with it, change nothing.
    Existing(MergeProposal),
    /// Store a new one.
    New {
        /// Both records are the proposer's (a merge made in its own admin room, told to
        /// the registry so that every node holding either follows): accepted at once.
        own: bool,
    },
}

fn unknown(number: &str) -> RegistryError {
    RegistryError::NotFound(format!(
        "patient {number} is unknown to the registry; its Puskesmas has not pushed it yet"
    ))
}

/// Checks `node`'s proposal `ask` against what is stored.
pub fn check_proposal(node: &Node, ask: &ProposeMerge, facts: &PairFacts) -> Result<Proposing> {
    if ask.survivor == ask.retired {
        return Err(RegistryError::Invalid(
            "choose two different records to merge".into(),
        ));
    }
    let survivor_owner = facts
        .survivor
        .owner
        .clone()
        .ok_or_else(|| unknown(&ask.survivor))?;
    let retired_owner = facts
        .retired
        .owner
        .clone()
        .ok_or_else(|| unknown(&ask.retired))?;
    if survivor_owner != node.id && retired_owner != node.id {
        return Err(RegistryError::Forbidden(format!(
            "node {} owns neither patient {} (of {survivor_owner}) nor {} (of {retired_owner}); only their Puskesmas may propose merging them",
            node.id, ask.survivor, ask.retired
        )));
    }
    if let (Some(a), Some(b)) = (&facts.survivor.nik, &facts.retired.nik) {
        if a != b {
            return Err(RegistryError::Invalid(format!(
                "patients {} and {} have different NIKs: they are two people, or one NIK is wrong; correct it first",
                ask.survivor, ask.retired
            )));
        }
    }
    let own = survivor_owner == retired_owner;
    if let Some(between) = &facts.between {
        let same_way = between.survivor == ask.survivor && between.proposed_by == node.id;
        let asked_before = match between.state {
            ProposalState::Proposed => true,
            // A merge made here, told again after its answer was lost.
            ProposalState::Accepted => own,
            ProposalState::Declined | ProposalState::Undone => false,
        };
        if same_way && asked_before {
            return Ok(Proposing::Existing(between.clone()));
        }
        return Err(RegistryError::Conflict(match between.state {
            ProposalState::Accepted => format!(
                "patients {} and {} are linked already ({} stands for both)",
                ask.survivor, ask.retired, between.survivor
            ),
            _ => format!(
                "{} proposed merging these two already ({} to stand for both); accept or decline that proposal",
                between.proposed_by, between.survivor
            ),
        }));
    }
    check_link(&facts.survivor, &facts.retired)?;
    Ok(Proposing::New { own })
}

/// A link of `retired` into `survivor` may be made now: neither is retired into a third.
fn check_link(survivor: &MergeSide, retired: &MergeSide) -> Result<()> {
    if let Some(into) = &retired.linked_into {
        return Err(RegistryError::Conflict(format!(
            "patient {} is linked into {into} already; undo that link first",
            retired.number
        )));
    }
    if let Some(into) = &survivor.linked_into {
        return Err(RegistryError::Conflict(format!(
            "patient {} is linked into {into}; propose {into} to stand for both",
            survivor.number
        )));
    }
    Ok(())
}

/// The state `decision` by `node` takes `proposal` to, or `None` when it is there already
/// (a resend): no change and no second link. `facts` are the proposal's records now.
pub fn check_decision(
    node: &Node,
    proposal: &MergeProposal,
    decision: Decision,
    facts: &PairFacts,
) -> Result<Option<ProposalState>> {
    let owns = proposal.survivor_facility == node.id || proposal.retired_facility == node.id;
    if !owns {
        return Err(RegistryError::Forbidden(format!(
            "node {} owns neither record of proposal {}; only {} and {} decide on it",
            node.id, proposal.id, proposal.survivor_facility, proposal.retired_facility
        )));
    }
    let state = proposal.state;
    let answered = |word: &str| {
        RegistryError::Conflict(format!(
            "proposal {} was {word} by {} already",
            proposal.id,
            proposal.decided_by.as_deref().unwrap_or("its other owner")
        ))
    };
    match (decision, state) {
        (Decision::Accept, ProposalState::Proposed) => {
            if proposal.proposed_by == node.id {
                return Err(RegistryError::Forbidden(format!(
                    "{} proposed this merge; the other Puskesmas accepts it",
                    node.id
                )));
            }
            check_link(&facts.survivor, &facts.retired)?;
            Ok(Some(ProposalState::Accepted))
        }
        (Decision::Accept, ProposalState::Accepted)
        | (Decision::Decline, ProposalState::Declined)
        | (Decision::Undo, ProposalState::Undone) => Ok(None),
        (Decision::Decline, ProposalState::Proposed) => Ok(Some(ProposalState::Declined)),
        (Decision::Undo, ProposalState::Accepted) => {
            if let Some(into) = &facts.survivor.linked_into {
                return Err(RegistryError::Conflict(format!(
                    "patient {} was linked into {into} after; undo that link first",
                    proposal.survivor
                )));
            }
            Ok(Some(ProposalState::Undone))
        }
        (Decision::Accept | Decision::Undo, ProposalState::Declined) => Err(answered("declined")),
        (Decision::Accept | Decision::Decline, ProposalState::Undone) => Err(answered("undone")),
        (Decision::Decline, ProposalState::Accepted) => Err(RegistryError::Conflict(format!(
            "proposal {} was accepted: the records are linked; undo the link instead",
            proposal.id
        ))),
        (Decision::Undo, ProposalState::Proposed) => Err(RegistryError::Conflict(format!(
            "proposal {} has not been accepted; decline it instead",
            proposal.id
        ))),
    }
}

/// The payload of the `link` change an acceptance (or an undo) travels as.
pub fn link_payload(proposal: &MergeProposal, linked: bool, by: &str, at: i64) -> String {
    serde_json::to_string(&PatientLink {
        proposal: proposal.id.clone(),
        survivor: proposal.survivor.clone(),
        retired: proposal.retired.clone(),
        linked,
        by: by.to_owned(),
        at,
    })
    .unwrap_or_default()
}

/// The board a node sees: its flagged pairs, less those a proposal or a link already
/// names, and the proposals.
pub fn board(
    candidates: Vec<kartika_protocol::MergeCandidate>,
    proposals: Vec<MergeProposal>,
) -> kartika_protocol::MergeBoard {
    let settled = |a: &str, b: &str| {
        proposals.iter().any(|p| {
            matches!(p.state, ProposalState::Proposed | ProposalState::Accepted)
                && ((p.survivor == a && p.retired == b) || (p.survivor == b && p.retired == a))
        })
    };
    let candidates = candidates
        .into_iter()
        .filter(|c| !settled(&c.patient, &c.other))
        .collect();
    kartika_protocol::MergeBoard {
        candidates,
        proposals,
    }
}
