//! Token introspection (RFC 7662): who may ask, what an active token tells, and that anything
//! else is exactly `{"active": false}`.

use crate::grants::{
    client_credentials, client_post, introspect, is_active, offline_tokens, refresh, str_of,
};
use crate::support::{assert_oauth_error, fresh_tokens, get, server_with_user};
use kunci_core::ErrorCode;
use kunci_testkit::server::{API, APP, OFFLINE, ORDERS_API, POST, SERVICE, WEB};
use kunci_testkit::{Backends, TestServer};
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreTokenType};
use openidconnect::{
    AccessToken, ClientId, ClientSecret, IntrospectionUrl, IssuerUrl, TokenIntrospectionResponse,
};

#[tokio::test]
async fn rp_library_introspects_its_own_access_token() {
    let (server, email) = server_with_user().await;
    let tokens = offline_tokens(&server, &OFFLINE, &email).await;
    let http = reqwest::Client::new();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer.clone()).unwrap(), &http)
            .await
            .unwrap();
    // openidconnect's metadata type does not carry RFC 7662 fields; read them by hand.
    let doc = get(&server.url("/.well-known/openid-configuration"))
        .await
        .json();
    let endpoint = str_of(&doc, "introspection_endpoint").to_owned();
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(OFFLINE.id.into()),
        OFFLINE.secret.map(|s| ClientSecret::new(s.into())),
    )
    .set_introspection_url(IntrospectionUrl::new(endpoint).unwrap());
    let at = AccessToken::new(str_of(&tokens, "access_token").to_owned());
    let answer = rp
        .introspect(&at)
        .set_token_type_hint("access_token")
        .request_async(&http)
        .await
        .expect("introspection answers");
    assert!(answer.active());
    assert_eq!(answer.client_id().map(|c| c.as_str()), Some(OFFLINE.id));
    assert_eq!(answer.token_type(), Some(&CoreTokenType::Bearer));
    let scopes: Vec<String> = answer
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, ["openid", "email", "offline_access"]);
    assert!(answer.sub().is_some_and(|s| !s.is_empty()));
    assert_eq!(answer.iss(), Some(server.issuer.as_str()));
    assert!(answer.exp().is_some() && answer.iat().is_some());
}

#[tokio::test]
async fn introspection_without_client_authentication_is_invalid_client() {
    let (server, email) = server_with_user().await;
    let tokens = fresh_tokens(&server, &WEB, &email).await;
    let at = str_of(&tokens, "access_token");
    let none = client_post(&server, "/introspect", None, &[("token", at)]).await;
    assert_oauth_error(none.status, &none.body, ErrorCode::InvalidClient);
    assert!(
        none.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic"),
        "RFC 6749 §5.2: 401 with a challenge"
    );
    // A public client has nothing to authenticate with.
    let public = introspect(&server, &APP, at, None).await;
    assert_oauth_error(public.status, &public.body, ErrorCode::InvalidClient);
    // Control: the token's own client is answered.
    assert!(is_active(&server, &WEB, at).await);
}

#[tokio::test]
async fn another_clients_token_is_inactive() {
    let (server, email) = server_with_user().await;
    let tokens = offline_tokens(&server, &OFFLINE, &email).await;
    for token in [
        str_of(&tokens, "access_token"),
        str_of(&tokens, "refresh_token"),
    ] {
        assert!(is_active(&server, &OFFLINE, token).await, "control");
        assert!(
            !is_active(&server, &POST, token).await,
            "POST may not see it"
        );
        assert!(
            !is_active(&server, &API, token).await,
            "a user token for the issuer is not meant for the orders API"
        );
    }
}

#[tokio::test]
async fn unknown_and_malformed_tokens_are_inactive() {
    let server = TestServer::start().await;
    for token in ["garbage", "a.b.c", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"] {
        assert!(!is_active(&server, &WEB, token).await, "{token}");
    }
    let missing = client_post(&server, "/introspect", Some(&WEB), &[]).await;
    assert_oauth_error(missing.status, &missing.body, ErrorCode::InvalidRequest);
}

#[tokio::test]
async fn a_resource_server_sees_the_tokens_meant_for_it() {
    let server = TestServer::start().await;
    let for_orders = client_credentials(&server, &SERVICE, &[("resource", ORDERS_API)]).await;
    let for_issuer = client_credentials(&server, &SERVICE, &[]).await;
    let at = str_of(&for_orders.body, "access_token");

    let a = introspect(&server, &API, at, None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["active"], true, "{}", a.body);
    assert_eq!(a.body["aud"], ORDERS_API);
    assert_eq!(a.body["sub"], SERVICE.id);
    assert_eq!(a.body["client_id"], SERVICE.id);
    assert_eq!(a.body["scope"], "orders:read orders:write");

    assert!(
        !is_active(&server, &API, str_of(&for_issuer.body, "access_token")).await,
        "a token without the API's audience"
    );
    assert!(
        !is_active(&server, &WEB, at).await,
        "an ordinary client sees only its own tokens"
    );
}

#[tokio::test]
async fn opaque_access_tokens_are_introspected_like_jwts() {
    let opaque = |c: &mut kunci::config::Config| {
        let s = c
            .clients
            .iter_mut()
            .find(|c| c.client_id == "service")
            .unwrap();
        s.access_token_format = "opaque".into();
    };
    let server = TestServer::start_with(Backends::current(), opaque).await;
    let r = client_credentials(&server, &SERVICE, &[("resource", ORDERS_API)]).await;
    let at = str_of(&r.body, "access_token");
    assert!(!at.contains('.'), "an opaque token: {at}");
    let a = introspect(&server, &API, at, Some("access_token")).await;
    assert_eq!(a.body["active"], true, "{}", a.body);
    assert_eq!(a.body["aud"], ORDERS_API);
    assert_eq!(
        a.body["exp"].as_i64().unwrap() - a.body["iat"].as_i64().unwrap(),
        600
    );
}

#[tokio::test]
async fn refresh_tokens_are_introspected_by_their_client_until_rotated() {
    let (server, email) = server_with_user().await;
    let tokens = offline_tokens(&server, &OFFLINE, &email).await;
    let rt1 = str_of(&tokens, "refresh_token");
    // The hint says where to look first; a wrong hint still finds the token (RFC 7662 §2.1).
    for hint in [
        None,
        Some("refresh_token"),
        Some("access_token"),
        Some("bogus"),
    ] {
        let a = introspect(&server, &OFFLINE, rt1, hint).await;
        assert_eq!(a.body["active"], true, "hint {hint:?}: {}", a.body);
        assert_eq!(a.body["client_id"], OFFLINE.id);
        assert_eq!(a.body["scope"], "openid email offline_access");
    }
    let next = refresh(&server, &OFFLINE, rt1, None).await;
    let rt2 = str_of(&next.body, "refresh_token");
    assert!(
        !is_active(&server, &OFFLINE, rt1).await,
        "a used token is inactive"
    );
    assert!(is_active(&server, &OFFLINE, rt2).await);
}

#[tokio::test]
async fn introspection_answers_are_not_cached() {
    let (server, email) = server_with_user().await;
    let tokens = fresh_tokens(&server, &WEB, &email).await;
    for token in [str_of(&tokens, "access_token"), "garbage"] {
        let a = introspect(&server, &WEB, token, None).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.headers["cache-control"], "no-store");
        assert!(
            a.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
    }
}
