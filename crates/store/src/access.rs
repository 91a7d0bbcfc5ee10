//! Who may do what: staff roles, the session a login gives, and the check every operation
//! makes before it touches anything.

use rusqlite::{OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use crate::enums::stored_enum;

use crate::{Result, StoreError};

stored_enum!(
    /// A staff member's role.
    Role, "role" {
        /// Cards, staff, the facility, the audit log, and everything the others may do.
        Admin = "admin",
        /// The registration desk (pendaftaran): patients, queue numbers, card taps.
        Registration = "registration",
        /// Nurses and doctors at a poli: the queue, history, vitals and diagnoses.
        Nurse = "nurse",
    }
);

/// A logged-in staff member, as [`crate::Store::login`] returns it. Every operation takes
/// one, checks the account is still enabled, and records its username in the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The login name.
    pub username: String,
    /// The name shown on screens.
    pub display_name: String,
    /// The role at login.
    pub role: Role,
}

/// The kinds of operation a role may be allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    ManageStaff,
    ManageFacility,
    RegisterPatient,
    ReadPatients,
    RegisterVisit,
    CancelVisit,
    Examine,
    ManageCards,
    ReadAudit,
    ReadReports,
    ExportRecords,
}

impl Action {
    fn words(self) -> &'static str {
        match self {
            Self::ManageStaff => "manage staff accounts",
            Self::ManageFacility => "change the facility's settings",
            Self::RegisterPatient => "register or edit patients",
            Self::ReadPatients => "look up patients",
            Self::RegisterVisit => "register visits",
            Self::CancelVisit => "cancel visits",
            Self::Examine => "record examinations and diagnoses",
            Self::ManageCards => "issue, block or replace cards",
            Self::ReadAudit => "read the audit log",
            Self::ReadReports => "read the monthly reports",
            Self::ExportRecords => "export patient records",
        }
    }

    fn allowed(self, role: Role) -> bool {
        match role {
            Role::Admin => true,
            Role::Registration => matches!(
                self,
                Self::RegisterPatient
                    | Self::ReadPatients
                    | Self::RegisterVisit
                    | Self::CancelVisit
            ),
            // A nurse calls a name and nobody comes: she cancels the waiting visit.
            Role::Nurse => matches!(
                self,
                Self::ReadPatients | Self::Examine | Self::ReadReports | Self::CancelVisit
            ),
        }
    }
}

/// Checks, inside the operation's transaction, that the account exists, is enabled, still
/// has the role it logged in with, and that the role allows `action`.
pub(crate) fn check(tx: &Transaction<'_>, session: &Session, action: Action) -> Result<()> {
    let row: Option<(Role, Option<i64>)> = tx
        .prepare_cached("SELECT role, disabled_at FROM staff WHERE username = ?1")?
        .query_row([&session.username], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let role = match row {
        Some((role, None)) => role,
        _ => return Err(StoreError::LoginFailed),
    };
    if role != session.role || !action.allowed(role) {
        return Err(StoreError::NotAllowed {
            username: session.username.clone(),
            role: role.to_string(),
            action: action.words(),
        });
    }
    Ok(())
}
