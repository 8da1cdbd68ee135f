//! Pairwise subject identifiers (OIDC Core §8.1): clients of one sector (redirect URI host)
//! see one `sub` for a user, clients of another sector another, and every place a client
//! meets the `sub` (ID token, access token, userinfo, introspection, refresh) agrees.

use crate::grants::{introspect, refresh, str_of};
use crate::jwt::Jwt;
use crate::logout::receiver::{Answer, Receiver};
use crate::support::{
    Authz, PASSWORD, assert_redirect_error, code_from, exchange, get, sign_in, userinfo,
};
use kunci_core::ErrorCode;
use kunci_testkit::browser::{csrf, form_action};
use kunci_testkit::server::{FIRST, client_config};
use kunci_testkit::{Backends, Browser, TestClient, TestServer};
use serde_json::{Value, json};
use std::time::Duration;

/// Pairwise, sector `127.0.0.1`, refresh tokens, JWT access tokens.
const SHOP: TestClient = TestClient {
    id: "shop",
    secret: Some("shop-secret-0123456789abcdef0123456789"),
    redirect_uri: "http://127.0.0.1:1/shop/cb",
};
/// Pairwise, the same sector as [`SHOP`], opaque access tokens.
const SHOP_ADMIN: TestClient = TestClient {
    id: "shop-admin",
    secret: Some("shop-admin-secret-0123456789abcdef01234"),
    redirect_uri: "http://127.0.0.1:1/shop-admin/cb",
};
/// Pairwise, sector `localhost`.
const NEWS: TestClient = TestClient {
    id: "news",
    secret: Some("news-secret-0123456789abcdef0123456789"),
    redirect_uri: "http://localhost:1/news/cb",
};

const SALT: &str = "pairwise-salt-for-tests-0123456789abcdef";

async fn pairwise_server() -> (TestServer, String) {
    pairwise_server_with(None).await
}

/// With `backchannel`, [`SHOP`] gets logout tokens there.
async fn pairwise_server_with(backchannel: Option<String>) -> (TestServer, String) {
    let server = TestServer::start_with(Backends::current(), |config| {
        config.pairwise_salt.0 = SALT.into();
        for (c, opaque, offline) in [
            (&SHOP, false, true),
            (&SHOP_ADMIN, true, false),
            (&NEWS, false, false),
        ] {
            let mut cfg = client_config(c, "client_secret_basic", "RS256", true);
            cfg.subject_type = "pairwise".into();
            cfg.refresh_tokens = offline;
            if c.id == SHOP.id {
                cfg.backchannel_logout_uri = backchannel.clone();
            }
            if opaque {
                cfg.access_token_format = "opaque".into();
            }
            config.clients.push(cfg);
        }
    })
    .await;
    let email = "ayu@example.com".to_owned();
    server.add_user(&email, "Ayu Lestari", PASSWORD, true).await;
    (server, email)
}

/// Signs in to `client` with a fresh browser; returns the token response and its ID token.
async fn tokens(server: &TestServer, authz: &Authz, email: &str) -> (Value, Value) {
    let browser = Browser::new(&server.issuer);
    let redirect = sign_in(server, &browser, authz, email).await;
    let (status, body) = exchange(server, authz, &code_from(server, authz, &redirect)).await;
    assert_eq!(status, 200, "{body}");
    let id = Jwt::decode(str_of(&body, "id_token")).claims;
    (body, id)
}

async fn userinfo_sub(server: &TestServer, tokens: &Value) -> Value {
    let reply = userinfo(server, str_of(tokens, "access_token")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["sub"].clone()
}

#[tokio::test]
async fn discovery_lists_pairwise_only_when_a_client_uses_it() {
    let (server, _) = pairwise_server().await;
    let doc = get(&server.url("/.well-known/openid-configuration"))
        .await
        .json();
    assert_eq!(
        doc["subject_types_supported"],
        json!(["public", "pairwise"])
    );
    let plain = TestServer::start().await;
    let doc = get(&plain.url("/.well-known/openid-configuration"))
        .await
        .json();
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
}

#[tokio::test]
async fn one_sector_one_sub_another_sector_another() {
    let (server, email) = pairwise_server().await;
    let (_, public) = tokens(&server, &Authz::new(&FIRST), &email).await;
    let local = public["sub"].as_str().unwrap().to_owned();
    let (shop_tokens, shop) = tokens(&server, &Authz::new(&SHOP), &email).await;
    let (admin_tokens, admin) = tokens(&server, &Authz::new(&SHOP_ADMIN), &email).await;
    let (news_tokens, news) = tokens(&server, &Authz::new(&NEWS), &email).await;

    assert_ne!(
        shop["sub"],
        local.as_str(),
        "pairwise is not the account id"
    );
    assert_eq!(
        shop["sub"], admin["sub"],
        "same sector (host 127.0.0.1), same sub"
    );
    assert_ne!(shop["sub"], news["sub"], "another sector, another sub");
    assert_eq!(
        shop["sub"].as_str().unwrap().len(),
        43,
        "base64url of HMAC-SHA256"
    );

    // userinfo answers with the client's own sub, with JWT and opaque access tokens.
    assert_eq!(userinfo_sub(&server, &shop_tokens).await, shop["sub"]);
    assert_eq!(userinfo_sub(&server, &admin_tokens).await, admin["sub"]);
    assert_eq!(userinfo_sub(&server, &news_tokens).await, news["sub"]);

    // The JWT access token says the same sub and never the account id.
    let at = Jwt::decode(str_of(&shop_tokens, "access_token")).claims;
    assert_eq!(at["sub"], shop["sub"]);
    assert!(!at.to_string().contains(&local), "{at}");
}

#[tokio::test]
async fn introspection_and_refresh_keep_the_pairwise_sub() {
    let (server, email) = pairwise_server().await;
    let authz = Authz::new(&SHOP).set("scope", "openid offline_access");
    let (body, id) = tokens(&server, &authz, &email).await;
    for token in [
        str_of(&body, "access_token"),
        str_of(&body, "refresh_token"),
    ] {
        let a = introspect(&server, &SHOP, token, None).await;
        assert_eq!(a.body["active"], true, "{}", a.body);
        assert_eq!(a.body["sub"], id["sub"], "{}", a.body);
    }
    let renewed = refresh(&server, &SHOP, str_of(&body, "refresh_token"), None).await;
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    let again = Jwt::decode(str_of(&renewed.body, "id_token")).claims;
    assert_eq!(again["sub"], id["sub"], "OIDC Core §12.2: the same sub");
    assert_eq!(userinfo_sub(&server, &renewed.body).await, id["sub"]);
}

#[tokio::test]
async fn a_claims_sub_value_is_compared_with_the_pairwise_sub() {
    let (server, email) = pairwise_server().await;
    let browser = Browser::new(&server.issuer);
    let first = Authz::new(&SHOP);
    let redirect = sign_in(&server, &browser, &first, &email).await;
    let (_, body) = exchange(&server, &first, &code_from(&server, &first, &redirect)).await;
    let sub = Jwt::decode(str_of(&body, "id_token")).claims["sub"].clone();

    let claims = json!({"id_token": {"sub": {"value": sub}}}).to_string();
    let same = Authz::new(&SHOP)
        .set("claims", &claims)
        .set("prompt", "none");
    let redirect = browser.open(&same.url(&server)).await.left();
    code_from(&server, &same, &redirect);

    // The sub of another sector names nobody here.
    let claims = json!({"id_token": {"sub": {"value": sub}}}).to_string();
    let other = Authz::new(&NEWS)
        .set("claims", &claims)
        .set("prompt", "none");
    let redirect = browser.open(&other.url(&server)).await.left();
    assert_redirect_error(&server, &other, &redirect, ErrorCode::LoginRequired);
}

#[tokio::test]
async fn logout_tokens_name_the_pairwise_sub() {
    let mut rp = Receiver::start(Answer::Statuses(vec![200])).await;
    let (server, email) = pairwise_server_with(Some(rp.uri.clone())).await;
    let browser = Browser::new(&server.issuer);
    let authz = Authz::new(&SHOP);
    let redirect = sign_in(&server, &browser, &authz, &email).await;
    let (_, body) = exchange(&server, &authz, &code_from(&server, &authz, &redirect)).await;
    let id = Jwt::decode(str_of(&body, "id_token")).claims;
    let (_, _, page) = browser.open(&server.url("/logout")).await.page();
    browser
        .submit(
            &form_action(&page, "logout-form"),
            &[("csrf", &csrf(&page))],
        )
        .await
        .page();
    let got = rp
        .next(Duration::from_secs(10))
        .await
        .expect("a logout token");
    let token = Jwt::decode(got.field("logout_token").expect("logout_token"));
    assert_eq!(token.claims["sub"], id["sub"]);
    assert_eq!(token.claims["sid"], id["sid"]);
}
