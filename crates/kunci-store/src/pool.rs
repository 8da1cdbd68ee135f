//! [`Database`]: one handle over a pool of connections to whichever backend the URL names.
//!
//! Both backends are pooled by deadpool through diesel-async. Queries are written once with
//! diesel's backend-generic DSL and run on either pool by [`run!`](crate::pool::run), so there is
//! no `if postgres { … } else { … }` anywhere else in the crate.

use crate::error::{StoreError, pool_error};
use crate::sqlite::SqliteConn;
use crate::url::{Target, redact_url};
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, PoolableConnection};
use kunci_core::PortError;
use std::time::Duration;

/// Runs one diesel-async body on a pooled connection of whichever backend is active.
///
/// `run!(db, |conn| query.get_result(conn).await)` expands to a `match` over the backends with
/// the same body in each arm; `conn` is a `&mut` connection of that backend, and the body must
/// evaluate to a `diesel::QueryResult<T>`. The macro evaluates to `Result<T, PortError>`.
macro_rules! run {
    ($db:expr, |$conn:ident| $body:expr) => {{
        let result: ::diesel::QueryResult<_> = match &$db.backend {
            $crate::pool::Backend::Sqlite(pool) => {
                let mut pooled = $crate::pool::checkout(pool).await?;
                let $conn = &mut *pooled;
                $body
            }
            $crate::pool::Backend::Postgres(pool) => {
                let mut pooled = $crate::pool::checkout(pool).await?;
                let $conn = &mut *pooled;
                $body
            }
        };
        result.map_err($crate::error::port_error)
    }};
}
pub(crate) use run;

/// How many connections to keep and how long to wait for the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections open at once. SQLite runs one statement per connection on tokio's
    /// blocking pool; PostgreSQL counts them against the server's `max_connections`.
    pub max_size: usize,
    /// How long a query may wait for a free connection before it fails as unavailable.
    pub wait_timeout: Duration,
    /// How long opening one connection (TCP, TLS, start-up) may take.
    pub connect_timeout: Duration,
    /// How long one statement may run (PostgreSQL `statement_timeout`) or wait for a lock
    /// (SQLite `busy_timeout`).
    pub statement_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            wait_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(15),
        }
    }
}

/// Which database engine a [`Database`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

/// The durable store: accounts, consents, signing keys and (later) the audit log.
///
/// Cheap to clone; clones share the pool. Implements the core's `DurableStore`.
#[derive(Clone)]
pub struct Database {
    pub(crate) backend: Backend,
}

#[derive(Clone)]
pub(crate) enum Backend {
    Sqlite(Pool<SqliteConn>),
    Postgres(Pool<AsyncPgConnection>),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.kind())
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Opens a pool for `url` and checks that one connection works.
    ///
    /// `url` is `sqlite://PATH` (relative to the working directory, or absolute as
    /// `sqlite:///var/lib/kunci/kunci.db`; missing directories are created) or
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=require&sslrootcert=/ca.pem]`.
    pub async fn connect(url: &str, opts: &PoolOptions) -> Result<Database, StoreError> {
        let backend = match Target::parse(url)? {
            Target::Sqlite { path } => Backend::Sqlite(crate::sqlite::pool(&path, opts).await?),
            Target::Postgres { url } => Backend::Postgres(crate::postgres::pool(&url, opts)?),
        };
        let db = Database { backend };
        db.check().await.map_err(|e| {
            let reason = match e {
                PortError::Unavailable(r) | PortError::Conflict(r) | PortError::Corrupt(r) => r,
            };
            StoreError::Unavailable {
                url: redact_url(url),
                reason,
            }
        })?;
        tracing::info!(backend = ?db.kind(), url = %redact_url(url), "database connected");
        Ok(db)
    }

    /// Which engine this is.
    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Closes the pool: connections are dropped as they come back, new queries fail as
    /// unavailable. For orderly shutdown.
    pub fn close(&self) {
        match &self.backend {
            Backend::Sqlite(p) => p.close(),
            Backend::Postgres(p) => p.close(),
        }
    }

    /// One round trip on a pooled connection.
    pub(crate) async fn check(&self) -> Result<(), PortError> {
        use diesel::IntoSql;
        use diesel::sql_types::Integer;
        use diesel_async::RunQueryDsl;
        let one: i32 = run!(self, |conn| diesel::select(1_i32.into_sql::<Integer>())
            .get_result(conn)
            .await)?;
        if one == 1 {
            Ok(())
        } else {
            Err(PortError::Corrupt(format!("`SELECT 1` returned {one}")))
        }
    }
}

/// Builds a deadpool pool with the options' size and timeouts, on the tokio runtime.
pub(crate) fn build<C>(
    manager: AsyncDieselConnectionManager<C>,
    opts: &PoolOptions,
) -> Result<Pool<C>, StoreError>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>,
    C: PoolableConnection + 'static,
{
    Pool::builder(manager)
        .max_size(opts.max_size.max(1))
        .wait_timeout(Some(opts.wait_timeout))
        .create_timeout(Some(opts.connect_timeout))
        .recycle_timeout(Some(opts.connect_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| StoreError::Pool {
            reason: e.to_string(),
        })
}

/// Checks a connection out of `pool`, as a `PortError` when none can be had.
pub(crate) async fn checkout<C>(pool: &Pool<C>) -> Result<Object<C>, PortError>
where
    AsyncDieselConnectionManager<C>:
        deadpool::managed::Manager<Type = C, Error = diesel_async::pooled_connection::PoolError>,
    C: PoolableConnection + 'static,
{
    pool.get().await.map_err(pool_error)
}
