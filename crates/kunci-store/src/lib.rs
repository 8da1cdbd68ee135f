//! # kunci-store
//!
//! Durable storage for Kunci: the diesel implementation of the core's durable ports
//! (`AccountRepo`, `ConsentRepo`, `KeyRepo`, `RefreshTokenRepo`, `ClientRepo`, `DurableStore`) on two
//! backends chosen by URL:
//!
//! - **SQLite** (`sqlite://PATH`), bundled into the binary: the embedded default for one node;
//! - **PostgreSQL** (`postgres://…`), in pure Rust (tokio-postgres, rustls with ring, no libpq):
//!   for several nodes.
//!
//! Everything is async (diesel-async with deadpool pools). Queries are written once in diesel's
//! backend-generic DSL and run on whichever pool is active; the two migration folders in the
//! repository's top-level `migrations/` keep both schemas equal to the one in `schema.rs`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use kunci_store::{Database, PoolOptions};
//! let db = Database::connect("sqlite://data/kunci.db", &PoolOptions::default()).await?;
//! db.migrate().await?;
//! # Ok(()) }
//! ```
//!
//! This crate knows nothing about HTTP. It never logs personal data (emails, names) or
//! secrets (password hashes, database passwords).

mod accounts;
mod blocking;
mod consents;
mod error;
mod keys;
mod migrate;
mod pool;
mod postgres;
mod refresh_tokens;
mod registered_clients;
mod schema;
mod sqlite;
mod url;

pub use error::StoreError;
pub use pool::{BackendKind, Database, PoolOptions};
pub use url::redact_url;

use async_trait::async_trait;
use kunci_core::PortError;
use kunci_core::ports::DurableStore;

#[async_trait]
impl DurableStore for Database {
    async fn ping(&self) -> Result<(), PortError> {
        self.check().await
    }
}
