//! What can go wrong in the clinic store, in words a desk clerk or an admin can act on.

use kartika_card::DataError;

/// Why a store operation did not happen. When an operation fails, nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file does not exist.
    #[error("there is no clinic database at {path}; create one with `kartika db init`")]
    Missing {
        /// The path that was asked for.
        path: String,
    },
    /// `db init` on a file that already exists.
    #[error("{path} already exists; open it instead of creating it again")]
    AlreadyExists {
        /// The path.
        path: String,
    },
    /// The file is on a network drive, where SQLite's locks do not hold.
    #[error("{path} is on a network drive ({filesystem}); SQLite cannot lock a file there and two PCs would damage it. Keep the Puskesmas's database on the server PC's own disk")]
    NetworkPath {
        /// The path.
        path: String,
        /// The kind of network filesystem.
        filesystem: &'static str,
    },
    /// The file is not a Kartika clinic database.
    #[error("{path} is not a Kartika clinic database ({detail})")]
    NotAStore {
        /// The path.
        path: String,
        /// What was found instead.
        detail: String,
    },
    /// The file was written by a newer Kartika.
    #[error("this database has schema version {found}, newer than this program understands ({supported}); install the newer Kartika")]
    NewerSchema {
        /// The file's schema version.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// A value given by a person is not valid.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field, in words.
        field: &'static str,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A record that was asked for does not exist.
    #[error("{what} {key} was not found")]
    NotFound {
        /// What kind of record, for example "patient".
        what: &'static str,
        /// The key that was looked up.
        key: String,
    },
    /// A patient with this NIK exists already.
    #[error("a patient with NIK {nik} already exists: {existing_name}, patient number {existing_patient_number}; open that record instead")]
    DuplicateNik {
        /// The NIK.
        nik: String,
        /// The existing patient's number.
        existing_patient_number: String,
        /// The existing patient's name.
        existing_name: String,
    },
    /// The same thing exists already, for example a username or a card number.
    #[error("{what} {key} already exists")]
    AlreadyRecorded {
        /// What kind of record.
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// The patient already holds a queue number for this unit today.
    #[error("the patient already has queue number {ticket} for {unit} today; a queue number can be taken only once per day and unit")]
    AlreadyQueued {
        /// The existing ticket, for example `U-007`.
        ticket: String,
        /// The unit's name.
        unit: String,
    },
    /// The operation does not fit the state of the record.
    #[error("{0}")]
    Conflict(String),
    /// The staff member's role does not allow the operation.
    #[error("{username} ({role}) may not {action}")]
    NotAllowed {
        /// Who tried.
        username: String,
        /// Their role.
        role: String,
        /// What they tried, in words.
        action: &'static str,
    },
    /// Wrong username or password, or a disabled account (deliberately not told apart).
    #[error("wrong username or password, or the account is disabled")]
    LoginFailed,
    /// Too many wrong passwords in a row: the account waits before it may try again.
    #[error("too many wrong passwords; this account can try again in {minutes} minute(s), or an admin can reset its password")]
    LoginLocked {
        /// Minutes left, rounded up.
        minutes: i64,
    },
    /// The database stayed locked by another window or process for too long.
    #[error("the database is busy in another window; try again")]
    Busy,
    /// The disk or SQLite failed.
    #[error("the clinic database failed: {0}")]
    Database(rusqlite::Error),
    /// Something the store wrote itself cannot be read back: the file was changed outside
    /// Kartika or is damaged.
    #[error("the clinic database holds a damaged record ({0}); run `kartika audit verify` and restore from a backup")]
    Damaged(String),
    /// A backup or restore could not read or write a file.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What went wrong, with what to do.
        reason: String,
    },
    /// A copy offered for restore is not one to trust.
    #[error("{path} cannot be restored: {reason}; the current data was left as it is")]
    BadBackup {
        /// The copy.
        path: String,
        /// Why.
        reason: String,
    },
    /// Hashing a password failed.
    #[error("could not hash the password: {0}")]
    Password(String),
}

impl StoreError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn not_found(what: &'static str, key: impl Into<String>) -> Self {
        Self::NotFound {
            what,
            key: key.into(),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Self::Busy
            }
            _ => Self::Database(error),
        }
    }
}

impl From<DataError> for StoreError {
    fn from(error: DataError) -> Self {
        match error {
            DataError::Invalid { field, reason } => Self::Invalid { field, reason },
            DataError::Missing { field } => Self::invalid(field, "is missing"),
            other => Self::invalid("data", other.to_string()),
        }
    }
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
