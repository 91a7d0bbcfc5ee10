//! One Puskesmas, many workstations. The clinic store's operations are data
//! ([`Operation`], [`Answer`]); a workstation answers them on its own store with
//! [`apply`], or sends them to the Puskesmas's server ([`server`]) through a [`Client`],
//! which answers them with the same [`apply`]. The plan and what stands: `docs/lan.md`.
//!
//! The wire: JSON over HTTP(S). Every request names the protocol version it speaks
//! ([`PROTOCOL_HEADER`]); a server refuses another with 426 and words telling the
//! workstation to update. A login answers a session token, which the server keeps only as
//! its SHA-256. Every operation carries a request id: a write sent again with the same id
//! (its answer lost on the way) is answered from what the store kept, never done twice.

pub mod authority;
pub mod client;
pub mod discovery;
mod identity_wire;
pub mod operation;
mod refusal;
pub mod server;
mod tap_wire;

pub use client::{Client, LanError, LoggedIn, PuskesmasLink};
pub use operation::{
    apply, apply_from, opened, Answer, CardChange, CardJudge, FacilityChange, MergeChange,
    Operation, PoliVisit, RegistryLink, ReportKind, ReportQuery, Sender, StaffChange, VisitEnd,
    WorkstationChange,
};
pub use refusal::Refusal;

use serde::{Deserialize, Serialize};

/// The protocol this build speaks.
///
/// 2: the set-aside records (`SyncDetails`) are an admin's; `SyncHealth` is everyone's.
/// 3: a tap (`AdmitCard`) carries the card's own bytes and its answer, which the server
/// judges itself.
/// 4: SATUSEHAT's queue (`SatusehatStatus`, `SatusehatRetry`).
/// 5: duplicate patients (`Duplicates`, `PlanMerge`); a search hit may name the record
/// merged into it.
/// 6: BPJS's queue (`BpjsStatus`, `BpjsRetry`) and the desk's member check
/// (`BpjsMember`); a patient's history carries each BPJS visit's state with P-Care.
pub const PROTOCOL_VERSION: u32 = 6;
/// The header naming the protocol version of a request.
pub const PROTOCOL_HEADER: &str = "kartika-lan-protocol";
/// The header naming the store's generation on every answer of the server.
pub const GENERATION_HEADER: &str = "kartika-store-generation";

/// A login.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A login the server accepted.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginAnswer {
    /// The session token, for the `Authorization: Bearer` header.
    pub token: String,
    /// Login name.
    pub username: String,
    /// The name shown on screens.
    pub display_name: String,
    /// The role.
    pub role: kartika_store::Role,
}

/// An operation with the id that makes a retry harmless.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OperationRequest {
    /// 16 random bytes, hex: the same for every retry of one operation.
    pub request_id: String,
    /// What is asked.
    pub operation: Operation,
}

/// The store changed: what every screen following the server is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changed {
    /// Grows with each change; a screen re-reads when it differs from the one it has.
    pub version: u64,
}

/// A PC asking to become a workstation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkstationRequest {
    /// What the admin will see it as ("Loket 1").
    pub name: String,
    /// Its P-256 public key, uncompressed, hex.
    pub public_key: String,
}

/// Where a PC's request to become a workstation stands.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkstationAnswer {
    /// The request's id, which the admin approves.
    pub id: String,
    /// Its certificate (DER, hex), once approved and while not revoked.
    pub certificate: Option<String>,
    /// Whether an admin revoked it.
    pub revoked: bool,
    /// The letter of its emergency tickets (1 is A), once approved.
    #[serde(default)]
    pub emergency_series: Option<u8>,
}

impl WorkstationAnswer {
    /// The certificate in DER, once approved.
    pub fn certificate_der(&self) -> Result<Option<Vec<u8>>, LanError> {
        self.certificate
            .as_deref()
            .map(hex::decode)
            .transpose()
            .map_err(|_| LanError::BadAnswer("the workstation's certificate is not hex".into()))
    }
}

/// The waiting room's screen: today's newest calls, numbers and units only.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Calls {
    /// The store's version they were read at (the next long-poll's `after`).
    pub version: u64,
    /// Newest first.
    pub calls: Vec<kartika_store::Call>,
}

/// Why a request failed, in the body of every answer that is not 200.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What the store said, when it was the store.
    pub refusal: Option<Refusal>,
    /// In words.
    pub error: String,
}
