//! `MemoryStore` against the conformance suite, with a manual clock: expiry is tested by moving
//! time, never by sleeping. Plus the exact TTL boundaries, which a manual clock can pin down.

use crate::conformance::{self, Harness, for_each_case};
use async_trait::async_trait;
use kunci_core::ManualClock;
use kunci_core::ports::EphemeralStore;
use kunci_session::MemoryStore;
use std::sync::Arc;
use std::time::Duration;

struct MemoryHarness {
    clock: Arc<ManualClock>,
    store: Arc<MemoryStore>,
}

fn harness() -> Arc<MemoryHarness> {
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let store = Arc::new(MemoryStore::new(clock.clone()));
    Arc::new(MemoryHarness { clock, store })
}

#[async_trait]
impl Harness for MemoryHarness {
    fn store(&self) -> Arc<dyn EphemeralStore> {
        self.store.clone()
    }
    async fn twin(&self) -> Arc<dyn EphemeralStore> {
        Arc::new(MemoryStore::new(self.clock.clone()))
    }
    async fn advance(&self, secs: u64) {
        self.clock.advance(i64::try_from(secs).unwrap());
    }
    fn expiry_grace(&self) -> Duration {
        Duration::ZERO
    }
}

macro_rules! memory_cases {
    ($($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                conformance::$case(harness()).await;
            }
        )*
    };
}
for_each_case!(memory_cases);

#[tokio::test]
async fn an_entry_is_live_until_the_last_second_of_its_ttl_and_gone_at_the_ttl() {
    let h = harness();
    h.store.put("sess:edge", b"v", 10).await.unwrap();
    h.clock.advance(9);
    assert_eq!(
        h.store.get("sess:edge").await.unwrap().as_deref(),
        Some(&b"v"[..])
    );
    h.clock.advance(1);
    assert_eq!(h.store.get("sess:edge").await.unwrap(), None);
    assert!(h.store.put_if_absent("sess:edge", b"w", 10).await.unwrap());
}

#[tokio::test]
async fn a_zero_ttl_still_lives_one_second_like_redis() {
    let h = harness();
    h.store.put("sess:zero", b"v", 0).await.unwrap();
    assert!(h.store.get("sess:zero").await.unwrap().is_some());
    h.clock.advance(1);
    assert!(h.store.get("sess:zero").await.unwrap().is_none());
}

#[tokio::test]
async fn incr_window_ends_exactly_ttl_seconds_after_the_first_increment() {
    let h = harness();
    assert_eq!(h.store.incr("rate:w", 60).await.unwrap(), 1);
    h.clock.advance(59);
    assert_eq!(h.store.incr("rate:w", 60).await.unwrap(), 2);
    h.clock.advance(1);
    assert_eq!(h.store.incr("rate:w", 60).await.unwrap(), 1);
}

#[tokio::test]
async fn clones_share_entries() {
    let h = harness();
    let clone = (*h.store).clone();
    clone.put("sess:c", b"v", 60).await.unwrap();
    assert_eq!(
        h.store.take("sess:c").await.unwrap().as_deref(),
        Some(&b"v"[..])
    );
    assert_eq!(clone.get("sess:c").await.unwrap(), None);
}
