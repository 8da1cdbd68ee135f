//! Running the same test body on every backend set: the embedded default (SQLite + memory) and
//! production (PostgreSQL + Redis). Test bodies call `TestServer::start()` as usual; the macro
//! decides which backends that start uses.
//!
//! ```ignore
//! kunci_testkit::on_every_backend! {
//!     /// A code can be redeemed once.
//!     async fn code_is_single_use() { let server = TestServer::start().await; /* … */ }
//! }
//! ```
//! generates `embedded::code_is_single_use` and `production::code_is_single_use`; the latter
//! prints one `skipped:` line per run when PostgreSQL and Redis are not configured.

use crate::backends::Backends;
use std::future::Future;
use std::sync::Once;

tokio::task_local! {
    static CURRENT: Backends;
}

impl Backends {
    /// The backends of the running test: set by [`on_every_backend!`], otherwise the embedded default.
    pub fn current() -> Backends {
        CURRENT.try_with(Clone::clone).unwrap_or(Backends::Embedded)
    }

    /// Like [`Backends::production`], but says "skipped" only once per test process.
    pub fn production_for_suite() -> Option<Backends> {
        static SAID: Once = Once::new();
        let db = std::env::var("KUNCI_TEST_DATABASE_URL")
            .ok()
            .filter(|s| !s.is_empty());
        let redis = std::env::var("KUNCI_TEST_REDIS_URL")
            .ok()
            .filter(|s| !s.is_empty());
        if let (Some(database_admin_url), Some(redis_url)) = (db, redis) {
            return Some(Backends::Production {
                database_admin_url,
                redis_url,
            });
        }
        assert!(
            !crate::require_all(),
            "the end-to-end suite on PostgreSQL + Redis cannot run: KUNCI_TEST_DATABASE_URL and KUNCI_TEST_REDIS_URL must be set (KUNCI_TEST_REQUIRE_ALL=1)"
        );
        SAID.call_once(|| {
            println!("skipped: end-to-end suite on PostgreSQL + Redis (KUNCI_TEST_DATABASE_URL and KUNCI_TEST_REDIS_URL not both set)")
        });
        None
    }
}

/// Runs `body` with `backends` as the current backends.
pub async fn run_on(backends: Backends, body: impl Future<Output = ()>) {
    CURRENT.scope(backends, body).await
}

/// Defines each `async fn` once and runs it as a test on every backend set.
#[macro_export]
macro_rules! on_every_backend {
    ($($(#[$meta:meta])* async fn $name:ident() $body:block)*) => {
        $( $(#[$meta])* async fn $name() $body )*

        mod embedded {
            $(
                #[tokio::test]
                async fn $name() {
                    $crate::suite::run_on($crate::Backends::Embedded, super::$name()).await
                }
            )*
        }

        mod production {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(backends) = $crate::Backends::production_for_suite() {
                        $crate::suite::run_on(backends, super::$name()).await
                    }
                }
            )*
        }
    };
}
