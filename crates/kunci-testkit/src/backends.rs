//! Which backends a test server uses: the embedded default (SQLite + memory) always, and
//! PostgreSQL + Redis when `KUNCI_TEST_DATABASE_URL` / `KUNCI_TEST_REDIS_URL` are set. Each server
//! gets its own fresh database and Redis key prefix, so tests run in parallel and twice in a row.

use kunci_core::secret::random_token;

/// True when `KUNCI_TEST_REQUIRE_ALL=1`: a missing prerequisite is then a failure, not a skip.
pub fn require_all() -> bool {
    std::env::var("KUNCI_TEST_REQUIRE_ALL").as_deref() == Ok("1")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backends {
    /// SQLite in a temporary directory and the in-memory session store.
    Embedded,
    /// PostgreSQL (a fresh database is created per server) and Redis (a fresh key prefix).
    Production {
        database_admin_url: String,
        redis_url: String,
    },
}

impl Backends {
    /// The production backends from the environment. `None` (after printing one line saying
    /// what is skipped and why) when they are not configured; panics under `KUNCI_TEST_REQUIRE_ALL=1`.
    pub fn production(what: &str) -> Option<Self> {
        let db = std::env::var("KUNCI_TEST_DATABASE_URL")
            .ok()
            .filter(|s| !s.is_empty());
        let redis = std::env::var("KUNCI_TEST_REDIS_URL")
            .ok()
            .filter(|s| !s.is_empty());
        match (db, redis) {
            (Some(database_admin_url), Some(redis_url)) => Some(Self::Production {
                database_admin_url,
                redis_url,
            }),
            _ => {
                let msg = format!(
                    "skipped: {what} on PostgreSQL + Redis (KUNCI_TEST_DATABASE_URL and KUNCI_TEST_REDIS_URL not both set)"
                );
                assert!(!require_all(), "{msg}, but KUNCI_TEST_REQUIRE_ALL=1");
                println!("{msg}");
                None
            }
        }
    }
}

/// A PostgreSQL database made for one test server, dropped when the server is dropped.
pub struct TempDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl TempDatabase {
    pub async fn create(admin_url: &str) -> anyhow::Result<Self> {
        let name = format!(
            "kunci_t_{}",
            random_token().to_lowercase().replace(['-', '_'], "")[..16].to_owned()
        );
        let (client, conn) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await?;
        let mut url = url::Url::parse(admin_url)?;
        url.set_path(&name);
        Ok(Self {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        })
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        // Drop on a separate thread with its own runtime: Drop cannot be async, and the test's
        // runtime may be shutting down. Best effort; leftovers are named kunci_t_*.
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&admin, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}
