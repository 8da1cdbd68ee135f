//! Test fixtures: a fresh, migrated database per test on each backend, and sample records.
//!
//! SQLite lives in a new temporary directory. PostgreSQL gets a new database with a random
//! name, created through the admin URL in `KUNCI_TEST_DATABASE_URL` and dropped afterwards
//! (even when the test fails), so parallel and repeated runs never see each other's rows.

use kunci_core::UnixTime;
use kunci_core::ports::{Account, Consent, StoredKey};
use kunci_store::{Database, PoolOptions};
use std::any::Any;
use std::future::Future;
use std::sync::Once;

pub const PG_ENV: &str = "KUNCI_TEST_DATABASE_URL";

/// Runs `case` on a fresh, migrated SQLite database.
pub async fn on_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Database) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_in(&dir).await;
    case(db.clone()).await;
    db.close();
}

/// Opens and migrates a SQLite database inside `dir` (in a subdirectory that does not exist yet).
pub async fn sqlite_in(dir: &tempfile::TempDir) -> Database {
    let url = format!(
        "sqlite://{}",
        dir.path().join("nested/data/kunci.db").display()
    );
    let db = Database::connect(&url, &PoolOptions::default())
        .await
        .unwrap();
    assert!(
        db.migrate().await.unwrap() > 0,
        "a fresh database has migrations to apply"
    );
    db
}

/// Runs `case` on a fresh, migrated PostgreSQL database, or skips (see [`pg_admin_url`]).
pub async fn on_postgres<F, Fut>(case: F)
where
    F: FnOnce(Database) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let db = Database::connect(&pg.url, &PoolOptions::default())
        .await
        .unwrap();
    // The case runs as its own task so that a failing assertion still lets us drop the database.
    let outcome = match db.migrate().await {
        Ok(n) if n > 0 => tokio::spawn(case(db.clone()))
            .await
            .map_err(|e| e.into_panic()),
        other => Err(
            Box::new(format!("migrating a fresh database gave {other:?}")) as Box<dyn Any + Send>,
        ),
    };
    db.close();
    pg.drop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// The admin URL of the test PostgreSQL server, or `None` after printing (once) that the
/// PostgreSQL suite is skipped. With `KUNCI_TEST_REQUIRE_ALL=1` a missing URL fails the test.
pub fn pg_admin_url() -> Option<String> {
    static SKIP_NOTICE: Once = Once::new();
    match std::env::var(PG_ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var("KUNCI_TEST_REQUIRE_ALL").as_deref() == Ok("1") {
                panic!("{PG_ENV} is not set, and KUNCI_TEST_REQUIRE_ALL=1 requires every backend");
            }
            SKIP_NOTICE.call_once(|| {
                println!("skipped: PostgreSQL store conformance ({PG_ENV} not set)");
            });
            None
        }
    }
}

/// A throwaway PostgreSQL database.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create() -> Option<PgDatabase> {
        let admin_url = pg_admin_url()?;
        let name = format!("kunci_t_{}", random_hex());
        admin(&admin_url, &format!("CREATE DATABASE {name}")).await;
        let url = with_database(&admin_url, &name);
        Some(PgDatabase {
            admin_url,
            name,
            url,
        })
    }

    /// Best effort: a leftover `kunci_t_*` database is harmless and easy to spot.
    pub async fn drop(self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = try_admin(&self.admin_url, &sql).await {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

async fn admin(admin_url: &str, sql: &str) {
    try_admin(admin_url, sql)
        .await
        .unwrap_or_else(|e| panic!("`{sql}` on the test server failed: {e}"));
}

async fn try_admin(admin_url: &str, sql: &str) -> Result<(), tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls).await?;
    let driver = tokio::spawn(conn);
    let result = client.batch_execute(sql).await;
    drop(client);
    let _ = driver.await;
    result
}

/// `admin_url` with its database name replaced by `name`, keeping any query string.
pub fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!("{}/{name}{query}", &base[..path_start])
}

/// 64 random bits, from the standard library's randomly keyed hasher.
fn random_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    format!("{:016x}", h.finish())
}

/// An account with plausible values; `n` keeps ids and emails apart.
pub fn account(n: u32, created_at: UnixTime) -> Account {
    Account {
        id: format!("acc-{n:04}"),
        email: format!("user{n}@example.test"),
        email_verified: false,
        name: format!("User {n}"),
        password_hash: None,
        locale: None,
        created_at,
        updated_at: created_at,
    }
}

pub fn consent(
    account_id: &str,
    client_id: &str,
    scopes: &[&str],
    granted_at: UnixTime,
) -> Consent {
    Consent {
        account_id: account_id.into(),
        client_id: client_id.into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        granted_at,
    }
}

/// An active signing key with stand-in sealed bytes (the store never opens them).
pub fn stored_key(kid: &str, alg: &str, created_at: UnixTime) -> StoredKey {
    StoredKey {
        kid: kid.into(),
        alg: alg.into(),
        sealed: format!("sealed:{kid}").into_bytes(),
        created_at,
        activates_at: created_at,
        retired_at: None,
    }
}

#[test]
fn with_database_replaces_only_the_database_name() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@127.0.0.1/test?sslmode=disable", "x"),
        "postgres://u:p@127.0.0.1/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://127.0.0.1", "x"),
        "postgres://127.0.0.1/x"
    );
}
