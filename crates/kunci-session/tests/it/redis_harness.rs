//! The conformance harness for `RedisStore`, shared by the tests against the shared Redis and
//! those against test-owned Sentinel and Cluster deployments.

use crate::conformance::{self, Harness, for_each_case};
use crate::support::{delete_prefixed, random_prefix};
use async_trait::async_trait;
use kunci_core::ports::EphemeralStore;
use kunci_session::{RedisConfig, RedisStore};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct RedisHarness {
    url: String,
    store: Arc<RedisStore>,
    /// Every prefix this run wrote under, for the clean-up.
    prefixes: Mutex<Vec<String>>,
}

/// A store on `url` under `prefix`, with the default timeouts.
pub async fn connect(url: &str, prefix: &str) -> RedisStore {
    let mut cfg = RedisConfig::new(url);
    cfg.key_prefix = prefix.to_owned();
    RedisStore::connect(&cfg)
        .await
        .unwrap_or_else(|e| panic!("connect to the test Redis: {e}"))
}

#[async_trait]
impl Harness for RedisHarness {
    fn store(&self) -> Arc<dyn EphemeralStore> {
        self.store.clone()
    }
    async fn twin(&self) -> Arc<dyn EphemeralStore> {
        let prefix = random_prefix();
        self.prefixes.lock().unwrap().push(prefix.clone());
        Arc::new(connect(&self.url, &prefix).await)
    }
    async fn advance(&self, secs: u64) {
        // Real time: a little more than asked, so a TTL of `secs` has surely run out.
        tokio::time::sleep(Duration::from_secs(secs) + Duration::from_millis(150)).await;
    }
    fn expiry_grace(&self) -> Duration {
        Duration::from_secs(5)
    }
}

type Case = fn(Arc<dyn Harness>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

macro_rules! case_list {
    ($($case:ident),* $(,)?) => {
        vec![$((stringify!($case), (|h| Box::pin(conformance::$case(h))) as Case)),*]
    };
}

/// Runs every conformance case against a `RedisStore` on `url`, under a random prefix. With
/// `clean_up_url` (a plain URL of the same server), deletes the run's keys afterwards, even
/// when cases failed, and checks that keys really were written under the prefix.
pub async fn run_conformance(url: &str, clean_up_url: Option<&str>) {
    let prefix = random_prefix();
    let store = Arc::new(connect(url, &prefix).await);
    let h = Arc::new(RedisHarness {
        url: url.to_owned(),
        store,
        prefixes: Mutex::new(vec![prefix]),
    });
    let cases: Vec<(&str, Case)> = for_each_case!(case_list);
    let mut failed = Vec::new();
    for (name, case) in cases {
        // Each case runs as a task, so a failing one is reported and the clean-up still runs.
        let harness: Arc<dyn Harness> = h.clone();
        if tokio::spawn(case(harness)).await.is_err() {
            failed.push(name);
        }
    }
    let mut deleted = None;
    if let Some(clean_up_url) = clean_up_url {
        let prefixes = h.prefixes.lock().unwrap().clone();
        let mut n = 0;
        for p in &prefixes {
            n += delete_prefixed(clean_up_url, p).await;
        }
        deleted = Some(n);
        for p in &prefixes {
            assert_eq!(
                delete_prefixed(clean_up_url, p).await,
                0,
                "clean-up left keys behind"
            );
        }
    }
    assert!(
        failed.is_empty(),
        "conformance cases failed against {url}: {failed:?}"
    );
    if let Some(n) = deleted {
        assert!(
            n > 0,
            "the suite left no keys under its prefix: are keys prefixed?"
        );
    }
}
