//! Pushed Authorization Requests (RFC 9126): `/par` authenticates the client, validates the
//! request with JSON errors, and hands out a `request_uri` that `/authorize` uses once.

use crate::support::{
    Authz, PASSWORD, assert_error_page, assert_oauth_error, code_from, exchange, finish_consent,
    get, http,
};
use kunci_core::{ErrorCode, ManualClock};
use kunci_testkit::server::{FIRST, POST, SPA, WEB, client_config};
use kunci_testkit::{Backends, Browser, TestClient, TestServer};
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::Arc;

const PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// A first-party confidential client whose requests must be pushed (RFC 9126 §6).
const PAR_ONLY: TestClient = TestClient {
    id: "par-only",
    secret: Some("par-only-secret-0123456789abcdef0123"),
    redirect_uri: "http://127.0.0.1:1/par-only/cb",
};

async fn server() -> TestServer {
    let server = TestServer::start_with(Backends::current(), |c| {
        let mut cfg = client_config(&PAR_ONLY, "client_secret_basic", "RS256", true);
        cfg.require_pushed_authorization_requests = true;
        c.clients.push(cfg);
    })
    .await;
    server
        .add_user("ayu@example.com", "Ayu", PASSWORD, true)
        .await;
    server
}

/// POSTs `authz`'s parameters to `/par` as its client would authenticate.
async fn push(server: &TestServer, authz: &Authz) -> (StatusCode, Value) {
    let mut form = authz.params.clone();
    let mut req = http().post(server.url("/par"));
    let c = &authz.client;
    match (c.id, c.secret) {
        ("post", Some(secret)) => form.push(("client_secret".into(), secret.into())),
        (id, Some(secret)) => {
            form.retain(|(k, _)| k != "client_id");
            req = req.basic_auth(id, Some(secret));
        }
        (_, None) => {}
    }
    let resp = req.form(&form).send().await.expect("POST /par");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn authorize_url(server: &TestServer, client: &TestClient, request_uri: &str) -> String {
    let q = serde_urlencoded::to_string([("client_id", client.id), ("request_uri", request_uri)])
        .unwrap();
    server.url(&format!("/authorize?{q}"))
}

#[tokio::test]
async fn a_pushed_request_signs_the_user_in_and_its_code_works() {
    let server = server().await;
    for client in [&WEB, &POST, &SPA] {
        let authz = Authz::new(client);
        let (status, body) = push(&server, &authz).await;
        assert_eq!(status, StatusCode::CREATED, "RFC 9126 §2.2: {body}");
        let uri = body["request_uri"].as_str().unwrap();
        assert!(uri.starts_with(PREFIX), "{uri}");
        assert_eq!(body["expires_in"], 60);

        let browser = Browser::new(&server.issuer);
        let (_, _, page) = browser
            .open(&authorize_url(&server, client, uri))
            .await
            .page();
        let landing = browser.sign_in(&page, "ayu@example.com", PASSWORD).await;
        let redirect = finish_consent(&browser, landing).await;
        let code = code_from(&server, &authz, &redirect);
        let (status, tokens) = exchange(&server, &authz, &code).await;
        assert_eq!(status, StatusCode::OK, "{}: {tokens}", client.id);
    }
}

#[tokio::test]
async fn a_request_uri_is_used_once() {
    let server = server().await;
    let authz = Authz::new(&FIRST);
    let (_, body) = push(&server, &authz).await;
    let url = authorize_url(&server, &FIRST, body["request_uri"].as_str().unwrap());
    let first = get(&url).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let again = get(&url).await;
    assert_error_page(&again, 400, Some(ErrorCode::InvalidRequestUri));
}

#[tokio::test]
async fn a_request_uri_expires_after_sixty_seconds() {
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let (_, body) = push(&server, &Authz::new(&FIRST)).await;
    clock.advance(61);
    let reply = get(&authorize_url(
        &server,
        &FIRST,
        body["request_uri"].as_str().unwrap(),
    ))
    .await;
    assert_error_page(&reply, 400, Some(ErrorCode::InvalidRequestUri));
}

#[tokio::test]
async fn authorize_refuses_a_request_uri_that_is_not_the_clients() {
    let server = server().await;
    let (_, body) = push(&server, &Authz::new(&FIRST)).await;
    let uri = body["request_uri"].as_str().unwrap();
    // RFC 9126 §4: client_id must be the pusher's.
    let reply = get(&authorize_url(&server, &WEB, uri)).await;
    assert_error_page(&reply, 400, Some(ErrorCode::InvalidRequest));
    let reply = get(&authorize_url(&server, &FIRST, &format!("{PREFIX}made-up"))).await;
    assert_error_page(&reply, 400, Some(ErrorCode::InvalidRequestUri));
}

#[tokio::test]
async fn par_errors_are_json_and_never_redirect() {
    let server = server().await;
    let cases: [(Authz, ErrorCode); 5] = [
        (
            Authz::new(&WEB).set("scope", "openid admin"),
            ErrorCode::InvalidScope,
        ),
        (
            Authz::new(&WEB).set("redirect_uri", "https://evil.example/cb"),
            ErrorCode::InvalidRequest,
        ),
        (
            Authz::new(&WEB).without("code_challenge"),
            ErrorCode::InvalidRequest,
        ),
        (
            Authz::new(&WEB).set("response_type", "token"),
            ErrorCode::UnsupportedResponseType,
        ),
        (
            Authz::new(&WEB).also("request_uri", &format!("{PREFIX}x")),
            ErrorCode::InvalidRequest,
        ),
    ];
    for (authz, code) in cases {
        let (status, body) = push(&server, &authz).await;
        assert_oauth_error(status, &body, code);
    }
    // §2.1: the client authenticates as at the token endpoint.
    let mut wrong = WEB.clone();
    wrong.secret = Some("not-the-secret-0123456789abcdef012345");
    let (status, body) = push(&server, &Authz::new(&wrong)).await;
    assert_oauth_error(status, &body, ErrorCode::InvalidClient);
    let resp = http()
        .post(server.url("/par"))
        .form(&Authz::new(&WEB).without("client_id").params)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    assert_oauth_error(
        status,
        &resp.json().await.unwrap(),
        ErrorCode::InvalidClient,
    );
}

#[tokio::test]
async fn a_client_that_must_push_cannot_authorize_directly() {
    let server = server().await;
    let direct = Authz::new(&PAR_ONLY);
    assert_error_page(
        &get(&direct.url(&server)).await,
        400,
        Some(ErrorCode::InvalidRequest),
    );
    let (status, body) = push(&server, &direct).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let reply = get(&authorize_url(
        &server,
        &PAR_ONLY,
        body["request_uri"].as_str().unwrap(),
    ))
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
}

#[tokio::test]
async fn only_the_pushed_parameters_count() {
    let server = server().await;
    let authz = Authz::new(&FIRST);
    let (_, body) = push(&server, &authz).await;
    // RFC 9126 §4: parameters beside request_uri are ignored, even a different state.
    let url = format!(
        "{}&state=tampered&scope=openid",
        authorize_url(&server, &FIRST, body["request_uri"].as_str().unwrap())
    );
    let browser = Browser::new(&server.issuer);
    let (_, _, page) = browser.open(&url).await.page();
    let landing = browser.sign_in(&page, "ayu@example.com", PASSWORD).await;
    let redirect = finish_consent(&browser, landing).await;
    code_from(&server, &authz, &redirect);
}

#[tokio::test]
async fn discovery_names_the_par_endpoint() {
    let server = TestServer::start().await;
    let doc = get(&server.url("/.well-known/openid-configuration"))
        .await
        .json();
    assert_eq!(
        doc["pushed_authorization_request_endpoint"],
        server.url("/par")
    );
    assert_eq!(doc["require_pushed_authorization_requests"], false);
}
