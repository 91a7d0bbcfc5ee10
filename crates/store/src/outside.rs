//! What staff do with the outside systems that the store does not hold but must answer
//! for: setting BPJS up, and each look at a member's BPJS status (who looked at whom).

use crate::access::{Action, Session};
use crate::{Result, Store};

/// A step with an outside system, for the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutsideStep {
    /// An admin set BPJS up (its addresses, the consumer, the secrets beside the store).
    BpjsSetUp {
        /// P-Care's base address.
        pcare_url: String,
    },
    /// P-Care was asked about a member: by card or NIK (only its last four digits kept).
    BpjsMemberChecked {
        /// "card" or "NIK".
        by: &'static str,
        /// The number's last four digits.
        ending: String,
    },
}

impl Store {
    /// Records `step` in the audit log, after checking the session may take it.
    pub fn note_outside(&mut self, session: &Session, step: &OutsideStep) -> Result<()> {
        let (action, name, detail) = match step {
            OutsideStep::BpjsSetUp { pcare_url } => {
                (Action::ManageFacility, "bpjs.setup", pcare_url.clone())
            }
            OutsideStep::BpjsMemberChecked { by, ending } => (
                Action::ReadPatients,
                "bpjs.peserta",
                format!("by {by} …{ending}"),
            ),
        };
        self.write(session, action, |ctx| ctx.audit(name, None, &detail))
    }
}
