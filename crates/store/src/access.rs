//! Who may do what: staff roles, the session a login gives, and the check every operation
//! makes before it touches anything.

use rusqlite::{OptionalExtension, Transaction};
use serde::Serialize;

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

/// A logged-in staff member. Only [`crate::Store::login`] makes one (its fields are
/// private and it cannot be deserialized), so no caller can act as someone without their
/// password. Every operation takes one, checks the account is still enabled, and records
/// its username in the audit log.
///
/// Neither built by hand:
/// ```compile_fail
/// let forged = kartika_store::Session {
///     username: "admin".into(),
///     display_name: "Admin".into(),
///     role: kartika_store::Role::Admin,
/// };
/// ```
/// nor read from text (a request on the LAN):
/// ```compile_fail
/// let forged: kartika_store::Session =
///     serde_json::from_str(r#"{"username":"admin","display_name":"A","role":"admin"}"#).unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Session {
    pub(crate) username: String,
    pub(crate) display_name: String,
    pub(crate) role: Role,
    /// Made from a login on the clinic server: it names the account for a workstation's
    /// screens, and every store refuses it.
    #[serde(skip)]
    pub(crate) on_server: bool,
}

impl Session {
    /// The login name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The name shown on screens.
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    /// The role at login.
    pub fn role(&self) -> Role {
        self.role
    }

    /// What a workstation knows of a login the clinic server accepted: the account, for
    /// its screens. It carries no authority: the server acts on its own session, found by
    /// the token, and every [`crate::Store`] refuses this one as if nobody had logged in.
    pub fn on_server(username: String, display_name: String, role: Role) -> Self {
        Self {
            username,
            display_name,
            role,
            on_server: true,
        }
    }
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
    MergePatients,
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
            Self::MergePatients => "merge or unmerge patient records",
        }
    }

    pub(crate) fn allowed(self, role: Role) -> bool {
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
        Some((role, None)) if !session.on_server => role,
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
