//! The registry's wire format, shared by the server (`kartika-registry`) and the clinic
//! side (`kartika-sync`) so neither needs the other's dependencies. Plain serde types;
//! JSON under `/v1`.
#![deny(missing_docs)]

use serde::{Deserialize, Serialize};

/// The most records a push may carry.
pub const MAX_PUSH_RECORDS: usize = 2_000;
/// The most bytes a push body may have, after decompression.
pub const MAX_PUSH_BYTES: usize = 8 * 1024 * 1024;
/// The most changes a pull page holds.
pub const MAX_PAGE: usize = 5_000;

/// What kind of record a change carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A patient's details, whole.
    Patient,
    /// A card and its status.
    Card,
    /// A visit, whole, with its diagnoses.
    Visit,
    /// A card that must no longer be accepted.
    Revocation,
    /// Proof that a patient's card was in the pushing node's reader: sent before the visit
    /// it opened, so a visit to another Puskesmas's patient is accepted even when the tap
    /// happened offline. Never handed on.
    Presence,
    /// Two patients of two Puskesmas are one person, or no longer: made only by the
    /// registry when a merge proposal is accepted or undone ([`PatientLink`]), never pushed.
    Link,
}

impl Kind {
    /// The name used in JSON and SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::Card => "card",
            Self::Visit => "visit",
            Self::Revocation => "revocation",
            Self::Presence => "presence",
            Self::Link => "link",
        }
    }

    /// The kind for its name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "patient" => Some(Self::Patient),
            "card" => Some(Self::Card),
            "visit" => Some(Self::Visit),
            "revocation" => Some(Self::Revocation),
            "presence" => Some(Self::Presence),
            "link" => Some(Self::Link),
            _ => None,
        }
    }
}

/// One change a clinic sends: an outbox row.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PushRecord {
    /// The change's own id (a UUID born in the clinic): pushing it twice stores it once.
    pub id: String,
    /// What it carries.
    pub kind: Kind,
    /// The record it describes: a patient's or visit's id, a card number.
    pub record_id: String,
    /// The record, a JSON object, carried as text: neither side parses and writes it
    /// again on the way.
    pub payload: Box<serde_json::value::RawValue>,
}

/// `POST /v1/push`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PushRequest {
    /// At most [`MAX_PUSH_RECORDS`].
    pub records: Vec<PushRecord>,
}

/// What became of one pushed record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PushOutcome {
    /// Durably stored now.
    Stored,
    /// Stored before (a resend): nothing changed.
    Duplicate,
    /// Not stored, and resending will not help.
    Rejected {
        /// Why, in words an admin can act on.
        reason: String,
    },
}

/// One line of the answer, in the order of the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResult {
    /// The change's id.
    pub id: String,
    /// Its outcome.
    #[serde(flatten)]
    pub outcome: PushOutcome,
}

/// The answer to a push, sent only after the registry committed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// One per record.
    pub results: Vec<PushResult>,
}

/// A change as a clinic pulls it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Change {
    /// The registry's sequence number: the cursor.
    pub seq: i64,
    /// The facility that made the change.
    pub facility: String,
    /// What it carries.
    pub kind: Kind,
    /// The record it describes.
    pub record_id: String,
    /// The record, a JSON object, carried as text: the registry hands on what it stored
    /// without parsing and writing it again.
    pub payload: Box<serde_json::value::RawValue>,
}

/// `GET /v1/changes?after=SEQ&limit=N`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChangePage {
    /// Changes after the cursor, in sequence order.
    pub changes: Vec<Change>,
    /// The cursor to ask with next; equal to the request's when nothing is new.
    pub next_after: i64,
    /// Whether more changes wait after this page.
    pub more: bool,
}

/// An error answer: what went wrong, for a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The message.
    pub error: String,
}

/// The card's answer to a presence challenge (card-application.md §5.1): the body of
/// `POST /v1/patients/{number}/history`, and the payload of a `presence` record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceProof {
    /// The card that answered.
    pub card_number: String,
    /// Its patient.
    pub patient_number: String,
    /// When the host made the challenge, milliseconds since 1970 UTC.
    pub at_ms: i64,
    /// The host's 16 random bytes, as hex.
    pub nonce: String,
    /// The card's DER signature, as hex.
    pub signature: String,
}

/// The node's audit head a clinic hands over with a sync: the registry keeps it and signs
/// a receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    /// The sequence number of the newest audit entry.
    pub seq: i64,
    /// Its chained hash, as hex.
    pub hash: String,
}

/// The registry's signed word that it saw a clinic's audit head: `"KARTIKA-RECEIPT-V1" ||
/// node id || 0x00 || seq (8 bytes big-endian) || hash (32 bytes) || received_at (8 bytes
/// big-endian)`, signed with the registry's receipt key (ECDSA P-256, DER).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReceipt {
    /// The node.
    pub node: String,
    /// The head's sequence number.
    pub seq: i64,
    /// The head's hash, as hex.
    pub hash: String,
    /// When the registry received it, milliseconds since 1970 UTC.
    pub received_at: i64,
    /// The registry's signature, as hex.
    pub signature: String,
    /// The certificate of the registry's receipt key (a 7F21 template signed by the root
    /// every clinic trusts, node id `registry`), as hex.
    pub certificate: String,
}

impl AuditReceipt {
    /// The bytes the registry signs.
    pub fn signed_message(node: &str, seq: i64, hash: &[u8; 32], received_at: i64) -> Vec<u8> {
        let mut message = b"KARTIKA-RECEIPT-V1".to_vec();
        message.extend_from_slice(node.as_bytes());
        message.push(0);
        message.extend_from_slice(&seq.to_be_bytes());
        message.extend_from_slice(hash);
        message.extend_from_slice(&received_at.to_be_bytes());
        message
    }
}

/// Where a proposal to merge two Puskesmas's records of one person stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalState {
    /// Proposed by one owner; the other owner has not answered.
    Proposed,
    /// Accepted: the two records are linked, the survivor stands for both.
    Accepted,
    /// Declined by the other owner: nothing changed.
    Declined,
    /// Accepted once, undone since by either owner: two records again.
    Undone,
}

impl ProposalState {
    /// The name used in JSON and SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Undone => "undone",
        }
    }

    /// The state for its name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Proposed, Self::Accepted, Self::Declined, Self::Undone]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// What an owner does with a merge proposal: `POST /v1/merges/{id}/{decision}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeDecision {
    /// The other owner agrees: the records are linked.
    Accept,
    /// The other owner refuses, or the proposer withdraws: nothing changes.
    Decline,
    /// Either owner takes back an accepted link: two records again.
    Undo,
}

impl MergeDecision {
    /// The word in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Decline => "decline",
            Self::Undo => "undo",
        }
    }

    /// What the proposal was, once decided: `accepted`, `declined`, `undone`.
    pub fn done(self) -> &'static str {
        match self {
            Self::Accept => "accepted",
            Self::Decline => "declined",
            Self::Undo => "undone",
        }
    }

    /// The decision for its word.
    pub fn parse(word: &str) -> Option<Self> {
        [Self::Accept, Self::Decline, Self::Undo]
            .into_iter()
            .find(|d| d.as_str() == word)
    }
}

/// "One person, this one survives": a proposal between the owners of two records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeProposal {
    /// The proposal's id (a UUID the registry gives it).
    pub id: String,
    /// The record that stands for both once accepted.
    pub survivor: String,
    /// Its Puskesmas.
    pub survivor_facility: String,
    /// The record retired into it (kept, and linked).
    pub retired: String,
    /// Its Puskesmas.
    pub retired_facility: String,
    /// The Puskesmas that proposed it.
    pub proposed_by: String,
    /// When, milliseconds since 1970 UTC.
    pub proposed_at: i64,
    /// Where it stands.
    pub state: ProposalState,
    /// The Puskesmas that accepted, declined or undid it last.
    pub decided_by: Option<String>,
    /// When, milliseconds since 1970 UTC.
    pub decided_at: Option<i64>,
}

/// Why the registry thinks two records may be one person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LikelySame {
    /// Two Puskesmas registered one NIK.
    Nik,
    /// The same name, date of birth and sex.
    NameBirthSex,
}

/// A pair of records, one this Puskesmas's and one another's, that may be one person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeCandidate {
    /// This Puskesmas's record.
    pub patient: String,
    /// The other Puskesmas's record.
    pub other: String,
    /// The other Puskesmas.
    pub other_facility: String,
    /// Why they were paired.
    pub reason: LikelySame,
}

/// `GET /v1/merges`: the pairs the registry flagged for this Puskesmas, and the proposals
/// that name one of its records (open ones, links in force and the last hundred others).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeBoard {
    /// Flagged pairs with no open proposal or link.
    pub candidates: Vec<MergeCandidate>,
    /// Proposals, newest first.
    pub proposals: Vec<MergeProposal>,
}

/// `POST /v1/merges`: propose that `retired` is the same person as `survivor`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposeMerge {
    /// The record that stands for both.
    pub survivor: String,
    /// The record retired into it.
    pub retired: String,
}

/// The payload of a `link` change: every node that holds either record follows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientLink {
    /// The accepted proposal.
    pub proposal: String,
    /// The record that stands for both.
    pub survivor: String,
    /// The record retired into it.
    pub retired: String,
    /// Linked now (`true`), or the link undone (`false`).
    pub linked: bool,
    /// The Puskesmas that accepted or undid it.
    pub by: String,
    /// When, milliseconds since 1970 UTC.
    pub at: i64,
}
