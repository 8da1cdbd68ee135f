//! Token revocation (RFC 7009): revoking either kind of token revokes its grant, unknown tokens
//! and other clients' tokens are answered 200 with nothing done, and the client must
//! authenticate. Requests are written by hand: the `oauth2` crate refuses to send revocations
//! over plain HTTP (RFC 7009 §2 requires TLS), and the test server speaks plain HTTP.

use crate::grants::{client_post, is_active, offline_tokens, refresh, revoke, str_of};
use crate::support::{Reply, assert_oauth_error, http, server_with_user, userinfo};
use kunci_core::ErrorCode;
use kunci_testkit::TestServer;
use kunci_testkit::server::{APP, OFFLINE, POST};

// Runs on the embedded backends and, when configured, on PostgreSQL + Redis.
kunci_testkit::on_every_backend! {
    async fn revoking_a_refresh_token_revokes_its_family_and_access_tokens() {
        let (server, email) = server_with_user().await;
        let tokens = offline_tokens(&server, &OFFLINE, &email).await;
        let next = refresh(&server, &OFFLINE, str_of(&tokens, "refresh_token"), None).await;
        let (rt, at) = (
            str_of(&next.body, "refresh_token"),
            str_of(&next.body, "access_token"),
        );
        assert_eq!(userinfo(&server, at).await.status, 200, "control");

        let r = revoke(&server, &OFFLINE, rt, Some("refresh_token")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, serde_json::Value::Null, "empty body");

        let after = refresh(&server, &OFFLINE, rt, None).await;
        assert_oauth_error(after.status, &after.body, ErrorCode::InvalidGrant);
        assert_eq!(userinfo(&server, at).await.status, 401);
        assert!(!is_active(&server, &OFFLINE, at).await);
        assert_eq!(
            userinfo(&server, str_of(&tokens, "access_token")).await.status,
            401,
            "the grant's first access token too"
        );
    }
}

#[tokio::test]
async fn revoking_a_jwt_access_token_revokes_its_grant() {
    let (server, email) = server_with_user().await;
    let tokens = offline_tokens(&server, &OFFLINE, &email).await;
    let (at, rt) = (
        str_of(&tokens, "access_token"),
        str_of(&tokens, "refresh_token"),
    );
    let r = revoke(&server, &OFFLINE, at, Some("access_token")).await;
    assert_eq!(r.status, 200);
    assert_eq!(userinfo(&server, at).await.status, 401);
    assert!(!is_active(&server, &OFFLINE, at).await);
    let after = refresh(&server, &OFFLINE, rt, None).await;
    assert_oauth_error(after.status, &after.body, ErrorCode::InvalidGrant);
}

#[tokio::test]
async fn a_public_client_revokes_its_opaque_access_token() {
    let (server, email) = server_with_user().await;
    let tokens = offline_tokens(&server, &APP, &email).await;
    let (at, rt) = (
        str_of(&tokens, "access_token"),
        str_of(&tokens, "refresh_token"),
    );
    assert_eq!(userinfo(&server, at).await.status, 200, "control");
    // A wrong hint: the token is still found (RFC 7009 §2.1).
    let r = revoke(&server, &APP, at, Some("refresh_token")).await;
    assert_eq!(r.status, 200);
    assert_eq!(userinfo(&server, at).await.status, 401);
    let after = refresh(&server, &APP, rt, None).await;
    assert_oauth_error(after.status, &after.body, ErrorCode::InvalidGrant);
}

#[tokio::test]
async fn revocation_is_idempotent_and_quiet_about_unknown_tokens() {
    let (server, email) = server_with_user().await;
    let tokens = offline_tokens(&server, &OFFLINE, &email).await;
    let rt = str_of(&tokens, "refresh_token");
    for _ in 0..2 {
        let r = revoke(&server, &OFFLINE, rt, None).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    for unknown in ["garbage", "a.b.c", ""] {
        let r = revoke(&server, &OFFLINE, unknown, Some("bogus_hint")).await;
        if unknown.is_empty() {
            assert_oauth_error(r.status, &r.body, ErrorCode::InvalidRequest);
        } else {
            assert_eq!(r.status, 200, "RFC 7009 §2.2: {unknown}: {}", r.body);
        }
    }
}

#[tokio::test]
async fn tokens_of_other_clients_are_left_alone() {
    let (server, email) = server_with_user().await;
    let tokens = offline_tokens(&server, &OFFLINE, &email).await;
    let (at, rt) = (
        str_of(&tokens, "access_token"),
        str_of(&tokens, "refresh_token"),
    );
    for token in [at, rt] {
        let r = revoke(&server, &POST, token, None).await;
        assert_eq!(r.status, 200, "answered like a success: {}", r.body);
    }
    assert_eq!(userinfo(&server, at).await.status, 200);
    let still = refresh(&server, &OFFLINE, rt, None).await;
    assert_eq!(still.status, 200, "{}", still.body);
}

#[tokio::test]
async fn revocation_needs_client_authentication() {
    let (server, email) = server_with_user().await;
    let tokens = offline_tokens(&server, &OFFLINE, &email).await;
    let rt = str_of(&tokens, "refresh_token");
    let none = client_post(&server, "/revoke", None, &[("token", rt)]).await;
    assert_oauth_error(none.status, &none.body, ErrorCode::InvalidClient);
    let wrong = http()
        .post(server.url("/revoke"))
        .basic_auth(OFFLINE.id, Some("wrong-secret"))
        .form(&[("token", rt)])
        .send()
        .await
        .unwrap();
    let wrong = Reply::read(wrong).await;
    assert_oauth_error(wrong.status, &wrong.json(), ErrorCode::InvalidClient);
    assert!(wrong.header("www-authenticate").is_some());
    assert!(
        is_active(&server, &OFFLINE, rt).await,
        "nothing was revoked by the refused requests"
    );
}

#[tokio::test]
async fn revocation_is_callable_from_browsers() {
    let server = TestServer::start().await;
    let r = revoke(&server, &APP, "garbage", None).await;
    assert_eq!(r.headers["access-control-allow-origin"], "*");
    let preflight = Reply::read(
        http()
            .request(reqwest::Method::OPTIONS, server.url("/revoke"))
            .header("origin", "https://spa.example")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(preflight.status.is_success());
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
}
