//! Helpers for the token-family tests (refresh, client credentials, introspection, revocation):
//! getting tokens with `offline_access`, and POSTing to `/token`, `/introspect` and `/revoke`
//! the way a client with its registered authentication method would.

use crate::support::{Authz, code_from, exchange, http, sign_in};
use kunci_testkit::{Browser, TestClient, TestServer};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A response from a client endpoint: status, headers and JSON body (`Null` when empty).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// POSTs `fields` to `path` as `client`: Basic for clients with a secret (the body for `post`),
/// `client_id` in the body for public clients; `None` sends no client authentication.
pub async fn client_post(
    server: &TestServer,
    path: &str,
    client: Option<&TestClient>,
    fields: &[(&str, &str)],
) -> Answer {
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    let mut req = http().post(server.url(path));
    match client.map(|c| (c.id, c.secret)) {
        Some(("post", Some(secret))) => {
            form.push(("client_id", "post"));
            form.push(("client_secret", secret));
        }
        Some((id, Some(secret))) => req = req.basic_auth(id, Some(secret)),
        Some((id, None)) => form.push(("client_id", id)),
        None => {}
    }
    let resp = req.form(&form).send().await.expect("POST");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// Signs `email` in to `client` asking for `scope` (consenting, and remembering, if asked)
/// and exchanges the code; returns the token response.
pub async fn tokens_with_scope(
    server: &TestServer,
    client: &TestClient,
    email: &str,
    scope: &str,
) -> Value {
    let browser = Browser::new(&server.issuer);
    let authz = Authz::new(client).set("scope", scope);
    let redirect = sign_in(server, &browser, &authz, email).await;
    let code = code_from(server, &authz, &redirect);
    let (status, body) = exchange(server, &authz, &code).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Tokens for `openid email offline_access`: the response has a refresh token.
pub async fn offline_tokens(server: &TestServer, client: &TestClient, email: &str) -> Value {
    let body = tokens_with_scope(server, client, email, "openid email offline_access").await;
    assert!(body["refresh_token"].is_string(), "a refresh token: {body}");
    body
}

/// `grant_type=refresh_token` as `client`, with an optional `scope`.
pub async fn refresh(
    server: &TestServer,
    client: &TestClient,
    refresh_token: &str,
    scope: Option<&str>,
) -> Answer {
    let mut fields = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(s) = scope {
        fields.push(("scope", s));
    }
    client_post(server, "/token", Some(client), &fields).await
}

/// `/introspect` as `caller`, with an optional `token_type_hint`.
pub async fn introspect(
    server: &TestServer,
    caller: &TestClient,
    token: &str,
    hint: Option<&str>,
) -> Answer {
    let mut fields = vec![("token", token)];
    if let Some(h) = hint {
        fields.push(("token_type_hint", h));
    }
    client_post(server, "/introspect", Some(caller), &fields).await
}

/// Whether `caller` is told the token is active; checks the RFC 7662 answer's shape too.
pub async fn is_active(server: &TestServer, caller: &TestClient, token: &str) -> bool {
    let a = introspect(server, caller, token, None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let active = a.body["active"].as_bool().expect("`active` is a boolean");
    if !active {
        assert_eq!(
            a.body,
            serde_json::json!({ "active": false }),
            "an inactive answer says nothing more"
        );
    }
    active
}

/// `/revoke` as `caller`, with an optional `token_type_hint` (RFC 7009 §2.1).
pub async fn revoke(
    server: &TestServer,
    caller: &TestClient,
    token: &str,
    hint: Option<&str>,
) -> Answer {
    let mut fields = vec![("token", token)];
    if let Some(h) = hint {
        fields.push(("token_type_hint", h));
    }
    client_post(server, "/revoke", Some(caller), &fields).await
}

/// `grant_type=client_credentials` as `client` with extra fields (`scope`, `resource`).
pub async fn client_credentials(
    server: &TestServer,
    client: &TestClient,
    extra: &[(&str, &str)],
) -> Answer {
    let mut fields = vec![("grant_type", "client_credentials")];
    fields.extend_from_slice(extra);
    client_post(server, "/token", Some(client), &fields).await
}

pub fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is a string in {v}"))
}
