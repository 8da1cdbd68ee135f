//! The token endpoint's refusals (RFC 6749 §5.2, §4.1.3, §2.3; RFC 7636 §4.6): every error is
//! exactly `{"error", "error_description"}` JSON with the status the code calls for.

use crate::support::{
    Authz, assert_oauth_error, exchange, fresh_code, server_with_user, token_request, userinfo,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kunci::config::Config;
use kunci_core::{ErrorCode, ManualClock};
use kunci_testkit::server::{FIRST, POST, SPA, WEB};
use kunci_testkit::{Backends, TestServer};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::sync::Arc;

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// POSTs a form to /token with an optional raw `Authorization` header.
async fn post_token(
    server: &TestServer,
    authorization: Option<&str>,
    fields: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Value) {
    let mut req = crate::support::http()
        .post(server.url("/token"))
        .form(fields);
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let resp = req.send().await.expect("POST /token");
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

/// A well-formed authorization_code request body for `authz` and `code`.
fn grant<'a>(authz: &'a Authz, code: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", authz.client.redirect_uri),
        ("code_verifier", &authz.verifier),
    ]
}

// --- The code ------------------------------------------------------------------------------

fn web_without_required_pkce(c: &mut Config) {
    let web = c.clients.iter_mut().find(|c| c.client_id == "web").unwrap();
    web.require_pkce = false;
}

#[tokio::test]
async fn code_expires_after_sixty_seconds() {
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let email = "ayu@example.com";
    server
        .add_user(email, "Ayu", crate::support::PASSWORD, true)
        .await;

    let (authz, code) = fresh_code(&server, &FIRST, email).await;
    clock.advance(59);
    let (status, body) = exchange(&server, &authz, &code).await;
    assert_eq!(status, 200, "a 59-second-old code still works: {body}");

    let (authz, code) = fresh_code(&server, &FIRST, email).await;
    clock.advance(61);
    let (status, body) = exchange(&server, &authz, &code).await;
    assert_oauth_error(status, &body, ErrorCode::InvalidGrant);
}

// --- Client authentication (RFC 6749 §2.3, §5.2) ---------------------------------------------

fn assert_invalid_client(status: StatusCode, headers: &HeaderMap, body: &Value) {
    assert_oauth_error(status, body, ErrorCode::InvalidClient);
    let challenge = headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        challenge.starts_with("Basic"),
        "401 invalid_client carries a Basic challenge, got {challenge:?}"
    );
}

// --- The request itself (RFC 6749 §4.1.3, §5.2) -----------------------------------------------

kunci_testkit::on_every_backend! {
    async fn code_used_twice_is_invalid_grant_and_revokes_what_the_first_use_produced() {
        let (server, email) = server_with_user().await;
        let (authz, code) = fresh_code(&server, &WEB, &email).await;
        let (status, first) = exchange(&server, &authz, &code).await;
        assert_eq!(status, 200, "{first}");
        let access_token = first["access_token"].as_str().unwrap();
        assert_eq!(userinfo(&server, access_token).await.status, 200);

        let (status, body) = exchange(&server, &authz, &code).await;
        assert_oauth_error(status, &body, ErrorCode::InvalidGrant);

        let after = userinfo(&server, access_token).await;
        assert_eq!(after.status, 401, "the first access token is revoked");
        assert_eq!(after.json()["error"], "invalid_token");
    }

    async fn wrong_code_verifier_is_invalid_grant() {
        let (server, email) = server_with_user().await;
        let (_, code) = fresh_code(&server, &SPA, &email).await;
        let other = Authz::new(&SPA).verifier;
        let (status, _, body) = token_request(
            &server,
            &SPA,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", SPA.redirect_uri),
                ("code_verifier", &other),
            ],
        )
        .await;
        assert_oauth_error(status, &body, ErrorCode::InvalidGrant);
    }

    async fn missing_code_verifier_is_invalid_grant() {
        let (server, email) = server_with_user().await;
        let (_, code) = fresh_code(&server, &SPA, &email).await;
        let (status, _, body) = token_request(
            &server,
            &SPA,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", SPA.redirect_uri),
            ],
        )
        .await;
        assert_oauth_error(status, &body, ErrorCode::InvalidGrant);
    }

    async fn code_verifier_for_a_request_without_challenge_is_invalid_grant() {
        // RFC 9700 §2.1.1: a verifier the request did not announce is a PKCE downgrade attempt.
        let server = TestServer::start_with(Backends::current(), web_without_required_pkce).await;
        let email = "ayu@example.com";
        server
            .add_user(email, "Ayu", crate::support::PASSWORD, true)
            .await;
        let no_pkce = |a: Authz| a.without("code_challenge").without("code_challenge_method");

        // Control: without PKCE on either side the exchange succeeds.
        let browser = kunci_testkit::Browser::new(&server.issuer);
        let authz = no_pkce(Authz::new(&WEB));
        let redirect = crate::support::sign_in(&server, &browser, &authz, email).await;
        let code = crate::support::code_from(&server, &authz, &redirect);
        let mut fields = grant(&authz, &code);
        fields.truncate(3);
        let (status, _, body) = token_request(&server, &WEB, &fields).await;
        assert_eq!(status, 200, "{body}");

        // The same browser gets a second code straight away; this time a verifier is sent.
        let authz = no_pkce(Authz::new(&WEB));
        let redirect = browser.open(&authz.url(&server)).await.left();
        let code = crate::support::code_from(&server, &authz, &redirect);
        let (status, _, body) = token_request(&server, &WEB, &grant(&authz, &code)).await;
        assert_oauth_error(status, &body, ErrorCode::InvalidGrant);
    }

    async fn redirect_uri_differing_from_the_authorization_request_is_invalid_grant() {
        let (server, email) = server_with_user().await;
        let (authz, code) = fresh_code(&server, &WEB, &email).await;
        let other = format!("{}/", WEB.redirect_uri);
        let mut fields = grant(&authz, &code);
        fields[2] = ("redirect_uri", &other);
        let (status, _, body) = token_request(&server, &WEB, &fields).await;
        assert_oauth_error(status, &body, ErrorCode::InvalidGrant);
    }

    async fn missing_redirect_uri_is_invalid_request() {
        let (server, email) = server_with_user().await;
        let (authz, code) = fresh_code(&server, &WEB, &email).await;
        let mut fields = grant(&authz, &code);
        fields.remove(2);
        let (status, _, body) = token_request(&server, &WEB, &fields).await;
        assert_oauth_error(status, &body, ErrorCode::InvalidRequest);
    }

    async fn code_issued_to_another_client_is_invalid_grant() {
        let (server, email) = server_with_user().await;
        let (authz, code) = fresh_code(&server, &WEB, &email).await;
        let (status, _, body) = token_request(
            &server,
            &FIRST,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", WEB.redirect_uri),
                ("code_verifier", &authz.verifier),
            ],
        )
        .await;
        assert_oauth_error(status, &body, ErrorCode::InvalidGrant);
    }

    async fn unknown_code_is_invalid_grant() {
        let server = TestServer::start().await;
        let authz = Authz::new(&WEB);
        let (status, body) = exchange(&server, &authz, "no-such-code").await;
        assert_oauth_error(status, &body, ErrorCode::InvalidGrant);
    }

    async fn wrong_client_secret_is_invalid_client_with_a_basic_challenge() {
        let server = TestServer::start().await;
        let auth = basic(WEB.id, "not-the-secret");
        let (status, headers, body) = post_token(
            &server,
            Some(&auth),
            &[("grant_type", "authorization_code")],
        )
        .await;
        assert_invalid_client(status, &headers, &body);
    }

    async fn unknown_client_is_invalid_client() {
        let server = TestServer::start().await;
        let auth = basic("nobody", WEB.secret.unwrap());
        let (status, headers, body) = post_token(
            &server,
            Some(&auth),
            &[("grant_type", "authorization_code")],
        )
        .await;
        assert_invalid_client(status, &headers, &body);
    }

    async fn no_client_authentication_is_invalid_client() {
        let server = TestServer::start().await;
        let (status, headers, body) = post_token(
            &server,
            None,
            &[("grant_type", "authorization_code"), ("code", "x")],
        )
        .await;
        assert_invalid_client(status, &headers, &body);
    }

    async fn confidential_client_sending_only_its_id_is_invalid_client() {
        let server = TestServer::start().await;
        let (status, headers, body) = post_token(
            &server,
            None,
            &[("grant_type", "authorization_code"), ("client_id", WEB.id)],
        )
        .await;
        assert_invalid_client(status, &headers, &body);
    }

    async fn basic_client_using_client_secret_post_is_invalid_client() {
        let server = TestServer::start().await;
        let (status, headers, body) = post_token(
            &server,
            None,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", WEB.id),
                ("client_secret", WEB.secret.unwrap()),
            ],
        )
        .await;
        assert_invalid_client(status, &headers, &body);
    }

    async fn post_client_using_basic_is_invalid_client() {
        let server = TestServer::start().await;
        let auth = basic(POST.id, POST.secret.unwrap());
        let (status, headers, body) = post_token(
            &server,
            Some(&auth),
            &[("grant_type", "authorization_code")],
        )
        .await;
        assert_invalid_client(status, &headers, &body);
    }

    async fn public_client_sending_a_secret_is_invalid_client() {
        let server = TestServer::start().await;
        let (status, headers, body) = post_token(
            &server,
            None,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", SPA.id),
                ("client_secret", "made-up"),
            ],
        )
        .await;
        assert_invalid_client(status, &headers, &body);
    }

    async fn basic_header_and_client_secret_in_body_together_is_invalid_request() {
        // RFC 6749 §2.3: a client must not use more than one authentication method per request.
        let server = TestServer::start().await;
        let auth = basic(WEB.id, WEB.secret.unwrap());
        let (status, _, body) = post_token(
            &server,
            Some(&auth),
            &[
                ("grant_type", "authorization_code"),
                ("client_id", WEB.id),
                ("client_secret", WEB.secret.unwrap()),
            ],
        )
        .await;
        assert_oauth_error(status, &body, ErrorCode::InvalidRequest);
    }

    async fn client_id_in_body_differing_from_the_basic_header_is_invalid_request() {
        let server = TestServer::start().await;
        let auth = basic(WEB.id, WEB.secret.unwrap());
        let (status, _, body) = post_token(
            &server,
            Some(&auth),
            &[("grant_type", "authorization_code"), ("client_id", "first")],
        )
        .await;
        assert_oauth_error(status, &body, ErrorCode::InvalidRequest);
    }

    async fn malformed_basic_header_is_invalid_client() {
        let server = TestServer::start().await;
        let no_colon = format!("Basic {}", STANDARD.encode("web"));
        for header in ["Basic !!!not-base64!!!", no_colon.as_str(), "Basic "] {
            let (status, headers, body) = post_token(
                &server,
                Some(header),
                &[("grant_type", "authorization_code")],
            )
            .await;
            assert_invalid_client(status, &headers, &body);
        }
    }

    async fn failed_client_authentication_does_not_burn_the_code() {
        let (server, email) = server_with_user().await;
        let (authz, code) = fresh_code(&server, &WEB, &email).await;
        let auth = basic(WEB.id, "not-the-secret");
        let (status, headers, body) = post_token(&server, Some(&auth), &grant(&authz, &code)).await;
        assert_invalid_client(status, &headers, &body);
        let (status, body) = exchange(&server, &authz, &code).await;
        assert_eq!(status, 200, "{body}");
    }

    async fn json_body_is_invalid_request() {
        let server = TestServer::start().await;
        let resp = crate::support::http()
            .post(server.url("/token"))
            .header("authorization", basic(WEB.id, WEB.secret.unwrap()))
            .json(&serde_json::json!({"grant_type": "authorization_code", "code": "x"}))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_oauth_error(status, &body, ErrorCode::InvalidRequest);
    }

    async fn duplicated_parameter_is_invalid_request() {
        let server = TestServer::start().await;
        let (status, _, body) = token_request(
            &server,
            &WEB,
            &[
                ("grant_type", "authorization_code"),
                ("code", "a"),
                ("code", "b"),
                ("redirect_uri", WEB.redirect_uri),
            ],
        )
        .await;
        assert_oauth_error(status, &body, ErrorCode::InvalidRequest);
    }

    async fn missing_grant_type_is_invalid_request() {
        let server = TestServer::start().await;
        let (status, _, body) = token_request(
            &server,
            &WEB,
            &[("code", "x"), ("redirect_uri", WEB.redirect_uri)],
        )
        .await;
        assert_oauth_error(status, &body, ErrorCode::InvalidRequest);
    }

    async fn grant_type_password_is_unsupported_grant_type() {
        let server = TestServer::start().await;
        let (status, _, body) = token_request(
            &server,
            &WEB,
            &[
                ("grant_type", "password"),
                ("username", "ayu@example.com"),
                ("password", crate::support::PASSWORD),
            ],
        )
        .await;
        assert_oauth_error(status, &body, ErrorCode::UnsupportedGrantType);
    }

    async fn missing_code_is_invalid_request() {
        let server = TestServer::start().await;
        let (status, _, body) = token_request(
            &server,
            &WEB,
            &[
                ("grant_type", "authorization_code"),
                ("redirect_uri", WEB.redirect_uri),
            ],
        )
        .await;
        assert_oauth_error(status, &body, ErrorCode::InvalidRequest);
    }

    async fn token_errors_are_not_cached_and_readable_cross_origin() {
        // RFC 6749 §5.2 errors are responses too: no caching, and an SPA must be able to read them.
        let server = TestServer::start().await;
        let (_, headers, _) = token_request(&server, &SPA, &[("grant_type", "password")]).await;
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["access-control-allow-origin"], "*");
    }

    async fn of_two_simultaneous_exchanges_of_one_code_exactly_one_succeeds() {
        let (server, email) = server_with_user().await;
        let (authz, code) = fresh_code(&server, &WEB, &email).await;
        let (a, b) = tokio::join!(
            exchange(&server, &authz, &code),
            exchange(&server, &authz, &code)
        );
        let mut statuses = [a.0.as_u16(), b.0.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 400], "{} / {}", a.1, b.1);
    }
}
