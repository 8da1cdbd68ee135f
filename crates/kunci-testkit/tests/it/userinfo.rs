//! The userinfo endpoint (OIDC Core §5.3) and its bearer-token errors (RFC 6750 §3).

use crate::jwt::{Jwt, signed_by_stranger, unsigned};
use crate::support::{
    Authz, PASSWORD, Reply, assert_oauth_error, code_from, exchange, fresh_tokens, http,
    server_with_user, sign_in, userinfo,
};
use kunci_core::jose::{Alg, SigningKey, generate_pkcs8};
use kunci_core::{ErrorCode, ManualClock};
use kunci_testkit::server::{FIRST, WEB};
use kunci_testkit::{Browser, TestServer};
use std::sync::Arc;

/// RFC 6750 §3: 401, `invalid_token` in both the body and the Bearer challenge.
fn assert_invalid_token(reply: &Reply) {
    assert_oauth_error(reply.status, &reply.json(), ErrorCode::InvalidToken);
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains(r#"error="invalid_token""#),
        "{challenge:?}"
    );
}

/// A real access token's claims, to forge lookalikes from.
async fn real_access_token(server: &TestServer, email: &str) -> Jwt {
    let tokens = fresh_tokens(server, &FIRST, email).await;
    Jwt::decode(tokens["access_token"].as_str().unwrap())
}

#[tokio::test]
async fn expired_access_token_is_invalid_token() {
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let server = TestServer::start_with_clock(clock.clone()).await;
    server
        .add_user("ayu@example.com", "Ayu", PASSWORD, true)
        .await;
    let tokens = fresh_tokens(&server, &FIRST, "ayu@example.com").await;
    let at = tokens["access_token"].as_str().unwrap();
    clock.advance(599);
    assert_eq!(userinfo(&server, at).await.status, 200, "valid until exp");
    clock.advance(2);
    assert_invalid_token(&userinfo(&server, at).await);
}

/// Userinfo claims for a sign-in that asked for `scope`.
async fn claims_for_scope(scope: &str) -> serde_json::Value {
    let (server, email) = server_with_user().await;
    let browser = Browser::new(&server.issuer);
    let authz = Authz::new(&WEB).set("scope", scope);
    let redirect = sign_in(&server, &browser, &authz, &email).await;
    let code = code_from(&server, &authz, &redirect);
    let (status, tokens) = exchange(&server, &authz, &code).await;
    assert_eq!(status, 200, "{tokens}");
    let reply = userinfo(&server, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

kunci_testkit::on_every_backend! {
    async fn request_without_a_token_gets_a_bearer_challenge_without_error_code() {
        let server = TestServer::start().await;
        let reply = Reply::read(http().get(server.url("/userinfo")).send().await.unwrap()).await;
        assert_eq!(reply.status, 401);
        let challenge = reply.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Bearer realm="), "{challenge:?}");
        assert!(
            !challenge.contains("error="),
            "RFC 6750 §3.1: no error code when no credentials were sent: {challenge:?}"
        );
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("*"),
            "an SPA can read the challenge"
        );
    }

    async fn garbage_token_is_invalid_token() {
        let server = TestServer::start().await;
        for garbage in [
            "garbage",
            "a.b.c",
            "eyJhbGciOiJFUzI1NiJ9.e30.AAAA",
            "a.b.c.d.e",
        ] {
            let reply = userinfo(&server, garbage).await;
            assert_invalid_token(&reply);
            assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
        }
    }

    async fn token_signed_by_a_foreign_key_is_invalid_token() {
        let (server, email) = server_with_user().await;
        let real = real_access_token(&server, &email).await;
        let stranger =
            SigningKey::from_pkcs8(Alg::ES256, &generate_pkcs8(Alg::ES256).unwrap()).unwrap();
        let forged = stranger.sign("at+jwt", &real.claims);
        assert_invalid_token(&userinfo(&server, &forged).await);
    }

    async fn token_naming_our_key_but_signed_by_another_is_invalid_token() {
        let (server, email) = server_with_user().await;
        let real = real_access_token(&server, &email).await;
        assert_eq!(real.header["alg"], "ES256");
        let forged = signed_by_stranger(&real.header, &real.claims);
        assert_invalid_token(&userinfo(&server, &forged).await);
    }

    async fn alg_none_token_is_invalid_token() {
        let (server, email) = server_with_user().await;
        let real = real_access_token(&server, &email).await;
        let mut header = real.header.clone();
        header["alg"] = "none".into();
        assert_invalid_token(&userinfo(&server, &unsigned(&header, &real.claims, b"")).await);
        let hs256 = serde_json::json!({"alg": "HS256", "typ": "at+jwt", "kid": real.header["kid"]});
        assert_invalid_token(&userinfo(&server, &unsigned(&hs256, &real.claims, b"mac")).await);
    }

    async fn id_token_is_not_accepted_as_an_access_token() {
        let (server, email) = server_with_user().await;
        let tokens = fresh_tokens(&server, &FIRST, &email).await;
        let reply = userinfo(&server, tokens["id_token"].as_str().unwrap()).await;
        assert_invalid_token(&reply);
    }

    async fn basic_scheme_is_invalid_request() {
        let server = TestServer::start().await;
        let reply = Reply::read(
            http()
                .get(server.url("/userinfo"))
                .basic_auth("web", Some("secret"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_oauth_error(reply.status, &reply.json(), ErrorCode::InvalidRequest);
    }

    async fn userinfo_answers_post_like_get() {
        let (server, email) = server_with_user().await;
        let tokens = fresh_tokens(&server, &FIRST, &email).await;
        let at = tokens["access_token"].as_str().unwrap();
        let reply = Reply::read(
            http()
                .post(server.url("/userinfo"))
                .bearer_auth(at)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.json(), userinfo(&server, at).await.json());
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }

    async fn openid_scope_alone_releases_only_sub() {
        let claims = claims_for_scope("openid").await;
        let keys: Vec<&String> = claims.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["sub"], "{claims}");
    }

    async fn without_email_scope_there_is_no_email_claim() {
        let claims = claims_for_scope("openid profile").await;
        assert_eq!(claims["name"], "Ayu Lestari");
        assert!(claims.get("email").is_none(), "{claims}");
        assert!(claims.get("email_verified").is_none(), "{claims}");
    }

    async fn email_scope_releases_email_but_not_name() {
        let claims = claims_for_scope("openid email").await;
        assert_eq!(claims["email"], "ayu@example.com");
        assert_eq!(claims["email_verified"], true);
        assert!(claims.get("name").is_none(), "{claims}");
    }

    async fn token_without_openid_scope_is_insufficient_scope() {
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&WEB).set("scope", "email");
        let redirect = sign_in(&server, &browser, &authz, &email).await;
        let code = code_from(&server, &authz, &redirect);
        let (status, tokens) = exchange(&server, &authz, &code).await;
        assert_eq!(status, 200, "{tokens}");
        assert!(tokens.get("id_token").is_none(), "no openid, no ID token");
        let reply = userinfo(&server, tokens["access_token"].as_str().unwrap()).await;
        assert_oauth_error(reply.status, &reply.json(), ErrorCode::InsufficientScope);
    }
}
