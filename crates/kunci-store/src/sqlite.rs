//! Opening SQLite: the embedded default for a single node.
//!
//! SQLite is synchronous; diesel-async's `SyncConnectionWrapper` runs each statement on tokio's
//! blocking pool (through [`BlockingRuntime`]). Every new connection gets the same settings:
//! write-ahead logging so readers never wait for the writer, a busy timeout so writers queue
//! instead of failing at once, enforced foreign keys, and `synchronous=NORMAL` (durable across
//! process crashes; a power cut may lose the last transactions, never corrupt the file).

use crate::blocking::BlockingRuntime;
use crate::error::StoreError;
use crate::pool::PoolOptions;
use diesel::connection::SimpleConnection;
use diesel::{Connection, ConnectionError, SqliteConnection};
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::{SpawnBlocking, SyncConnectionWrapper};
use std::path::Path;
use std::sync::Arc;

/// An async SQLite connection.
pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection, BlockingRuntime>;

/// Creates the file's directory and a pool of configured connections (none opened yet).
pub(crate) async fn pool(path: &str, opts: &PoolOptions) -> Result<Pool<SqliteConn>, StoreError> {
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|source| StoreError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
    }

    let pragmas: Arc<str> = pragmas(opts).into();
    let path: Arc<str> = path.into();
    let mut config = ManagerConfig::<SqliteConn>::default();
    // A local file does not go away between statements; skip the round trip on checkout.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup =
        Box::new(move |_url| Box::pin(establish(Arc::clone(&path), Arc::clone(&pragmas))));
    let manager = AsyncDieselConnectionManager::new_with_config("sqlite", config);
    crate::pool::build(manager, opts)
}

/// The per-connection settings. `busy_timeout` comes first so that switching to WAL waits for
/// a concurrent writer instead of failing.
fn pragmas(opts: &PoolOptions) -> String {
    format!(
        "PRAGMA busy_timeout = {};
         PRAGMA journal_mode = WAL;
         PRAGMA foreign_keys = ON;
         PRAGMA synchronous = NORMAL;",
        opts.statement_timeout.as_millis().min(i32::MAX as u128)
    )
}

async fn establish(path: Arc<str>, pragmas: Arc<str>) -> Result<SqliteConn, ConnectionError> {
    let mut runtime = BlockingRuntime::get_runtime();
    let conn = runtime
        .spawn_blocking(move || {
            let mut conn = SqliteConnection::establish(&path)?;
            conn.batch_execute(&pragmas).map_err(|e| {
                ConnectionError::BadConnection(format!("setting SQLite pragmas: {e}"))
            })?;
            Ok::<_, ConnectionError>(conn)
        })
        .await
        .map_err(|e| ConnectionError::BadConnection(e.to_string()))??;
    Ok(SyncConnectionWrapper::with_runtime(conn, runtime))
}
