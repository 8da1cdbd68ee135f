//! The client credentials grant (RFC 6749 §4.4) with RFC 8707 resource indicators, and the
//! discovery metadata of the whole token family (what is advertised is what works).

use crate::grants::{client_credentials, client_post, str_of};
use crate::jwt::{Jwt, jwks};
use crate::support::{assert_oauth_error, get, userinfo};
use kunci_core::ErrorCode;
use kunci_testkit::server::{API, APP, ORDERS_API, SERVICE, SPA, WEB};
use kunci_testkit::{Backends, TestServer};
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, OAuth2TokenResponse, Scope};
use serde_json::{Value, json};

#[tokio::test]
async fn rp_library_gets_a_token_for_the_service_itself() {
    let server = TestServer::start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer.clone()).unwrap(), &http)
            .await
            .unwrap();
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(SERVICE.id.into()),
        SERVICE.secret.map(|s| ClientSecret::new(s.into())),
    );
    let tokens = rp
        .exchange_client_credentials()
        .unwrap()
        .add_scope(Scope::new("orders:read".into()))
        .request_async(&http)
        .await
        .expect("client credentials grant");
    assert!(tokens.refresh_token().is_none(), "RFC 6749 §4.4.3");
    assert!(
        tokens.extra_fields().id_token().is_none(),
        "no user, no ID token"
    );
    let scopes: Vec<String> = tokens
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, ["orders:read"]);

    let at = Jwt::decode(tokens.access_token().secret());
    assert!(at.verifies_with(&jwks(&server).await));
    assert_eq!(at.header["typ"], "at+jwt");
    let c = &at.claims;
    assert_eq!(
        c["sub"], SERVICE.id,
        "RFC 9068 §2.2: the client is the subject"
    );
    assert_eq!(c["client_id"], SERVICE.id);
    assert_eq!(c["aud"], server.issuer.as_str(), "no resource: the issuer");
    assert_eq!(c["scope"], "orders:read");
    assert!(
        c.get("auth_time").is_none() && c.get("sid").is_none(),
        "{c}"
    );
}

#[tokio::test]
async fn the_named_resource_becomes_the_audience() {
    let server = TestServer::start().await;
    let r = client_credentials(&server, &SERVICE, &[("resource", ORDERS_API)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");
    let at = Jwt::decode(str_of(&r.body, "access_token"));
    assert_eq!(at.claims["aud"], ORDERS_API);
    assert_eq!(
        r.body["scope"], "orders:read orders:write",
        "an omitted scope means every scope the service is allowed"
    );
    // A token for another resource is not for Kunci's own userinfo endpoint.
    let info = userinfo(&server, str_of(&r.body, "access_token")).await;
    assert_eq!(info.status, 401, "{}", info.body);
}

#[tokio::test]
async fn a_resource_the_client_is_not_registered_for_is_invalid_target() {
    let server = TestServer::start().await;
    for bad in [
        "https://payroll.example.test",
        "https://orders.example.test/#frag",
        "not a uri",
    ] {
        let r = client_credentials(&server, &SERVICE, &[("resource", bad)]).await;
        assert_oauth_error(r.status, &r.body, ErrorCode::InvalidTarget);
    }
    let two = client_credentials(
        &server,
        &SERVICE,
        &[("resource", ORDERS_API), ("resource", ORDERS_API)],
    )
    .await;
    assert_oauth_error(two.status, &two.body, ErrorCode::InvalidTarget);
}

#[tokio::test]
async fn public_clients_cannot_use_client_credentials() {
    let server = TestServer::start().await;
    for public in [&SPA, &APP] {
        let r = client_credentials(&server, public, &[]).await;
        assert_oauth_error(r.status, &r.body, ErrorCode::UnauthorizedClient);
    }
}

#[tokio::test]
async fn a_client_not_registered_for_the_grant_is_unauthorized_client() {
    let server = TestServer::start().await;
    for c in [&WEB, &API] {
        let r = client_credentials(&server, c, &[]).await;
        assert_oauth_error(r.status, &r.body, ErrorCode::UnauthorizedClient);
    }
}

#[tokio::test]
async fn user_scopes_and_scopes_not_allowed_are_invalid_scope() {
    let server = TestServer::start().await;
    for scope in ["openid", "orders:read email", "orders:delete"] {
        let r = client_credentials(&server, &SERVICE, &[("scope", scope)]).await;
        assert_oauth_error(r.status, &r.body, ErrorCode::InvalidScope);
    }
    let ok = client_credentials(&server, &SERVICE, &[("scope", "orders:write")]).await;
    assert_eq!(ok.status, 200, "control: {}", ok.body);
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_client() {
    let server = TestServer::start().await;
    let r = crate::support::http()
        .post(server.url("/token"))
        .basic_auth(SERVICE.id, Some("wrong-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

// --- Discovery --------------------------------------------------------------------------------

async fn discovery(server: &TestServer) -> Value {
    get(&server.url("/.well-known/openid-configuration"))
        .await
        .json()
}

#[tokio::test]
async fn discovery_advertises_the_token_family_the_clients_can_use() {
    let server = TestServer::start().await;
    let doc = discovery(&server).await;
    assert_eq!(
        doc["grant_types_supported"],
        json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    let scopes = doc["scopes_supported"].as_array().unwrap();
    assert!(scopes.contains(&json!("offline_access")), "{scopes:?}");
    assert_eq!(doc["introspection_endpoint"], server.url("/introspect"));
    assert_eq!(doc["revocation_endpoint"], server.url("/revoke"));
    assert_eq!(
        doc["introspection_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"]),
        "RFC 7662: only methods that authenticate"
    );
    assert_eq!(
        doc["revocation_endpoint_auth_methods_supported"],
        doc["token_endpoint_auth_methods_supported"]
    );
    // The advertised endpoints answer POSTs (an unauthenticated one is refused, not missing).
    for key in ["introspection_endpoint", "revocation_endpoint"] {
        let r = client_post(
            &server,
            &doc[key].as_str().unwrap().replace(&server.issuer, ""),
            None,
            &[("token", "x")],
        )
        .await;
        assert_eq!(r.status, 401, "{key}: {}", r.body);
    }
}

#[tokio::test]
async fn discovery_lists_only_grants_and_scopes_that_some_client_can_use() {
    let only_code = |c: &mut kunci::config::Config| c.clients.retain(|c| c.client_id == "web");
    let server = TestServer::start_with(Backends::current(), only_code).await;
    let doc = discovery(&server).await;
    assert_eq!(doc["grant_types_supported"], json!(["authorization_code"]));
    let scopes = doc["scopes_supported"].as_array().unwrap();
    assert!(!scopes.contains(&json!("offline_access")), "{scopes:?}");
    let r = client_credentials(&server, &WEB, &[]).await;
    assert_oauth_error(r.status, &r.body, ErrorCode::UnauthorizedClient);

    let only_public = |c: &mut kunci::config::Config| c.clients.retain(|c| c.client_id == "spa");
    let server = TestServer::start_with(Backends::current(), only_public).await;
    let doc = discovery(&server).await;
    assert!(
        doc.get("introspection_endpoint").is_none(),
        "no client could authenticate to introspect: {doc}"
    );
    assert!(doc["revocation_endpoint"].is_string());
}
