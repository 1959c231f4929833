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
    /// True for a fault of the database rather than of the request: it cannot be reached, is
    /// restarting, or cannot take writes now (disk full, I/O error, out of resources). The same
    /// request may well succeed shortly, so the caller answers 503 with `Retry-After`.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(error) => is_unavailable(error),
            _ => false,
        }
    }

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

/// A stored JSON document (call state, event payload) that does not parse, or a call state
/// that does not encode.
pub(crate) fn corrupt_json(error: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("call state: {error}"))
}

/// Connection-level failures, and database answers that say "not now".
fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(error) => {
            let Some(code) = error.code() else {
                return false;
            };
            if error
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some()
            {
                sqlite_unavailable(&code)
            } else {
                postgres_unavailable(&code)
            }
        }
        _ => false,
    }
}

/// SQLite primary result codes (the low byte of the extended code): `SQLITE_BUSY` (5),
/// `SQLITE_LOCKED` (6), `SQLITE_NOMEM` (7), `SQLITE_IOERR` (10), `SQLITE_FULL` (13),
/// `SQLITE_CANTOPEN` (14).
fn sqlite_unavailable(code: &str) -> bool {
    code.parse::<i32>()
        .is_ok_and(|code| matches!(code & 0xff, 5 | 6 | 7 | 10 | 13 | 14))
}

/// PostgreSQL SQLSTATE classes 08 (connection exception), 53 (insufficient resources) and
/// 57P (operator intervention: shutting down, cannot connect now).
fn postgres_unavailable(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("53") || code.starts_with("57P")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_faults_are_unavailable_and_request_faults_are_not() {
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(StoreError::Database(sqlx::Error::PoolClosed).is_unavailable());
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(StoreError::Database(sqlx::Error::Io(io)).is_unavailable());
        assert!(!StoreError::Database(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!StoreError::Corrupt("x".into()).is_unavailable());
        assert!(!StoreError::Conflict("x".into()).is_unavailable());
    }

    #[test]
    fn sqlite_full_busy_and_io_errors_are_unavailable_and_constraints_are_not() {
        for code in ["13", "5", "10", "266", "3338", "14"] {
            assert!(sqlite_unavailable(code), "{code}");
        }
        // SQLITE_CONSTRAINT_UNIQUE (2067), SQLITE_ERROR (1)
        for code in ["2067", "1", "19"] {
            assert!(!sqlite_unavailable(code), "{code}");
        }
    }

    #[test]
    fn postgres_connection_and_shutdown_states_are_unavailable() {
        for code in ["08006", "08001", "57P01", "57P03", "53300"] {
            assert!(postgres_unavailable(code), "{code}");
        }
        for code in ["23505", "40001", "42P01"] {
            assert!(!postgres_unavailable(code), "{code}");
        }
    }
}
