//! The storage interface: two backends, SQLite (the embedded default) and PostgreSQL
//! (for a province or the nation), pass the same tests.

use kartika_protocol::{
    Change, ChangePage, MergeBoard, MergeProposal, PresenceProof, ProposeMerge, PushOutcome,
};

use crate::merges::Decision;

use crate::validate::ValidRecord;
use crate::Result;

/// An enrolled node, as its token identifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Its id: the facility code.
    pub id: String,
    /// Comma-separated roles: terminal, issuer.
    pub roles: String,
    /// When the registry's operator revoked it, if it did.
    pub revoked_at: Option<i64>,
}

/// On what grounds a node asks for a patient's records.
#[derive(Clone, Copy, Debug)]
pub enum Lookup<'a> {
    /// The patient's card is in the node's reader now: its proof of presence, used once.
    Presence(&'a PresenceProof),
    /// No card: the node's own patients only.
    OwnOnly,
    /// No card: its own patients and those its pulls already bring (the FHIR views).
    OwnOrSubscribed,
}

impl Lookup<'_> {
    /// The endpoint's name in the access log.
    pub fn endpoint(&self) -> &'static str {
        match self {
            Self::Presence(_) | Self::OwnOnly => "/v1/patients/history",
            Self::OwnOrSubscribed => "/fhir/r4",
        }
    }
}

/// One line of the access log.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AccessEntry {
    /// When, milliseconds since 1970 UTC.
    pub at: i64,
    /// Which node asked.
    pub node: String,
    /// Through which endpoint.
    pub endpoint: String,
    /// What it was answered ("answered 3 records", "refused: …").
    pub outcome: String,
}

/// The facility code the registry's operator acts under in the change feed: lowercase, so
/// no enrolled node can carry it.
pub const OPERATOR: &str = "registry";

/// Where the registry keeps everything. Calls block; the HTTP layer runs them off the
/// async threads.
pub trait Backend: Send {
    /// Records an enrolled node with its token's hash and certificate.
    fn enroll(&mut self, node: &Node, token_hash: &[u8; 32], certificate: &[u8]) -> Result<()>;
    /// The node whose token hashes to this, if any.
    fn node_for_token(&mut self, token_hash: &[u8; 32]) -> Result<Option<Node>>;
    /// Stores a batch in one durable transaction; `Err` entries were refused by validation
    /// and are reported back as they are.
    fn push(
        &mut self,
        node: &Node,
        records: &[Result<ValidRecord, String>],
    ) -> Result<Vec<PushOutcome>>;
    /// Changes after `after` that `node` should see: every revocation, and the patients,
    /// cards and visits of patients it has pushed or pulled, made by other facilities.
    fn changes(&mut self, node: &Node, after: i64, limit: usize) -> Result<ChangePage>;
    /// Every stored version of a patient's records, and of the records linked to it (one
    /// person), oldest first, for a node that may see them (see [`Lookup`]); from then on the node also pulls the patient's changes. A
    /// node that may not is refused with [`crate::RegistryError::Forbidden`]. Either way
    /// the access log records it.
    fn patient_history(
        &mut self,
        node: &Node,
        patient_number: &str,
        lookup: Lookup<'_>,
    ) -> Result<Vec<Change>>;
    /// Every answer that named the patient, oldest first: who has seen them.
    fn access_log(&mut self, patient_number: &str) -> Result<Vec<AccessEntry>>;
    /// A card revocation (or, with `lifted`, the lifting of one) by the registry's
    /// operator, handed to every node. Refused for a card no issuer pushed.
    fn operator_revocation(&mut self, card_number: &str, reason: &str, lifted: bool) -> Result<()>;
    /// Takes a node off the network from now: its token is refused, and a revocation of
    /// the node travels to every clinic, whose desks then refuse cards it signed.
    fn revoke_node(&mut self, node_id: &str, reason: &str) -> Result<()>;
    /// Gives a node a new token; the old one stops working at once.
    fn rotate_token(&mut self, node_id: &str, token_hash: &[u8; 32]) -> Result<()>;
    /// Forgets the audit heads a node handed over, after its operator has checked that
    /// the node's store was restored from a backup (not rewritten): its next sync starts
    /// a new history of receipts. Returns how many heads were forgotten.
    fn forget_audit_heads(&mut self, node_id: &str) -> Result<usize>;
    /// The newest audit head the node handed over.
    fn last_audit_head(&mut self, node: &Node) -> Result<Option<(i64, Vec<u8>)>>;
    /// Keeps a clinic's audit head as received now; returns the time of receipt. The same
    /// entry handed over again with another hash is refused: the log was rewritten.
    fn keep_audit_head(&mut self, node: &Node, seq: i64, hash: &[u8; 32]) -> Result<i64>;
    /// The numbers of the patients registered with this NIK (two facilities may have one
    /// each).
    fn patients_with_nik(&mut self, nik: &str) -> Result<Vec<String>>;
    /// The patient a record (a visit, a card) belongs to.
    fn patient_of_record(&mut self, record_id: &str) -> Result<Option<String>>;
    /// Patients flagged because two facilities registered one NIK.
    fn nik_conflicts(&mut self) -> Result<Vec<(String, String, String)>>;
    /// The pairs of records, one `node`'s and one another Puskesmas's, that may be one
    /// person, and the merge proposals that name its records.
    fn merge_board(&mut self, node: &Node) -> Result<MergeBoard>;
    /// Stores `node`'s proposal that two records are one person (see [`crate::merges`]);
    /// the same proposal made again is answered as it stands.
    fn propose_merge(&mut self, node: &Node, ask: &ProposeMerge) -> Result<MergeProposal>;
    /// Accepts, declines or undoes a proposal; a decision already taken is answered as it
    /// stands, so a resend changes nothing.
    fn decide_merge(
        &mut self,
        node: &Node,
        proposal: &str,
        decision: Decision,
    ) -> Result<MergeProposal>;
    /// The links in force that name the record: (survivor, retired), oldest first.
    fn links_of(&mut self, patient_number: &str) -> Result<Vec<(String, String)>>;
    /// Whether storage answers.
    fn ready(&mut self) -> Result<()>;
}
