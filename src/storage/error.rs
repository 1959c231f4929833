//! What can go wrong in a store, in words a caller can act on.

/// A store failure. `Conflict`, `NotFound` and `Invalid` are the caller's to report; `Database`
/// is an unexpected fault (connection lost, disk full) to log and answer with 5xx.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// True when a unique constraint refused the write.
    pub fn is_unique_violation(error: &sqlx::Error) -> bool {
        error
            .as_database_error()
            .is_some_and(|e| e.is_unique_violation())
    }
}

/// A stored value that does not parse as what its column holds: the one way every row
/// conversion reports it.
pub(super) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

/// A stored JSON document (call state, event payload) that does not parse.
pub(super) fn corrupt_json(error: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("call state: {error}"))
}
