//! Backend outages: requests fail fast with a clear 503 (page or `temporarily_unavailable` JSON),
//! `/readyz` says which backend is down, and service resumes by itself when it returns, with no
//! account or consent lost.

use crate::support::{Authz, PASSWORD, assert_oauth_error, code_from, exchange, sign_in};
use kunci::clock::SystemClock;
use kunci_core::ErrorCode;
use kunci_testkit::browser::Landing;
use kunci_testkit::faults::{RedisProcess, TcpProxy};
use kunci_testkit::server::WEB;
use kunci_testkit::{Backends, Browser, TestServer, require_all};
use reqwest::StatusCode;
use std::sync::Arc;
use std::time::Duration;

/// Every call against a broken backend must answer well within this (configured timeouts are
/// 0.5–2 s); the bound only turns a hang into a failure, it is not a performance assertion.
const BOUND: Duration = Duration::from_secs(15);

async fn bounded<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, f)
        .await
        .unwrap_or_else(|_| panic!("{what} hung instead of failing fast"))
}

async fn readiness(server: &TestServer) -> (StatusCode, serde_json::Value) {
    let resp = bounded("GET /readyz", reqwest::get(server.url("/readyz")))
        .await
        .expect("readyz answers");
    let status = resp.status();
    (status, resp.json().await.unwrap_or_default())
}

async fn wait_until_ready(server: &TestServer) {
    for _ in 0..60 {
        if readiness(server).await.0 == StatusCode::OK {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("Kunci did not become ready again after the backend returned");
}

fn production(what: &str) -> Option<String> {
    let Backends::Production {
        database_admin_url, ..
    } = Backends::production(what)?
    else {
        return None;
    };
    if !RedisProcess::available() {
        let msg = format!("skipped: {what} (no redis-server binary on PATH)");
        assert!(!require_all(), "{msg}, but KUNCI_TEST_REQUIRE_ALL=1");
        println!("{msg}");
        return None;
    }
    Some(database_admin_url)
}

#[tokio::test]
async fn redis_outage_answers_503_quickly_and_service_resumes_without_losing_consent() {
    let Some(database_admin_url) = production("Redis outage test") else {
        return;
    };
    let mut redis = RedisProcess::start().await;
    let backends = Backends::Production {
        database_admin_url,
        redis_url: redis.url(),
    };
    let server = TestServer::start_full(backends, Arc::new(SystemClock), |c| {
        c.sessions.timeout_ms = 500
    })
    .await;
    let email = "sari@example.com";
    server.add_user(email, "Sari", PASSWORD, true).await;
    let browser = Browser::new(&server.issuer);
    let authz = Authz::new(&WEB);
    let code = code_from(
        &server,
        &authz,
        &sign_in(&server, &browser, &authz, email).await,
    );

    redis.kill();
    let (status, body) = readiness(&server).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["sessions"], "unavailable");
    assert_eq!(body["database"], "ok");
    let (status, body) = bounded("token exchange", exchange(&server, &authz, &code)).await;
    assert_oauth_error(status, &body, ErrorCode::TemporarilyUnavailable);
    let page = bounded(
        "authorize",
        browser.http.get(Authz::new(&WEB).url(&server)).send(),
    )
    .await
    .expect("a response");
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "people get a page"
    );

    redis.restart().await;
    wait_until_ready(&server).await;
    // Redis kept no data, so the SSO session is gone and the user signs in again; the consent
    // lives in the database and is still remembered: no consent page this time.
    let again = Authz::new(&WEB);
    let (_, _, login) = browser.open(&again.url(&server)).await.page();
    let redirect = browser.sign_in(&login, email, PASSWORD).await.left();
    let code = code_from(&server, &again, &redirect);
    let (status, body) = exchange(&server, &again, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn database_outage_answers_503_quickly_and_service_resumes_without_losing_accounts() {
    let Some(database_admin_url) = production("PostgreSQL outage test") else {
        return;
    };
    let admin = url::Url::parse(&database_admin_url).expect("database URL");
    let target = format!(
        "{}:{}",
        admin.host_str().unwrap_or("127.0.0.1"),
        admin.port().unwrap_or(5432)
    );
    let mut proxy = TcpProxy::start(target.parse().expect("PostgreSQL address")).await;
    let redis_url = std::env::var("KUNCI_TEST_REDIS_URL").expect("checked by Backends::production");
    let backends = Backends::Production {
        database_admin_url,
        redis_url,
    };
    let proxy_port = proxy.port;
    let server = TestServer::start_full(backends, Arc::new(SystemClock), move |c| {
        let mut u = url::Url::parse(&c.database.url).expect("temp database URL");
        u.set_port(Some(proxy_port)).expect("set port");
        c.database.url = u.to_string();
        c.database.connect_timeout_secs = 2;
    })
    .await;
    let email = "budi@example.com";
    server.add_user(email, "Budi", PASSWORD, true).await;
    let browser = Browser::new(&server.issuer);
    let authz = Authz::new(&WEB);
    let code = code_from(
        &server,
        &authz,
        &sign_in(&server, &browser, &authz, email).await,
    );
    let (status, tokens) = exchange(&server, &authz, &code).await;
    assert_eq!(status, StatusCode::OK);
    let access_token = tokens["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    let userinfo = || async {
        let r = reqwest::Client::new()
            .get(server.url("/userinfo"))
            .bearer_auth(&access_token)
            .send()
            .await
            .expect("userinfo");
        let status = r.status();
        (
            status,
            r.json::<serde_json::Value>().await.unwrap_or_default(),
        )
    };

    proxy.cut();
    let (status, body) = readiness(&server).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["database"], "unavailable");
    let (status, body) = bounded("userinfo", userinfo()).await;
    assert_oauth_error(status, &body, ErrorCode::TemporarilyUnavailable);
    let fresh = Browser::new(&server.issuer);
    let (_, _, login) = fresh.open(&Authz::new(&WEB).url(&server)).await.page();
    match bounded("sign-in", fresh.sign_in(&login, email, PASSWORD)).await {
        Landing::Page { status, .. } => assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE),
        Landing::Left(u) => panic!("signed in without a database: {u}"),
    }

    proxy.mend().await;
    wait_until_ready(&server).await;
    let (status, body) = userinfo().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], email, "the account survived the outage");
}
