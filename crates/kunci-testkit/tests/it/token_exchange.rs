//! OAuth 2.0 Token Exchange (RFC 8693): a backend service trades a user's access token for one
//! meant for an API, as the user (impersonation) or naming itself as actor (delegation, `act`),
//! within its per-client policy. Error paths are in `token_exchange/errors.rs`; revocation,
//! expiry and pairwise subjects in `token_exchange/lifetime.rs`.

mod errors;
mod lifetime;

use crate::grants::{Answer, client_credentials, client_post, introspect, is_active, str_of};
use crate::jwt::{Jwt, jwks};
use crate::support::{PASSWORD, fresh_tokens, get, userinfo};
use kunci::config::{ClientConfig, Config, TokenExchangeConfig};
use kunci_testkit::server::{API, APP, ORDERS_API, WEB, client_config};
use kunci_testkit::{Backends, TestClient, TestServer};
use serde_json::{Value, json};

pub const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A backend service: may impersonate and delegate into [`ORDERS_API`] and `billing`, accepts
/// anyone's tokens, JWT access tokens, scopes `openid email orders:read`;
/// `client_credentials` for its own (actor) token.
pub const GATEWAY: TestClient = TestClient {
    id: "gateway",
    secret: Some("gateway-secret-0123456789abcdef01234567"),
    redirect_uri: "",
};
/// Delegation only, only tokens issued to [`GATEWAY`], into [`ORDERS_API`]; opaque tokens.
pub const RELAY: TestClient = TestClient {
    id: "relay",
    secret: Some("relay-secret-0123456789abcdef0123456789"),
    redirect_uri: "",
};

/// A confidential service with the token exchange grant and `policy`.
pub fn exchanger(c: &TestClient, policy: TokenExchangeConfig) -> ClientConfig {
    let mut cfg = client_config(c, "client_secret_basic", "RS256", false);
    cfg.redirect_uris = Vec::new();
    cfg.post_logout_redirect_uris = Vec::new();
    cfg.grant_types = vec![GRANT.into(), "client_credentials".into()];
    cfg.scopes = vec!["openid".into(), "email".into(), "orders:read".into()];
    cfg.audiences = vec![ORDERS_API.into()];
    cfg.token_exchange = Some(policy);
    cfg
}

fn add_exchangers(config: &mut Config) {
    config.clients.push(exchanger(
        &GATEWAY,
        TokenExchangeConfig {
            audiences: vec![ORDERS_API.into(), "billing".into()],
            impersonation: true,
            delegation: true,
            subject_clients: None,
        },
    ));
    let mut relay = exchanger(
        &RELAY,
        TokenExchangeConfig {
            audiences: vec![ORDERS_API.into()],
            impersonation: false,
            delegation: true,
            subject_clients: Some(vec![GATEWAY.id.into()]),
        },
    );
    relay.access_token_format = "opaque".into();
    config.clients.push(relay);
}

/// The test server plus [`GATEWAY`] and [`RELAY`], and one verified user.
pub async fn exchange_server() -> (TestServer, String) {
    let server = TestServer::start_with(Backends::current(), add_exchangers).await;
    let email = "ayu@example.com".to_owned();
    server.add_user(&email, "Ayu Lestari", PASSWORD, true).await;
    (server, email)
}

/// A token exchange request as `client` with these parameters.
pub async fn exchange(server: &TestServer, client: &TestClient, fields: &[(&str, &str)]) -> Answer {
    let mut form = vec![("grant_type", GRANT)];
    form.extend_from_slice(fields);
    client_post(server, "/token", Some(client), &form).await
}

/// Impersonation: `subject` (an access token) for [`ORDERS_API`], plus `extra`.
pub async fn exchange_for_api(
    server: &TestServer,
    client: &TestClient,
    subject: &str,
    extra: &[(&str, &str)],
) -> Answer {
    let mut fields = vec![
        ("subject_token", subject),
        ("subject_token_type", ACCESS_TOKEN),
        ("resource", ORDERS_API),
    ];
    fields.extend_from_slice(extra);
    exchange(server, client, &fields).await
}

/// `client`'s own access token from the client credentials grant.
pub async fn own_token(server: &TestServer, client: &TestClient) -> String {
    let r = client_credentials(server, client, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    str_of(&r.body, "access_token").to_owned()
}

/// RFC 8693 §2.2.1: an access token, Bearer, no refresh token, no ID token, not cached.
fn assert_exchange_response(a: &Answer) {
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.headers["cache-control"], "no-store");
    assert_eq!(a.body["issued_token_type"], ACCESS_TOKEN);
    assert_eq!(a.body["token_type"], "Bearer");
    assert!(a.body.get("refresh_token").is_none(), "{}", a.body);
    assert!(a.body.get("id_token").is_none(), "{}", a.body);
    assert!(
        a.body["expires_in"].as_u64().is_some_and(|e| e > 0),
        "{}",
        a.body
    );
}

kunci_testkit::on_every_backend! {
    /// §1.1 impersonation: the API gets a token for the user from the gateway, checks it
    /// offline (RFC 9068) and by introspection as its resource server.
    async fn a_service_exchanges_a_users_token_for_an_api_token() {
        let (server, email) = exchange_server().await;
        let user = fresh_tokens(&server, &WEB, &email).await;
        let subject_at = str_of(&user, "access_token");
        let subject = Jwt::decode(subject_at).claims;

        let a = exchange_for_api(&server, &GATEWAY, subject_at, &[]).await;
        assert_exchange_response(&a);
        assert_eq!(
            a.body["scope"], "openid email",
            "the subject's scopes (openid email profile) that the gateway may have"
        );
        let token = str_of(&a.body, "access_token");
        let at = Jwt::decode(token);
        assert!(at.verifies_with(&jwks(&server).await));
        assert_eq!(at.header["typ"], "at+jwt");
        let c = &at.claims;
        assert_eq!(c["sub"], subject["sub"], "the same user");
        assert_eq!(c["aud"], ORDERS_API);
        assert_eq!(c["client_id"], GATEWAY.id);
        assert_eq!(c["iss"], server.issuer.as_str());
        assert_eq!(c["auth_time"], subject["auth_time"], "how the user signed in is kept");
        assert!(c.get("act").is_none(), "impersonation names no actor: {c}");
        assert!(c["exp"].as_i64() <= subject["exp"].as_i64(), "never outlives the subject");
        assert_ne!(c["jti"], subject["jti"]);

        // RFC 7662 at the API's resource server: active, about the user, from the gateway.
        let i = introspect(&server, &API, token, None).await;
        assert_eq!(i.status, 200, "{}", i.body);
        assert_eq!(i.body["active"], true, "{}", i.body);
        assert_eq!(i.body["sub"], subject["sub"]);
        assert_eq!(i.body["aud"], ORDERS_API);
        assert_eq!(i.body["client_id"], GATEWAY.id);
        assert_eq!(i.body["scope"], "openid email");
        assert!(i.body.get("act").is_none(), "{}", i.body);
        // The subject token's client is neither this token's client nor its audience.
        assert!(!is_active(&server, &WEB, token).await);
        // A token for the API is not for Kunci's userinfo endpoint.
        assert_eq!(userinfo(&server, token).await.status, 401);
        // The subject token still works: exchanging does not consume it.
        assert_eq!(userinfo(&server, subject_at).await.status, 200);
    }

    /// §1.1 delegation and §4.1: with the gateway's own token as actor token, the new token
    /// says the gateway acts for the user; introspection shows `act` too.
    async fn delegation_names_the_actor_in_act() {
        let (server, email) = exchange_server().await;
        let user = fresh_tokens(&server, &WEB, &email).await;
        let actor = own_token(&server, &GATEWAY).await;
        let a = exchange_for_api(
            &server,
            &GATEWAY,
            str_of(&user, "access_token"),
            &[("actor_token", &actor), ("actor_token_type", ACCESS_TOKEN), ("scope", "email")],
        )
        .await;
        assert_exchange_response(&a);
        assert_eq!(a.body["scope"], "email", "a narrower scope is granted");
        let token = str_of(&a.body, "access_token");
        let c = Jwt::decode(token).claims;
        let subject = Jwt::decode(str_of(&user, "access_token")).claims;
        assert_eq!(c["sub"], subject["sub"], "still about the user");
        assert_eq!(c["act"], json!({ "sub": GATEWAY.id, "client_id": GATEWAY.id }));
        let i = introspect(&server, &API, token, None).await;
        assert_eq!(i.body["active"], true, "{}", i.body);
        assert_eq!(i.body["act"], c["act"]);
    }

    /// §4.1: a delegated token exchanged again by another actor keeps the earlier actor
    /// nested under the new one; the relay's opaque token says so at introspection.
    async fn a_second_delegation_nests_the_earlier_actor() {
        let (server, email) = exchange_server().await;
        let user = fresh_tokens(&server, &WEB, &email).await;
        let gateway_actor = own_token(&server, &GATEWAY).await;
        let first = exchange_for_api(
            &server,
            &GATEWAY,
            str_of(&user, "access_token"),
            &[("actor_token", &gateway_actor), ("actor_token_type", ACCESS_TOKEN)],
        )
        .await;
        assert_exchange_response(&first);
        let relay_actor = own_token(&server, &RELAY).await;
        let second = exchange_for_api(
            &server,
            &RELAY,
            str_of(&first.body, "access_token"),
            &[("actor_token", &relay_actor), ("actor_token_type", ACCESS_TOKEN)],
        )
        .await;
        assert_exchange_response(&second);
        let token = str_of(&second.body, "access_token");
        assert!(!token.contains('.'), "the relay's tokens are opaque");
        let i = introspect(&server, &API, token, None).await;
        assert_eq!(i.body["active"], true, "{}", i.body);
        assert_eq!(i.body["client_id"], RELAY.id);
        assert_eq!(
            i.body["act"],
            json!({
                "sub": RELAY.id, "client_id": RELAY.id,
                "act": { "sub": GATEWAY.id, "client_id": GATEWAY.id }
            })
        );
        assert_eq!(i.body["sub"], Jwt::decode(str_of(&user, "access_token")).claims["sub"]);

        // Impersonating a delegated token keeps its chain: nobody launders an actor away.
        let again = exchange_for_api(&server, &GATEWAY, str_of(&first.body, "access_token"), &[]).await;
        assert_exchange_response(&again);
        assert_eq!(
            Jwt::decode(str_of(&again.body, "access_token")).claims["act"],
            json!({ "sub": GATEWAY.id, "client_id": GATEWAY.id })
        );
    }

    /// §2.1 `audience`: a logical name in the policy becomes `aud`; `jwt` is accepted as the
    /// type of Kunci's own JWT access tokens; an opaque subject token works as well.
    async fn an_audience_and_either_token_form_are_accepted() {
        let (server, email) = exchange_server().await;
        let user = fresh_tokens(&server, &WEB, &email).await;
        let a = exchange(
            &server,
            &GATEWAY,
            &[
                ("subject_token", str_of(&user, "access_token")),
                ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
                ("audience", "billing"),
                ("requested_token_type", ACCESS_TOKEN),
            ],
        )
        .await;
        assert_exchange_response(&a);
        assert_eq!(Jwt::decode(str_of(&a.body, "access_token")).claims["aud"], "billing");

        // The app's tokens are opaque; the new one is in the gateway's format, a JWT.
        let app = fresh_tokens(&server, &APP, &email).await;
        let opaque = str_of(&app, "access_token");
        assert!(!opaque.contains('.'));
        let b = exchange_for_api(&server, &GATEWAY, opaque, &[("audience", ORDERS_API)]).await;
        assert_exchange_response(&b);
        let c = Jwt::decode(str_of(&b.body, "access_token")).claims;
        assert_eq!(c["client_id"], GATEWAY.id);
        assert_eq!(c["aud"], ORDERS_API, "audience and resource may name the same target");
        let web_sub = Jwt::decode(str_of(&user, "access_token")).claims["sub"].clone();
        assert_eq!(c["sub"], web_sub, "public subjects: the same user, the same sub");
    }

    /// Discovery lists the grant only when some client may use it.
    async fn discovery_lists_the_grant_only_when_a_client_has_it() {
        let (server, _) = exchange_server().await;
        let doc = get(&server.url("/.well-known/openid-configuration")).await.json();
        let grants = doc["grant_types_supported"].as_array().unwrap();
        assert!(grants.contains(&Value::from(GRANT)), "{grants:?}");
        let plain = TestServer::start().await;
        let doc = get(&plain.url("/.well-known/openid-configuration")).await.json();
        let grants = doc["grant_types_supported"].as_array().unwrap();
        assert!(!grants.contains(&Value::from(GRANT)), "{grants:?}");
    }
}
