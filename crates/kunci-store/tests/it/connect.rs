//! `Database::connect` failures: they come back fast, as errors an operator can act on,
//! and never show the password.

use kunci_store::{Database, PoolOptions, StoreError};
use std::time::Duration;

fn fast() -> PoolOptions {
    PoolOptions {
        connect_timeout: Duration::from_secs(2),
        wait_timeout: Duration::from_secs(2),
        ..PoolOptions::default()
    }
}

async fn connect_bounded(url: &str) -> Result<Database, StoreError> {
    tokio::time::timeout(Duration::from_secs(20), Database::connect(url, &fast()))
        .await
        .expect("connect must give up by itself, well within 20 s")
}

#[tokio::test]
async fn a_closed_postgres_port_fails_fast_as_unavailable() {
    let err = connect_bounded("postgres://kunci:hunter2@127.0.0.1:1/kunci")
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert!(msg.contains("127.0.0.1:1"), "names the server: {msg}");
    assert!(!msg.contains("hunter2"), "never shows the password: {msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_postgres_port_fails_fast_on_a_multi_thread_runtime_too() {
    let err = connect_bounded("postgresql://127.0.0.1:1/kunci?sslmode=require")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn an_unsupported_scheme_is_named() {
    let err = connect_bounded("mysql://root:hunter2@127.0.0.1/kunci")
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, StoreError::UnsupportedScheme { ref scheme, .. } if scheme == "mysql"),
        "{err:?}"
    );
    assert!(
        msg.contains("sqlite://") && msg.contains("postgres://"),
        "says what works: {msg}"
    );
    assert!(!msg.contains("hunter2"), "{msg}");
}

#[tokio::test]
async fn malformed_urls_are_invalid_not_unavailable() {
    for url in [
        "kunci.db",
        "sqlite://",
        "postgres://127.0.0.1/db?sslmode=sometimes",
    ] {
        let err = connect_bounded(url).await.unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidUrl { .. }),
            "{url}: {err:?}"
        );
    }
}

#[tokio::test]
async fn an_unopenable_sqlite_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the database file should be.
    let path = dir.path().join("kunci.db");
    std::fs::create_dir(&path).unwrap();
    let err = connect_bounded(&format!("sqlite://{}", path.display()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn a_postgres_server_that_never_answers_times_out() {
    // Accepts TCP connections and then says nothing, like a hung server or a black-holed route.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let err = connect_bounded(&format!("postgres://kunci@127.0.0.1:{port}/kunci"))
        .await
        .unwrap_err();
    silent.abort();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
}
