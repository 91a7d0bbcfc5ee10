//! Why the store said no, as it travels: [`kartika_store::StoreError`] in owned words, so
//! a workstation can tell a wrong field from a full queue from a dead disk.

use serde::{Deserialize, Serialize};

use kartika_store::StoreError;

/// A store's refusal or failure, the same whether the store is on this PC or the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "refusal", rename_all = "snake_case")]
pub enum Refusal {
    /// Wrong username or password, or a session that is no longer valid.
    #[error("wrong username or password")]
    LoginFailed,
    /// Too many wrong passwords.
    #[error("too many wrong passwords: the account waits {minutes} minutes")]
    LoginLocked {
        /// How long the account waits.
        minutes: i64,
    },
    /// The role does not allow it.
    #[error("{message}")]
    NotAllowed {
        /// Who may not do what.
        message: String,
    },
    /// The database is held by someone else for too long.
    #[error("the clinic database is busy; try again")]
    Busy,
    /// A field is wrong.
    #[error("{field} {reason}")]
    Invalid {
        /// The field, as the store names it.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The NIK is another patient's.
    #[error("NIK {nik} is already registered to {existing_name} ({existing_patient_number})")]
    DuplicateNik {
        /// The NIK.
        nik: String,
        /// The existing patient's number.
        existing_patient_number: String,
        /// The existing patient's name.
        existing_name: String,
    },
    /// One queue number per unit per day.
    #[error("already in today's queue at {unit} with ticket {ticket}")]
    AlreadyQueued {
        /// The ticket held.
        ticket: String,
        /// The unit.
        unit: String,
    },
    /// The record does not exist.
    #[error("{what} {key} not found")]
    NotFound {
        /// What was looked for.
        what: String,
        /// Its key.
        key: String,
    },
    /// The operation does not fit the record's state.
    #[error("{message}")]
    Conflict {
        /// Why.
        message: String,
    },
    /// The database needs a newer Kartika.
    #[error("the clinic database is newer than this Kartika; update Kartika")]
    NewerSchema,
    /// A backup that is not to be trusted.
    #[error("the backup cannot be restored: {reason}")]
    BadBackup {
        /// Why.
        reason: String,
    },
    /// A file could not be written.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Anything else: the store's own words.
    #[error("{message}")]
    Failed {
        /// What failed.
        message: String,
    },
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::LoginFailed => Self::LoginFailed,
            StoreError::LoginLocked { minutes } => Self::LoginLocked { minutes },
            e @ StoreError::NotAllowed { .. } => Self::NotAllowed {
                message: e.to_string(),
            },
            StoreError::Busy => Self::Busy,
            StoreError::Invalid { field, reason } => Self::Invalid {
                field: field.to_owned(),
                reason,
            },
            StoreError::DuplicateNik {
                nik,
                existing_patient_number,
                existing_name,
            } => Self::DuplicateNik {
                nik,
                existing_patient_number,
                existing_name,
            },
            StoreError::AlreadyQueued { ticket, unit } => Self::AlreadyQueued { ticket, unit },
            StoreError::NotFound { what, key } => Self::NotFound {
                what: what.to_owned(),
                key,
            },
            StoreError::Conflict(message) => Self::Conflict { message },
            StoreError::AlreadyRecorded { what, key } => Self::Conflict {
                message: format!("{what} {key}"),
            },
            StoreError::NewerSchema { .. } => Self::NewerSchema,
            StoreError::BadBackup { reason, .. } => Self::BadBackup { reason },
            StoreError::File { path, reason } => Self::File { path, reason },
            other => Self::Failed {
                message: other.to_string(),
            },
        }
    }
}
