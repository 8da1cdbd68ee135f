//! Errors: [`StoreError`] for opening and migrating a database (read by operators), and the
//! mapping of diesel and pool failures onto the core's [`PortError`] (read by the core).
//!
//! Neither ever carries a database password (URLs go through [`redact_url`](crate::redact_url))
//! or a stored value: database error messages are used, their `detail` parts (which quote row
//! values such as an email) never are.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use kunci_core::PortError;

/// Why a database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names a backend Kunci does not speak.
    #[error(
        "unsupported database URL scheme `{scheme}` in `{url}`: use sqlite://PATH or postgres://USER@HOST/DB"
    )]
    UnsupportedScheme { scheme: String, url: String },

    /// The URL is malformed or asks for something this backend cannot do.
    #[error("invalid database URL `{url}`: {reason}")]
    InvalidUrl { url: String, reason: String },

    /// TLS for PostgreSQL could not be set up (e.g. an unreadable `sslrootcert` file).
    #[error("TLS setup for `{url}` failed: {reason}")]
    Tls { url: String, reason: String },

    /// The directory for a SQLite file could not be created.
    #[error("cannot create directory `{path}` for the SQLite database: {source}")]
    CreateDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },

    /// The connection pool could not be built (a bug: the options are always valid).
    #[error("cannot build the connection pool: {reason}")]
    Pool { reason: String },

    /// The database did not answer: refused, timed out, bad credentials, TLS failure, …
    #[error("cannot reach the database at `{url}`: {reason}")]
    Unavailable { url: String, reason: String },

    /// Reading the migration state of the database failed before any migration ran.
    #[error("cannot read the applied migrations: {reason}")]
    MigrationState { reason: String },

    /// One migration failed; it was rolled back, and the ones before it stay applied.
    #[error("migration `{name}` failed: {reason}")]
    Migration { name: String, reason: String },
}

/// Maps a diesel error from a repository query onto the port's vocabulary.
pub(crate) fn port_error(err: DieselError) -> PortError {
    match err {
        DieselError::DatabaseError(kind, info) => {
            let message = info.message();
            match kind {
                DatabaseErrorKind::UniqueViolation => {
                    let what = if message.contains("email")
                        || info.constraint_name() == Some("accounts_email_key")
                    {
                        "an account with this email already exists"
                    } else {
                        "a record with this id already exists"
                    };
                    PortError::Conflict(what.into())
                }
                DatabaseErrorKind::ForeignKeyViolation => {
                    PortError::Conflict("the referenced account does not exist".into())
                }
                DatabaseErrorKind::ClosedConnection
                | DatabaseErrorKind::UnableToSendCommand
                | DatabaseErrorKind::SerializationFailure
                | DatabaseErrorKind::ReadOnlyTransaction => {
                    tracing::warn!(error = message, "database unavailable");
                    PortError::Unavailable(format!("database: {message}"))
                }
                DatabaseErrorKind::NotNullViolation | DatabaseErrorKind::CheckViolation => {
                    tracing::error!(error = message, "a write broke a schema rule");
                    PortError::Corrupt(format!("record breaks a schema rule: {message}"))
                }
                // Lock and statement timeouts, disk full, and the like: operational, retry later.
                _ => {
                    tracing::warn!(error = message, "database error");
                    PortError::Unavailable(format!("database: {message}"))
                }
            }
        }
        DieselError::DeserializationError(e) => {
            tracing::error!(error = %e, "stored record could not be decoded");
            PortError::Corrupt(format!("cannot decode a stored record: {e}"))
        }
        DieselError::SerializationError(e) => {
            PortError::Corrupt(format!("cannot encode a record: {e}"))
        }
        DieselError::BrokenTransactionManager => {
            PortError::Unavailable("database connection in an unusable state".into())
        }
        other => {
            tracing::warn!(error = %other, "database error");
            PortError::Unavailable(format!("database: {other}"))
        }
    }
}

/// Maps a failure to check a connection out of the pool: always `Unavailable`.
pub(crate) fn pool_error(err: diesel_async::pooled_connection::deadpool::PoolError) -> PortError {
    use deadpool::managed::{PoolError, TimeoutType};
    let reason = match &err {
        PoolError::Timeout(TimeoutType::Wait) => {
            "timed out waiting for a free database connection".to_owned()
        }
        PoolError::Timeout(TimeoutType::Create) => {
            "timed out opening a database connection".to_owned()
        }
        PoolError::Timeout(TimeoutType::Recycle) => {
            "timed out checking a pooled database connection".to_owned()
        }
        PoolError::Backend(e) => e.to_string(),
        PoolError::Closed => "the connection pool is closed".to_owned(),
        other => other.to_string(),
    };
    tracing::warn!(error = %reason, "database connection unavailable");
    PortError::Unavailable(reason)
}
