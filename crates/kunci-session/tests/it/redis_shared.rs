//! `RedisStore` against the shared Redis named by `KUNCI_TEST_REDIS_URL` (locally
//! `redis://127.0.0.1:6379`): the conformance suite plus Redis-specific checks. Each test works
//! under its own random key prefix and deletes its keys at the end (the suite even after a
//! failed case); every key carries a TTL, so nothing a failed test leaves outlives it long.

use crate::redis_harness::{connect, run_conformance};
use crate::support::{delete_prefixed, random_prefix, raw, shared_redis_url};
use kunci_core::ports::EphemeralStore;
use kunci_session::{RedisConfig, RedisStore, SessionError};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_passes_the_conformance_suite() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    run_conformance(&url, Some(&url)).await;
}

#[tokio::test]
async fn every_key_is_stored_under_the_prefix_with_a_ttl() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let prefix = random_prefix();
    let store = connect(&url, &prefix).await;
    store.put("sess:p", b"v1", 300).await.unwrap();
    assert!(store.put_if_absent("jti:p", b"v2", 300).await.unwrap());
    store.incr("rate:p", 300).await.unwrap();
    store.put("sess:zero", b"v3", 0).await.unwrap();

    let mut conn = raw(&url).await;
    for (key, max_ttl) in [
        ("sess:p", 300),
        ("jti:p", 300),
        ("rate:p", 300),
        ("sess:zero", 1),
    ] {
        let full = format!("{prefix}{key}");
        let ttl: i64 = redis::cmd("TTL")
            .arg(&full)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(
            (0..=max_ttl).contains(&ttl),
            "{key}: TTL {ttl}, expected 0..={max_ttl}"
        );
        let unprefixed: bool = redis::cmd("EXISTS")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(!unprefixed, "{key} was also written without the prefix");
    }
    let raw_value: Vec<u8> = redis::cmd("GET")
        .arg(format!("{prefix}sess:p"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(raw_value, b"v1");
    assert_eq!(store.key_prefix(), prefix);
    assert!(delete_prefixed(&url, &prefix).await >= 3);
}

#[tokio::test]
async fn a_counter_that_somehow_lost_its_ttl_gets_one_on_the_next_increment() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let prefix = random_prefix();
    let store = connect(&url, &prefix).await;
    let full = format!("{prefix}rate:no-ttl");
    let mut conn = raw(&url).await;
    redis::cmd("SET")
        .arg(&full)
        .arg("5")
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    assert_eq!(store.incr("rate:no-ttl", 60).await.unwrap(), 6);
    let ttl: i64 = redis::cmd("TTL")
        .arg(&full)
        .query_async(&mut conn)
        .await
        .unwrap();
    delete_prefixed(&url, &prefix).await;
    assert!(
        (1..=60).contains(&ttl),
        "TTL {ttl}: counters must never live forever"
    );
}

#[tokio::test]
async fn rediss_against_a_plain_text_server_is_a_connect_error_not_a_panic_or_hang() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let Some(rest) = url.strip_prefix("redis://") else {
        crate::support::skip(
            "Redis TLS negative check",
            "KUNCI_TEST_REDIS_URL is not redis://",
        );
        return;
    };
    let mut cfg = RedisConfig::new(format!("rediss://{rest}"));
    cfg.connect_timeout = Duration::from_millis(500);
    cfg.response_timeout = Duration::from_millis(500);
    let outcome = tokio::time::timeout(Duration::from_secs(10), RedisStore::connect(&cfg)).await;
    let result = outcome.expect("TLS connect to a plain-text server hung");
    assert!(
        matches!(result, Err(SessionError::Connect { .. })),
        "{result:?}"
    );
}
