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
