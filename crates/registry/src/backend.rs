//! The storage interface: two backends, SQLite (the embedded default) and PostgreSQL
//! (for a province or the nation), pass the same tests.

use kartika_protocol::{Change, ChangePage, PushOutcome};

use crate::validate::ValidRecord;
use crate::Result;

/// An enrolled node, as its token identifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Its id: the facility code.
    pub id: String,
    /// Comma-separated roles: terminal, issuer.
    pub roles: String,
}

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
    /// Every stored version of a patient's records, oldest first, for a desk that has the
    /// patient in front of it; from then on the node also pulls the patient's changes.
    fn patient_history(&mut self, node: &Node, patient_number: &str) -> Result<Vec<Change>>;
    /// The numbers of the patients registered with this NIK (two facilities may have one
    /// each).
    fn patients_with_nik(&mut self, nik: &str) -> Result<Vec<String>>;
    /// The patient a record (a visit, a card) belongs to.
    fn patient_of_record(&mut self, record_id: &str) -> Result<Option<String>>;
    /// Patients flagged because two facilities registered one NIK.
    fn nik_conflicts(&mut self) -> Result<Vec<(String, String, String)>>;
    /// Whether storage answers.
    fn ready(&mut self) -> Result<()>;
}
