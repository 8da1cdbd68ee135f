//! `KeyRepo` on diesel: the signing keys every node shares, written once for both backends.
//!
//! Rows hold the private key only sealed under the master key (the core's `sealing`); this
//! module never sees the master key nor a key in clear, and stores the bytes as given.
//! A rotation ([`KeyRepo::rotate_key`]) adds the successor and schedules the retirement of the
//! current key in one transaction; keys are deleted only once retired long enough that no
//! token they signed can still be checked (the caller decides when; ADR 0006).
//!
//! The two writes that must not interleave with another node's ([`KeyRepo::insert_key_if_none_active`],
//! [`KeyRepo::rotate_key`]) are where the backends differ: SQLite takes its single write lock
//! with the first writing statement, PostgreSQL (under `READ COMMITTED`) needs the table
//! locked against concurrent writers first ([`LockKeys`]).

use crate::error::port_error;
use crate::pool::{Backend, Database, checkout, run};
use crate::schema::signing_keys;
use crate::sqlite::SqliteConn;
use async_trait::async_trait;
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, Nullable, Text};
use diesel_async::methods::ExecuteDsl;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use kunci_core::ports::{KeyRepo, StoredKey};
use kunci_core::{PortError, UnixTime};

/// A signing key as stored.
#[derive(Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct KeyRow {
    kid: String,
    alg: String,
    sealed: Vec<u8>,
    created_at: i64,
    retired_at: Option<i64>,
    activates_at: i64,
}

impl From<KeyRow> for StoredKey {
    fn from(row: KeyRow) -> Self {
        StoredKey {
            kid: row.kid,
            alg: row.alg,
            sealed: row.sealed,
            created_at: row.created_at,
            activates_at: row.activates_at,
            retired_at: row.retired_at,
        }
    }
}

/// A new key, borrowed from the caller's `StoredKey`.
#[derive(Insertable)]
#[diesel(table_name = signing_keys)]
struct NewKey<'a> {
    kid: &'a str,
    alg: &'a str,
    sealed: &'a [u8],
    created_at: i64,
    retired_at: Option<i64>,
    activates_at: i64,
}

impl<'a> From<&'a StoredKey> for NewKey<'a> {
    fn from(k: &'a StoredKey) -> Self {
        NewKey {
            kid: &k.kid,
            alg: &k.alg,
            sealed: &k.sealed,
            created_at: k.created_at,
            retired_at: k.retired_at,
            activates_at: k.activates_at,
        }
    }
}

#[async_trait]
impl KeyRepo for Database {
    async fn list_keys(&self) -> Result<Vec<StoredKey>, PortError> {
        let rows = run!(self, |conn| signing_keys::table
            .select(KeyRow::as_select())
            // Every node must read the keys in the same order: the oldest active key signs.
            .order((signing_keys::created_at.asc(), signing_keys::kid.asc()))
            .load(conn)
            .await)?;
        Ok(rows.into_iter().map(StoredKey::from).collect())
    }

    async fn insert_key(&self, key: &StoredKey) -> Result<(), PortError> {
        let row = NewKey::from(key);
        // A plain INSERT: a duplicate kid is a unique violation, which maps to `Conflict`.
        run!(self, |conn| diesel::insert_into(signing_keys::table)
            .values(&row)
            .execute(conn)
            .await)?;
        Ok(())
    }

    async fn insert_key_if_none_active(&self, key: &StoredKey) -> Result<bool, PortError> {
        let inserted = match &self.backend {
            Backend::Sqlite(pool) => {
                let mut conn = checkout(pool).await?;
                // A writing statement takes SQLite's write lock before it reads anything, and
                // writers take turns: the check and the insert are one atomic step.
                insert_unless_active(key).execute(&mut *conn).await
            }
            Backend::Postgres(pool) => {
                let mut pooled = checkout(pool).await?;
                let conn: &mut AsyncPgConnection = &mut pooled;
                conn.transaction(async |conn| {
                    // Under READ COMMITTED, two racing statements would both see no active
                    // key. The lock (which readers ignore) makes writers take turns, and the
                    // insert's snapshot, taken after the lock, sees the winner's row.
                    diesel::sql_query("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
                        .execute(conn)
                        .await?;
                    insert_unless_active(key).execute(conn).await
                })
                .await
            }
        }
        .map_err(port_error)?;
        Ok(inserted == 1)
    }

    async fn rotate_key(&self, key: &StoredKey, now: UnixTime) -> Result<bool, PortError> {
        let row = NewKey::from(key);
        let row = &row;
        let alg = key.alg.as_str();
        let outcome = run!(self, |conn| conn
            .transaction(async |conn| {
                conn.lock_keys().await?;
                // Writing first: on SQLite this statement takes the write lock, so the check
                // below cannot be overtaken by another rotation.
                diesel::update(
                    signing_keys::table
                        .filter(signing_keys::alg.eq(alg))
                        .filter(signing_keys::retired_at.is_null())
                        .filter(signing_keys::activates_at.le(now)),
                )
                .set(signing_keys::retired_at.eq(key.activates_at))
                .execute(conn)
                .await?;
                let pending: i64 = signing_keys::table
                    .filter(signing_keys::alg.eq(alg))
                    .filter(signing_keys::retired_at.is_null())
                    .filter(signing_keys::activates_at.gt(now))
                    .count()
                    .get_result(conn)
                    .await?;
                if pending > 0 {
                    return Err(diesel::result::Error::RollbackTransaction);
                }
                diesel::insert_into(signing_keys::table)
                    .values(row)
                    .execute(conn)
                    .await?;
                Ok(())
            })
            .await
            .map(|()| true)
            .or_else(|e| match e {
                diesel::result::Error::RollbackTransaction => Ok(false),
                other => Err(other),
            }))?;
        Ok(outcome)
    }

    async fn delete_retired_keys(&self, retired_by: UnixTime) -> Result<u64, PortError> {
        let deleted = run!(self, |conn| diesel::delete(
            signing_keys::table.filter(signing_keys::retired_at.le(retired_by))
        )
        .execute(conn)
        .await)?;
        Ok(deleted as u64)
    }
}

/// Makes concurrent writers of `signing_keys` take turns for the rest of the transaction.
/// Readers are never blocked (nodes keep loading keys during a rotation).
trait LockKeys {
    async fn lock_keys(&mut self) -> diesel::QueryResult<()>;
}

impl LockKeys for SqliteConn {
    /// SQLite has one writer at a time: the first writing statement takes the lock.
    async fn lock_keys(&mut self) -> diesel::QueryResult<()> {
        Ok(())
    }
}

impl LockKeys for AsyncPgConnection {
    /// Under READ COMMITTED, two racing transactions would each see the other's key as not
    /// there yet. SHARE ROW EXCLUSIVE conflicts with itself and with every write, not with reads.
    async fn lock_keys(&mut self) -> diesel::QueryResult<()> {
        diesel::sql_query("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
            .execute(self)
            .await
            .map(|_| ())
    }
}

/// `INSERT INTO signing_keys (…) SELECT <key> WHERE NOT EXISTS (an active key of its alg)`.
fn insert_unless_active<'a>(
    key: &'a StoredKey,
) -> impl ExecuteDsl<SqliteConn> + ExecuteDsl<AsyncPgConnection> + Send + 'a {
    let no_active_key = not(exists(
        signing_keys::table
            .filter(signing_keys::alg.eq(key.alg.as_str()))
            .filter(signing_keys::retired_at.is_null()),
    ));
    let row = diesel::select((
        key.kid.as_str().into_sql::<Text>(),
        key.alg.as_str().into_sql::<Text>(),
        key.sealed.as_slice().into_sql::<Binary>(),
        key.created_at.into_sql::<BigInt>(),
        key.retired_at.into_sql::<Nullable<BigInt>>(),
        key.activates_at.into_sql::<BigInt>(),
    ))
    .filter(no_active_key);
    diesel::insert_into(signing_keys::table)
        .values(row)
        .into_columns((
            signing_keys::kid,
            signing_keys::alg,
            signing_keys::sealed,
            signing_keys::created_at,
            signing_keys::retired_at,
            signing_keys::activates_at,
        ))
}
