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
}

impl Kind {
    /// The name used in JSON and SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::Card => "card",
            Self::Visit => "visit",
            Self::Revocation => "revocation",
        }
    }

    /// The kind for its name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "patient" => Some(Self::Patient),
            "card" => Some(Self::Card),
            "visit" => Some(Self::Visit),
            "revocation" => Some(Self::Revocation),
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The registry's sequence number: the cursor.
    pub seq: i64,
    /// The facility that made the change.
    pub facility: String,
    /// What it carries.
    pub kind: Kind,
    /// The record it describes.
    pub record_id: String,
    /// The record.
    pub payload: serde_json::Value,
}

/// `GET /v1/changes?after=SEQ&limit=N`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
