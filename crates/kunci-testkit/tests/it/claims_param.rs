//! The `claims` request parameter (OIDC Core §5.5) and `acr` (OIDC Core §2, §3.1.2.1,
//! §5.5.1.1): claims named for the ID token and for userinfo are released whatever the
//! scopes, a `sub` value must be the signed-in user, an essential `acr` must be reachable.

use crate::jwt::Jwt;
use crate::support::{
    Authz, PASSWORD, assert_redirect_error, code_from, exchange, get, server_with_user, sign_in,
    token_request, userinfo,
};
use kunci_core::ErrorCode;
use kunci_core::claims_request::ACR_PASSWORD;
use kunci_testkit::server::{APP, FIRST, OFFLINE, WEB};
use kunci_testkit::{Browser, TestClient, TestServer};
use serde_json::{Value, json};

/// Signs a fresh browser in with `authz` and exchanges the code; returns the token response.
async fn tokens_for(server: &TestServer, authz: &Authz, email: &str) -> Value {
    let browser = Browser::new(&server.issuer);
    let redirect = sign_in(server, &browser, authz, email).await;
    let code = code_from(server, authz, &redirect);
    let (status, body) = exchange(server, authz, &code).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn asking(client: &TestClient, claims: &Value) -> Authz {
    Authz::new(client)
        .set("scope", "openid")
        .set("claims", &claims.to_string())
}

fn id_token(tokens: &Value) -> Value {
    Jwt::decode(tokens["id_token"].as_str().expect("id_token")).claims
}

async fn userinfo_json(server: &TestServer, tokens: &Value) -> Value {
    let reply = userinfo(server, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

#[tokio::test]
async fn discovery_advertises_the_claims_parameter_and_acr_values() {
    let server = TestServer::start().await;
    let doc = get(&server.url("/.well-known/openid-configuration"))
        .await
        .json();
    assert_eq!(doc["claims_parameter_supported"], true);
    assert_eq!(doc["acr_values_supported"], json!([ACR_PASSWORD]));
    let claims = doc["claims_supported"].as_array().unwrap();
    assert!(claims.contains(&json!("acr")), "{doc}");
}

#[tokio::test]
async fn claims_named_for_the_id_token_are_in_it_whatever_the_scopes() {
    let (server, email) = server_with_user().await;
    let claims = json!({"id_token": {"email": {"essential": true}, "name": null,
                                     "phone_number": null}});
    let tokens = tokens_for(&server, &asking(&FIRST, &claims), &email).await;
    let id = id_token(&tokens);
    assert_eq!(id["email"], email);
    assert_eq!(id["name"], "Ayu Lestari");
    assert!(id.get("phone_number").is_none(), "no data, no claim: {id}");
    assert!(
        id.get("email_verified").is_none(),
        "only what was named: {id}"
    );
    assert_eq!(
        id["acr"], ACR_PASSWORD,
        "every ID token says how the user signed in"
    );
    // The scope was only `openid`: userinfo still releases `sub` alone.
    let info = userinfo_json(&server, &tokens).await;
    assert_eq!(info, json!({"sub": id["sub"]}));
}

#[tokio::test]
async fn claims_named_for_userinfo_are_released_there_with_jwt_access_tokens() {
    let (server, email) = server_with_user().await;
    let claims = json!({"userinfo": {"email": null, "email_verified": null,
                                     "auth_time": null, "acr": null, "amr": null}});
    let tokens = tokens_for(&server, &asking(&FIRST, &claims), &email).await;
    let info = userinfo_json(&server, &tokens).await;
    assert_eq!(info["email"], email);
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["acr"], ACR_PASSWORD);
    assert_eq!(info["amr"], json!(["pwd"]));
    assert_eq!(info["auth_time"], id_token(&tokens)["auth_time"]);
    assert!(info.get("name").is_none(), "{info}");
    assert!(
        id_token(&tokens).get("email").is_none(),
        "userinfo claims stay out of the ID token"
    );
}

#[tokio::test]
async fn claims_named_for_userinfo_are_released_there_with_opaque_access_tokens() {
    let (server, email) = server_with_user().await;
    let claims = json!({"userinfo": {"name": null}});
    let tokens = tokens_for(&server, &asking(&APP, &claims), &email).await;
    assert!(
        !tokens["access_token"].as_str().unwrap().contains('.'),
        "APP gets opaque access tokens"
    );
    let info = userinfo_json(&server, &tokens).await;
    assert_eq!(info["name"], "Ayu Lestari");
    assert!(info.get("email").is_none(), "{info}");
}

#[tokio::test]
async fn claims_that_are_not_json_are_invalid_request() {
    let server = TestServer::start().await;
    for bad in [
        "not json",
        "[1]",
        r#"{"id_token": []}"#,
        r#"{"userinfo": {"email": 5}}"#,
    ] {
        let authz = Authz::new(&WEB).set("claims", bad);
        let browser = Browser::new(&server.issuer);
        let redirect = browser.open(&authz.url(&server)).await.left();
        assert_redirect_error(&server, &authz, &redirect, ErrorCode::InvalidRequest);
    }
}

#[tokio::test]
async fn an_essential_acr_no_sign_in_can_reach_is_unmet_authentication_requirements() {
    let server = TestServer::start().await;
    let claims = json!({"id_token": {"acr": {"essential": true, "values": ["urn:kunci:acr:mfa"]}}});
    let authz = asking(&WEB, &claims);
    let browser = Browser::new(&server.issuer);
    let redirect = browser.open(&authz.url(&server)).await.left();
    assert_redirect_error(
        &server,
        &authz,
        &redirect,
        ErrorCode::UnmetAuthenticationRequirements,
    );
}

#[tokio::test]
async fn an_essential_acr_that_a_password_reaches_is_asserted() {
    let (server, email) = server_with_user().await;
    let claims = json!({"id_token": {"acr": {"essential": true,
                                             "values": ["urn:kunci:acr:mfa", ACR_PASSWORD]}}});
    let tokens = tokens_for(&server, &asking(&FIRST, &claims), &email).await;
    assert_eq!(id_token(&tokens)["acr"], ACR_PASSWORD);
}

#[tokio::test]
async fn voluntary_acr_values_never_fail_a_request() {
    let (server, email) = server_with_user().await;
    let authz = Authz::new(&FIRST).set("acr_values", "urn:kunci:acr:mfa");
    let tokens = tokens_for(&server, &authz, &email).await;
    assert_eq!(id_token(&tokens)["acr"], ACR_PASSWORD);
}

#[tokio::test]
async fn a_sub_value_of_another_user_is_access_denied_after_sign_in() {
    let (server, email) = server_with_user().await;
    let claims = json!({"id_token": {"sub": {"value": "someone-else"}}});
    let authz = asking(&FIRST, &claims);
    let browser = Browser::new(&server.issuer);
    let (_, _, page) = browser.open(&authz.url(&server)).await.page();
    let redirect = browser.sign_in(&page, &email, PASSWORD).await.left();
    assert_redirect_error(&server, &authz, &redirect, ErrorCode::AccessDenied);
}

#[tokio::test]
async fn a_sub_value_of_the_signed_in_user_gets_a_code_and_another_needs_a_sign_in() {
    let (server, email) = server_with_user().await;
    let browser = Browser::new(&server.issuer);
    let first = Authz::new(&FIRST);
    let redirect = sign_in(&server, &browser, &first, &email).await;
    let (_, body) = exchange(&server, &first, &code_from(&server, &first, &redirect)).await;
    let sub = id_token(&body)["sub"].as_str().unwrap().to_owned();

    let same = asking(&FIRST, &json!({"id_token": {"sub": {"value": sub}}})).set("prompt", "none");
    let redirect = browser.open(&same.url(&server)).await.left();
    code_from(&server, &same, &redirect);

    let other = asking(
        &FIRST,
        &json!({"id_token": {"sub": {"value": "someone-else"}}}),
    )
    .set("prompt", "none");
    let redirect = browser.open(&other.url(&server)).await.left();
    assert_redirect_error(&server, &other, &redirect, ErrorCode::LoginRequired);
}

#[tokio::test]
async fn refreshed_tokens_keep_acr_and_the_claims_requested() {
    let (server, email) = server_with_user().await;
    let claims = json!({"id_token": {"email": null}, "userinfo": {"name": null}});
    let authz = asking(&OFFLINE, &claims).set("scope", "openid offline_access");
    let tokens = tokens_for(&server, &authz, &email).await;
    assert_eq!(id_token(&tokens)["email"], email);
    let refresh = tokens["refresh_token"].as_str().expect("a refresh token");
    let (status, _, refreshed) = token_request(
        &server,
        &OFFLINE,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let id = id_token(&refreshed);
    assert_eq!(id["acr"], ACR_PASSWORD);
    assert_eq!(
        id["email"], email,
        "the claims request lives with the family"
    );
    let info = userinfo_json(&server, &refreshed).await;
    assert_eq!(info["name"], "Ayu Lestari");
}
