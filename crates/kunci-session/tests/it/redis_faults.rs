//! Faults: Redis goes away and comes back. Each test owns its `redis-server` on a free port of
//! 127.0.0.1 (never the shared one), kills and restarts it, and checks that the store answers
//! `Unavailable` quickly meanwhile and works again afterwards without being re-created.

use crate::support::{OwnedRedis, free_port, random_prefix, redis_server_on_path, skip};
use kunci_core::PortError;
use kunci_core::ports::EphemeralStore;
use kunci_session::{RedisConfig, RedisStore, SessionError};
use std::time::{Duration, Instant};

const WHAT: &str = "Redis fault tests";

fn fast_config(url: String) -> RedisConfig {
    let mut cfg = RedisConfig::new(url);
    cfg.key_prefix = random_prefix();
    cfg.connect_timeout = Duration::from_millis(500);
    cfg.response_timeout = Duration::from_millis(500);
    cfg
}

/// Every operation of the port, each expected to fail with `Unavailable` while Redis is down.
async fn assert_all_unavailable(store: &RedisStore) {
    let results = [
        ("get", store.get("sess:k").await.map(drop)),
        ("put", store.put("sess:k", b"v", 60).await),
        (
            "put_if_absent",
            store.put_if_absent("jti:k", b"v", 60).await.map(drop),
        ),
        ("take", store.take("code:k").await.map(drop)),
        ("delete", store.delete("sess:k").await),
        ("incr", store.incr("rate:k", 60).await.map(drop)),
        ("ping", store.ping().await),
    ];
    for (op, r) in results {
        assert!(
            matches!(r, Err(PortError::Unavailable(_))),
            "{op} while Redis is down: {r:?}"
        );
    }
}

/// Polls `put` + `get` for up to ten seconds; true once the store works again.
async fn heals_within_ten_seconds(store: &RedisStore) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if store.put("sess:after", b"back", 60).await.is_ok() {
            return store.get("sess:after").await == Ok(Some(b"back".to_vec()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_fails_fast_while_redis_is_down_and_heals_when_it_returns() {
    if !redis_server_on_path() {
        return skip(WHAT, "redis-server not on PATH");
    }
    let port = free_port();
    let mut server = OwnedRedis::start(port, &[]).await;
    let cfg = fast_config(format!("redis://127.0.0.1:{port}"));
    let store = RedisStore::connect(&cfg)
        .await
        .expect("connect to the owned redis-server");
    store.put("sess:before", b"v", 60).await.unwrap();

    server.stop();
    // Several rounds, so both the first failures and those during reconnect attempts count.
    let down = tokio::time::timeout(Duration::from_secs(10), async {
        for _ in 0..3 {
            let started = Instant::now();
            assert_all_unavailable(&store).await;
            // Seven operations, each bounded by the 500 ms response timeout.
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "failing took {:?}",
                started.elapsed()
            );
        }
    })
    .await;
    assert!(down.is_ok(), "operations hung while Redis was down");

    let server = OwnedRedis::start(port, &[]).await;
    assert!(
        heals_within_ten_seconds(&store).await,
        "the store did not recover after Redis came back"
    );
    // The restarted server kept nothing: the store really talks to the new process.
    assert_eq!(store.get("sess:before").await.unwrap(), None);
    drop(server);
}

/// A reconnect that fails with something other than an I/O error (here: the password was
/// rotated on the server first) must not leave the store stuck once the cause is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_that_fails_for_a_non_io_reason_does_not_poison_the_store() {
    if !redis_server_on_path() {
        return skip(WHAT, "redis-server not on PATH");
    }
    let port = free_port();
    let mut server = OwnedRedis::start(port, &["--requirepass", "right-pw"]).await;
    let cfg = fast_config(format!("redis://:right-pw@127.0.0.1:{port}"));
    let store = RedisStore::connect(&cfg)
        .await
        .expect("connect to the owned redis-server");
    store.put("sess:before", b"v", 60).await.unwrap();

    server.stop();
    let mut server = OwnedRedis::start(port, &["--requirepass", "other-pw"]).await;
    // Keep calling for a while, so reconnects end in authentication failures.
    let wrong = tokio::time::timeout(Duration::from_secs(10), async {
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            let r = store.get("sess:before").await;
            assert!(
                matches!(r, Err(PortError::Unavailable(_))),
                "with a wrong password: {r:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(
        wrong.is_ok(),
        "operations hung while the password was wrong"
    );

    server.stop();
    let _server = OwnedRedis::start(port, &["--requirepass", "right-pw"]).await;
    assert!(
        heals_within_ten_seconds(&store).await,
        "the store stayed stuck after a failed reconnect"
    );
}

#[tokio::test]
async fn connecting_to_nothing_fails_fast_with_a_message_that_hides_the_password() {
    let port = free_port();
    let cfg = fast_config(format!("redis://:hunter2@127.0.0.1:{port}/0"));
    let outcome = tokio::time::timeout(Duration::from_secs(10), RedisStore::connect(&cfg)).await;
    let err = outcome
        .expect("connect hung")
        .expect_err("nothing listens on that port");
    assert!(matches!(err, SessionError::Connect { .. }), "{err:?}");
    let shown = format!("{err} / {err:?} / {cfg:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains(&format!("redis://:***@127.0.0.1:{port}/0")),
        "{shown}"
    );
}

#[tokio::test]
async fn bad_settings_are_config_errors_naming_the_setting() {
    let mut cfg = fast_config("redis://127.0.0.1:1".to_owned());
    cfg.response_timeout = Duration::ZERO;
    let err = RedisStore::connect(&cfg).await.expect_err("zero timeout");
    assert!(err.to_string().contains("response_timeout"), "{err}");

    let cfg = fast_config("http://:hunter2@127.0.0.1:6379".to_owned());
    let err = RedisStore::connect(&cfg).await.expect_err("wrong scheme");
    assert!(matches!(err, SessionError::InvalidUrl { .. }), "{err:?}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}
