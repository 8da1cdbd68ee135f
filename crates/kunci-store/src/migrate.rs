//! Schema migrations, embedded in the binary from `migrations/sqlite` and `migrations/postgres`.
//!
//! diesel's migration harness is synchronous. It runs on tokio's blocking pool, never with
//! `block_in_place` (which diesel-async's `AsyncMigrationHarness` uses, and which panics on
//! the current-thread runtime actix-web runs on), so [`Database::migrate`] works under
//! `#[tokio::main]`, `#[actix_web::main]` and `#[tokio::test]` alike.
//!
//! On PostgreSQL, nodes starting together take turns: the run holds a session advisory lock,
//! and the pending list is read only once the lock is held.

use crate::error::StoreError;
use crate::pool::{Backend, Database, checkout};
use diesel::RunQueryDsl;
use diesel::backend::Backend as DieselBackend;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Key of the PostgreSQL advisory lock held while migrating ("kunci" in ASCII).
const PG_MIGRATION_LOCK: i64 = 0x6b_75_6e_63_69;

impl Database {
    /// Applies every pending migration, in order, and returns how many ran (0 when the schema
    /// is current). Each migration runs in its own transaction; on failure the error names it,
    /// it is rolled back, and the migrations before it stay applied.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let state = |e: kunci_core::PortError| StoreError::MigrationState {
            reason: e.to_string(),
        };
        let applied = match &self.backend {
            Backend::Sqlite(pool) => {
                let mut conn = checkout(pool).await.map_err(state)?;
                conn.spawn_blocking(|conn| Ok(apply(conn, SQLITE)))
                    .await
                    .map_err(|e| StoreError::MigrationState {
                        reason: e.to_string(),
                    })??
            }
            Backend::Postgres(pool) => {
                let conn = checkout(pool).await.map_err(state)?;
                tokio::task::spawn_blocking(move || {
                    // Inside a blocking task, the wrapper may block on the async connection.
                    let mut conn = AsyncConnectionWrapper::<_>::from(conn);
                    diesel::sql_query(format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))
                        .execute(&mut conn)
                        .map_err(|e| StoreError::MigrationState {
                            reason: e.to_string(),
                        })?;
                    let result = apply(&mut conn, POSTGRES);
                    let unlocked = diesel::sql_query(format!(
                        "SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"
                    ))
                    .execute(&mut conn);
                    if let Err(e) = unlocked {
                        // The lock dies with the session; only worth a warning.
                        tracing::warn!(error = %e, "could not release the migration lock");
                    }
                    result
                })
                .await
                .map_err(|e| StoreError::MigrationState {
                    reason: e.to_string(),
                })??
            }
        };
        if applied > 0 {
            tracing::info!(applied, backend = ?self.kind(), "database migrations applied");
        }
        Ok(applied)
    }
}

/// Runs the pending migrations of `source` one by one, so a failure can name its migration.
fn apply<DB, H>(harness: &mut H, source: EmbeddedMigrations) -> Result<usize, StoreError>
where
    DB: DieselBackend,
    H: MigrationHarness<DB> + ?Sized,
    EmbeddedMigrations: diesel::migration::MigrationSource<DB>,
{
    let pending = harness
        .pending_migrations(source)
        .map_err(|e| StoreError::MigrationState {
            reason: e.to_string(),
        })?;
    for migration in &pending {
        let name = migration.name().to_string();
        harness
            .run_migration(migration.as_ref())
            .map_err(|e| StoreError::Migration {
                name: name.clone(),
                reason: e.to_string(),
            })?;
        tracing::info!(migration = %name, "applied migration");
    }
    Ok(pending.len())
}
