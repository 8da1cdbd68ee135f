//! What an exchanged token lives by: the subject's grant (revoking the original grant revokes
//! every token exchanged from it), the subject token's expiry, and the subject identifier the
//! requesting client may see (pairwise subjects are never linked, OIDC Core §8).

use super::{
    ACCESS_TOKEN, GATEWAY, RELAY, add_exchangers, exchange_for_api, exchange_server, exchanger,
    own_token,
};
use crate::grants::{is_active, offline_tokens, refresh, revoke, str_of};
use crate::jwt::Jwt;
use crate::support::{
    Authz, PASSWORD, assert_oauth_error, code_from, exchange, fresh_tokens, sign_in,
};
use kunci::config::TokenExchangeConfig;
use kunci_core::{ErrorCode, ManualClock};
use kunci_testkit::server::{API, OFFLINE, ORDERS_API, WEB, client_config};
use kunci_testkit::{Backends, Browser, TestClient, TestServer};
use std::sync::Arc;

/// Impersonation and a delegation through the relay: a JWT and an opaque exchanged token.
async fn exchanged_twice(server: &TestServer, subject: &str) -> (String, String) {
    let first = exchange_for_api(server, &GATEWAY, subject, &[]).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let jwt = str_of(&first.body, "access_token").to_owned();
    let actor = own_token(server, &RELAY).await;
    let second = exchange_for_api(
        server,
        &RELAY,
        &jwt,
        &[("actor_token", &actor), ("actor_token_type", ACCESS_TOKEN)],
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.body);
    let opaque = str_of(&second.body, "access_token").to_owned();
    assert!(is_active(server, &API, &jwt).await && is_active(server, &API, &opaque).await);
    (jwt, opaque)
}

/// Pairwise, sector `127.0.0.1` (its redirect URI's host).
const SHOP: TestClient = TestClient {
    id: "shop",
    secret: Some("shop-secret-0123456789abcdef0123456789"),
    redirect_uri: "http://127.0.0.1:1/shop/cb",
};
/// A gateway in the shop's sector.
const SHOP_GATEWAY: TestClient = TestClient {
    id: "shop-gateway",
    secret: Some("shop-gateway-secret-0123456789abcdef012"),
    redirect_uri: "",
};

/// Pairwise, sector `localhost`: another sector than the shop's.
const OTHER_SECTOR: TestClient = TestClient {
    id: "news-gateway",
    secret: Some("news-gateway-secret-0123456789abcdef012"),
    redirect_uri: "",
};

kunci_testkit::on_every_backend! {
    /// The exchanged tokens keep the subject's grant: when the user's app revokes its token
    /// (RFC 7009, which revokes the grant), every token exchanged from it stops working,
    /// and the revoked token can no longer be exchanged.
    async fn revoking_the_original_grant_revokes_the_exchanged_tokens() {
        let (server, email) = exchange_server().await;
        let user = fresh_tokens(&server, &WEB, &email).await;
        let subject = str_of(&user, "access_token");
        let (jwt, opaque) = exchanged_twice(&server, subject).await;

        let r = revoke(&server, &WEB, subject, None).await;
        assert_eq!(r.status, 200);
        assert!(!is_active(&server, &API, &jwt).await, "the impersonation token");
        assert!(!is_active(&server, &API, &opaque).await, "the nested delegation token");
        assert!(!is_active(&server, &GATEWAY, &jwt).await, "for its own client too");
        let again = exchange_for_api(&server, &GATEWAY, subject, &[]).await;
        assert_oauth_error(again.status, &again.body, ErrorCode::InvalidRequest);
        assert!(str_of(&again.body, "error_description").contains("revoked"), "{}", again.body);
        // An exchanged token of a revoked grant cannot be exchanged further either.
        let chained = exchange_for_api(&server, &GATEWAY, &jwt, &[]).await;
        assert_oauth_error(chained.status, &chained.body, ErrorCode::InvalidRequest);
    }

    /// RFC 9700 §4.14.2: a reused refresh token revokes its grant, and so every token the
    /// services exchanged from the grant's access tokens.
    async fn refresh_token_reuse_revokes_the_exchanged_tokens() {
        let (server, email) = exchange_server().await;
        let tokens = offline_tokens(&server, &OFFLINE, &email).await;
        let (jwt, opaque) = exchanged_twice(&server, str_of(&tokens, "access_token")).await;
        let rt = str_of(&tokens, "refresh_token");
        assert_eq!(refresh(&server, &OFFLINE, rt, None).await.status, 200);
        let reuse = refresh(&server, &OFFLINE, rt, None).await;
        assert_oauth_error(reuse.status, &reuse.body, ErrorCode::InvalidGrant);
        assert!(!is_active(&server, &API, &jwt).await);
        assert!(!is_active(&server, &API, &opaque).await);
    }

    /// A revoked actor token cannot delegate.
    async fn a_revoked_actor_token_is_refused() {
        let (server, email) = exchange_server().await;
        let subject = str_of(&fresh_tokens(&server, &WEB, &email).await, "access_token").to_owned();
        let actor = own_token(&server, &GATEWAY).await;
        assert_eq!(revoke(&server, &GATEWAY, &actor, None).await.status, 200);
        let a = exchange_for_api(&server, &GATEWAY, &subject, &[("actor_token", &actor), ("actor_token_type", ACCESS_TOKEN)]).await;
        assert_oauth_error(a.status, &a.body, ErrorCode::InvalidRequest);
        assert!(str_of(&a.body, "error_description").starts_with("actor_token has been revoked"), "{}", a.body);
    }

    /// The new token ends no later than the subject token; an expired subject token cannot
    /// be exchanged, and the exchanged token expires with it.
    /// (It moves a `ManualClock` and still runs on Redis: every token here is a JWT whose
    /// expiry is judged by that clock, and nothing depends on Redis expiring an entry.)
    async fn an_exchanged_token_never_outlives_its_subject_token() {
        let clock = Arc::new(ManualClock::new(1_800_000_000));
        let server = TestServer::start_full(Backends::current(), clock.clone(), add_exchangers).await;
        let email = "ayu@example.com";
        server.add_user(email, "Ayu Lestari", PASSWORD, true).await;
        let user = fresh_tokens(&server, &WEB, email).await;
        let subject = str_of(&user, "access_token");
        let subject_exp = Jwt::decode(subject).claims["exp"].as_i64().unwrap();

        clock.advance(400);
        let a = exchange_for_api(&server, &GATEWAY, subject, &[]).await;
        assert_eq!(a.status, 200, "{}", a.body);
        let left = (subject_exp - kunci_core::Clock::now(clock.as_ref())) as u64;
        assert_eq!(a.body["expires_in"].as_u64(), Some(left), "cut at the subject's expiry");
        let token = str_of(&a.body, "access_token");
        assert_eq!(Jwt::decode(token).claims["exp"].as_i64(), Some(subject_exp));
        assert!(is_active(&server, &API, token).await);

        clock.advance(left as i64);
        let late = exchange_for_api(&server, &GATEWAY, subject, &[]).await;
        assert_oauth_error(late.status, &late.body, ErrorCode::InvalidRequest);
        assert!(str_of(&late.body, "error_description").contains("expired"), "{}", late.body);
        assert!(!is_active(&server, &API, token).await, "expired with its subject");
    }

    /// OIDC Core §8: a client sees a pairwise user by its own identifier only. A public
    /// gateway would learn the account id from the shop's token, and a gateway of another
    /// sector another identifier: both links are refused. A gateway of the shop's sector
    /// sees the same `sub`, and the token never carries the account id in the clear.
    async fn pairwise_subjects_are_never_linked_by_an_exchange() {
        let server = TestServer::start_with(Backends::current(), |config| {
            config.pairwise_salt.0 = "pairwise-salt-for-tests-0123456789abcdef".into();
            add_exchangers(config);
            let mut shop = client_config(&SHOP, "client_secret_basic", "RS256", true);
            shop.subject_type = "pairwise".into();
            config.clients.push(shop);
            for (c, sector) in [(&SHOP_GATEWAY, "127.0.0.1"), (&OTHER_SECTOR, "localhost")] {
                let mut gw = exchanger(c, TokenExchangeConfig {
                    audiences: vec![ORDERS_API.into()],
                    impersonation: true,
                    delegation: false,
                    subject_clients: None,
                });
                gw.subject_type = "pairwise".into();
                gw.sector_identifier = Some(sector.into());
                config.clients.push(gw);
            }
        })
        .await;
        let account = server.add_user("ayu@example.com", "Ayu Lestari", PASSWORD, true).await;
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&SHOP);
        let redirect = sign_in(&server, &browser, &authz, "ayu@example.com").await;
        let (status, tokens) = exchange(&server, &authz, &code_from(&server, &authz, &redirect)).await;
        assert_eq!(status, 200, "{tokens}");
        let subject = str_of(&tokens, "access_token");
        let shop_sub = Jwt::decode(subject).claims["sub"].clone();
        assert_ne!(shop_sub, account.id.as_str());

        for c in [&GATEWAY, &OTHER_SECTOR] {
            let a = exchange_for_api(&server, c, subject, &[]).await;
            assert_oauth_error(a.status, &a.body, ErrorCode::InvalidRequest);
            assert!(str_of(&a.body, "error_description").contains("pairwise"), "{}", a.body);
        }
        let a = exchange_for_api(&server, &SHOP_GATEWAY, subject, &[]).await;
        assert_eq!(a.status, 200, "{}", a.body);
        let token = str_of(&a.body, "access_token");
        let claims = Jwt::decode(token).claims;
        assert_eq!(claims["sub"], shop_sub);
        assert!(!claims.to_string().contains(&account.id), "{claims}");
        let i = crate::grants::introspect(&server, &API, token, None).await;
        assert_eq!(i.body["active"], true, "{}", i.body);
        assert_eq!(i.body["sub"], shop_sub);
    }
}
