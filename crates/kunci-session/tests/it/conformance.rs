//! The conformance suite: what every `EphemeralStore` backend must do, written once.
//!
//! Each case takes a [`Harness`], which hands out the store under test and knows how to let
//! time pass for it (a manual clock for memory, real sleeping for Redis). The list of cases is
//! kept in [`for_each_case!`] so each backend runs all of them and none can be forgotten.

use async_trait::async_trait;
use kunci_core::PortError;
use kunci_core::ports::EphemeralStore;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a backend provides to the suite.
#[async_trait]
pub trait Harness: Send + Sync + 'static {
    /// The store under test.
    fn store(&self) -> Arc<dyn EphemeralStore>;
    /// Another store on the same backend in a different namespace (another key prefix).
    async fn twin(&self) -> Arc<dyn EphemeralStore>;
    /// Lets at least `secs` seconds of the store's time pass.
    async fn advance(&self, secs: u64);
    /// How long an entry may stay visible after its TTL has passed before the backend is at
    /// fault (zero for a manual clock; a few seconds of polling for a real server).
    fn expiry_grace(&self) -> Duration;
}

/// Calls `$m!(case, case, …)` with every case of the suite.
macro_rules! for_each_case {
    ($m:ident) => {
        $m! {
            put_then_get_returns_the_exact_bytes,
            get_of_a_missing_key_is_none,
            put_overwrites_the_value_and_the_ttl,
            put_if_absent_stores_only_the_first_value,
            take_returns_the_value_once_then_none,
            concurrent_takes_of_one_key_have_exactly_one_winner,
            delete_removes_the_key_and_is_idempotent,
            entries_vanish_after_their_ttl,
            incr_counts_up_from_one_per_key,
            incr_window_is_fixed_by_the_first_increment,
            ping_succeeds,
            namespaces_do_not_see_each_others_keys
        }
    };
}
pub(crate) use for_each_case;

/// Polls until `key` reads as absent, for at most the harness's grace. True if it did.
async fn eventually_absent(h: &dyn Harness, store: &dyn EphemeralStore, key: &str) -> bool {
    let deadline = Instant::now() + h.expiry_grace();
    loop {
        if store
            .get(key)
            .await
            .expect("get while waiting for expiry")
            .is_none()
        {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn bytes(v: &[u8]) -> Option<Vec<u8>> {
    Some(v.to_vec())
}

pub async fn put_then_get_returns_the_exact_bytes(h: Arc<dyn Harness>) {
    let s = h.store();
    // Not UTF-8, with a NUL and a CR LF inside: values are opaque bytes.
    let value = [0u8, 0xff, b'\r', b'\n', 0xc3, 0x28, b'x'];
    s.put("sess:bytes", &value, 3600).await.unwrap();
    assert_eq!(s.get("sess:bytes").await.unwrap(), bytes(&value));
    s.put("sess:empty", b"", 3600).await.unwrap();
    assert_eq!(
        s.get("sess:empty").await.unwrap(),
        bytes(b""),
        "an empty value is still a value"
    );
}

pub async fn get_of_a_missing_key_is_none(h: Arc<dyn Harness>) {
    let s = h.store();
    assert_eq!(s.get("sess:never-written").await.unwrap(), None);
    assert_eq!(s.take("sess:never-written").await.unwrap(), None);
}

pub async fn put_overwrites_the_value_and_the_ttl(h: Arc<dyn Harness>) {
    let s = h.store();
    s.put("sess:over", b"first", 1).await.unwrap();
    s.put("sess:over", b"second", 3600).await.unwrap();
    assert_eq!(s.get("sess:over").await.unwrap(), bytes(b"second"));
    // The second put's TTL replaced the first one's.
    h.advance(2).await;
    assert_eq!(
        s.get("sess:over").await.unwrap(),
        bytes(b"second"),
        "overwrite kept the old TTL"
    );
}

pub async fn put_if_absent_stores_only_the_first_value(h: Arc<dyn Harness>) {
    let s = h.store();
    assert!(
        s.put_if_absent("jti:once", b"first", 1).await.unwrap(),
        "first insert must store"
    );
    assert!(
        !s.put_if_absent("jti:once", b"second", 1).await.unwrap(),
        "second insert must not store"
    );
    assert_eq!(s.get("jti:once").await.unwrap(), bytes(b"first"));
    // Once the first entry has expired the key is free again.
    h.advance(1).await;
    assert!(
        eventually_absent(&*h, &*s, "jti:once").await,
        "entry outlived its TTL"
    );
    assert!(
        s.put_if_absent("jti:once", b"third", 3600).await.unwrap(),
        "expired key must be free"
    );
    assert_eq!(s.get("jti:once").await.unwrap(), bytes(b"third"));
}

pub async fn take_returns_the_value_once_then_none(h: Arc<dyn Harness>) {
    let s = h.store();
    s.put("code:once", b"grant", 60).await.unwrap();
    assert_eq!(s.take("code:once").await.unwrap(), bytes(b"grant"));
    assert_eq!(
        s.take("code:once").await.unwrap(),
        None,
        "a code must be taken only once"
    );
    assert_eq!(s.get("code:once").await.unwrap(), None, "take must delete");
}

pub async fn concurrent_takes_of_one_key_have_exactly_one_winner(h: Arc<dyn Harness>) {
    let s = h.store();
    for round in 0..5 {
        let key = format!("code:race:{round}");
        s.put(&key, b"grant", 60).await.unwrap();
        let start = Arc::new(tokio::sync::Barrier::new(16));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (s, key, start) = (Arc::clone(&s), key.clone(), Arc::clone(&start));
                tokio::spawn(async move {
                    start.wait().await;
                    s.take(&key).await.unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for t in tasks {
            if let Some(v) = t.await.unwrap() {
                assert_eq!(v, b"grant");
                winners += 1;
            }
        }
        assert_eq!(
            winners, 1,
            "round {round}: {winners} callers took the same code"
        );
    }
}

pub async fn delete_removes_the_key_and_is_idempotent(h: Arc<dyn Harness>) {
    let s = h.store();
    s.put("sess:del", b"v", 60).await.unwrap();
    s.put("sess:keep", b"v", 60).await.unwrap();
    s.delete("sess:del").await.unwrap();
    assert_eq!(s.get("sess:del").await.unwrap(), None);
    s.delete("sess:del").await.unwrap();
    s.delete("sess:never-written").await.unwrap();
    assert_eq!(
        s.get("sess:keep").await.unwrap(),
        bytes(b"v"),
        "delete touched another key"
    );
}

pub async fn entries_vanish_after_their_ttl(h: Arc<dyn Harness>) {
    let s = h.store();
    s.put("sess:short", b"v", 1).await.unwrap();
    s.put("code:short", b"v", 1).await.unwrap();
    s.put("sess:long", b"v", 3600).await.unwrap();
    assert_eq!(
        s.get("sess:short").await.unwrap(),
        bytes(b"v"),
        "entry gone before its TTL"
    );
    h.advance(1).await;
    assert!(
        eventually_absent(&*h, &*s, "sess:short").await,
        "entry outlived its TTL"
    );
    assert_eq!(
        s.take("code:short").await.unwrap(),
        None,
        "take returned an expired entry"
    );
    assert_eq!(
        s.get("sess:long").await.unwrap(),
        bytes(b"v"),
        "a long-lived entry expired early"
    );
}

pub async fn incr_counts_up_from_one_per_key(h: Arc<dyn Harness>) {
    let s = h.store();
    for expected in 1..=3 {
        assert_eq!(s.incr("rate:a", 60).await.unwrap(), expected);
    }
    assert_eq!(
        s.incr("rate:b", 60).await.unwrap(),
        1,
        "counters share state"
    );
    assert_eq!(
        s.get("rate:a").await.unwrap(),
        bytes(b"3"),
        "counters are decimal ASCII"
    );
    s.put("rate:text", b"not a number", 60).await.unwrap();
    assert!(
        matches!(s.incr("rate:text", 60).await, Err(PortError::Corrupt(_))),
        "incr on a non-number must be Corrupt"
    );
}

pub async fn incr_window_is_fixed_by_the_first_increment(h: Arc<dyn Harness>) {
    let s = h.store();
    assert_eq!(s.incr("rate:win", 2).await.unwrap(), 1);
    h.advance(1).await;
    assert_eq!(
        s.incr("rate:win", 2).await.unwrap(),
        2,
        "window closed too early"
    );
    // Two seconds after the first increment the window is over, whatever the second one did.
    h.advance(1).await;
    assert_eq!(
        s.get("rate:win").await.unwrap(),
        None,
        "a later increment extended the window"
    );
    assert_eq!(
        s.incr("rate:win", 2).await.unwrap(),
        1,
        "a new window starts from one"
    );
}

pub async fn ping_succeeds(h: Arc<dyn Harness>) {
    h.store().ping().await.unwrap();
}

pub async fn namespaces_do_not_see_each_others_keys(h: Arc<dyn Harness>) {
    let (a, b) = (h.store(), h.twin().await);
    a.put("sess:shared-name", b"in a", 60).await.unwrap();
    assert_eq!(
        b.get("sess:shared-name").await.unwrap(),
        None,
        "b sees a's key"
    );
    b.put("sess:shared-name", b"in b", 60).await.unwrap();
    assert_eq!(
        a.get("sess:shared-name").await.unwrap(),
        bytes(b"in a"),
        "b overwrote a's key"
    );
    assert_eq!(b.take("sess:shared-name").await.unwrap(), bytes(b"in b"));
    assert_eq!(
        a.get("sess:shared-name").await.unwrap(),
        bytes(b"in a"),
        "b's take removed a's key"
    );
    assert_eq!(b.incr("rate:shared", 60).await.unwrap(), 1);
    assert_eq!(
        a.incr("rate:shared", 60).await.unwrap(),
        1,
        "counters leak across namespaces"
    );
    a.delete("sess:shared-name").await.unwrap();
}
