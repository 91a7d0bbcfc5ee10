//! What can go wrong in the registry.

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The SQLite storage failed.
    #[error("the registry database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The PostgreSQL storage failed.
    #[error("the registry's PostgreSQL failed: {0}")]
    Postgres(#[from] postgres::Error),
    /// The storage holds a newer schema than this program knows.
    #[error("the registry database has schema version {found}, newer than this program understands ({supported}); install the newer Kartika")]
    NewerSchema {
        /// Found.
        found: i64,
        /// Known.
        supported: i64,
    },
    /// A node id or role is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The caller may not have what it asked for; the reason says what would allow it.
    #[error("{0}")]
    Forbidden(String),
    /// What was asked contradicts what is stored (a proposal already answered, a link
    /// another undo must come before); the reason says what to do first.
    #[error("{0}")]
    Conflict(String),
    /// No such node, card or record.
    #[error("{0}")]
    NotFound(String),
    /// The node is enrolled already.
    #[error("node {0} is enrolled already")]
    AlreadyEnrolled(String),
    /// The storage lock was poisoned by a panic in another request.
    #[error("the registry storage is unusable after an internal error; restart the registry")]
    Poisoned,
}

/// The registry's result type.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;
