//! JWT-Secured Authorization Requests (RFC 9101): the `request` parameter, signed with a key the
//! client registered, is the whole request (§6.3); broken objects are `invalid_request_object`
//! pages; request objects can be pushed (RFC 9126 §3).

use crate::client_jwt::{Key, now};
use crate::support::{
    Authz, PASSWORD, assert_error_page, assert_oauth_error, code_from, exchange, finish_consent,
    get, http,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use kunci_core::ErrorCode;
use kunci_testkit::server::client_config;
use kunci_testkit::{Backends, Browser, TestClient, TestServer};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

/// A first-party confidential client with an ES256 key for request objects.
const SIGNER: TestClient = TestClient {
    id: "signer",
    secret: Some("signer-secret-0123456789abcdef012345678"),
    redirect_uri: "http://127.0.0.1:1/signer/cb",
};

async fn server(key: &Key) -> TestServer {
    let jwks = json!({"keys": [key.jwk("req-1")]}).to_string();
    let server = TestServer::start_with(Backends::current(), |c| {
        let mut cfg = client_config(&SIGNER, "client_secret_basic", "RS256", true);
        cfg.jwks = Some(jwks);
        c.clients.push(cfg);
    })
    .await;
    server
        .add_user("ayu@example.com", "Ayu", PASSWORD, true)
        .await;
    server
}

/// `authz`'s parameters as request object claims, with `iss`, `aud` and `exp`.
fn object_claims(server: &TestServer, authz: &Authz) -> Value {
    let mut c: Map<String, Value> = authz
        .params
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    c.insert("iss".into(), json!(SIGNER.id));
    c.insert("aud".into(), json!(server.issuer));
    c.insert("exp".into(), json!(now() + 300));
    Value::Object(c)
}

fn authorize_url(server: &TestServer, request: &str, extra: &[(&str, &str)]) -> String {
    let mut q = vec![("client_id", SIGNER.id), ("request", request)];
    q.extend_from_slice(extra);
    server.url(&format!(
        "/authorize?{}",
        serde_urlencoded::to_string(q).unwrap()
    ))
}

async fn sign_in_at(server: &TestServer, url: &str) -> url::Url {
    let browser = Browser::new(&server.issuer);
    let (_, _, page) = browser.open(url).await.page();
    let landing = browser.sign_in(&page, "ayu@example.com", PASSWORD).await;
    finish_consent(&browser, landing).await
}

#[tokio::test]
async fn a_signed_request_object_is_the_request() {
    let key = Key::es256();
    let server = server(&key).await;
    let authz = Authz::new(&SIGNER);
    let request = key.sign(
        json!({"kid": "req-1", "typ": "oauth-authz-req+jwt"}),
        &object_claims(&server, &authz),
    );
    // §6.3: parameters beside the object are ignored, even a different state or scope.
    let url = authorize_url(
        &server,
        &request,
        &[("state", "tampered"), ("scope", "openid")],
    );
    let redirect = sign_in_at(&server, &url).await;
    let code = code_from(&server, &authz, &redirect);
    let (status, tokens) = exchange(&server, &authz, &code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
}

#[tokio::test]
async fn each_broken_request_object_is_an_error_page() {
    let key = Key::es256();
    let server = server(&key).await;
    let s = &server;
    let authz = Authz::new(&SIGNER);
    let bent = |member: &str, value: Value| {
        let mut c = object_claims(s, &authz);
        c[member] = value;
        key.sign(json!({}), &c)
    };
    let none = format!(
        "{}.{}.",
        B64.encode(r#"{"alg":"none"}"#),
        B64.encode(object_claims(s, &authz).to_string())
    );
    let hs = Key::Hs256(SIGNER.secret.unwrap().as_bytes().to_vec());
    let cases: Vec<(&str, String)> = vec![
        ("alg none", none),
        (
            "HS256 with the client secret",
            hs.sign(json!({}), &object_claims(s, &authz)),
        ),
        (
            "unregistered key",
            Key::es256().sign(json!({}), &object_claims(s, &authz)),
        ),
        ("iss is not the client", bent("iss", json!("web"))),
        (
            "aud is not the issuer",
            bent("aud", json!("https://x.example")),
        ),
        ("client_id differs", bent("client_id", json!("web"))),
        ("expired", bent("exp", json!(now() - 10))),
        ("not a JWT", "garbage".into()),
    ];
    for (what, request) in cases {
        let reply = get(&authorize_url(s, &request, &[])).await;
        assert_eq!(reply.status.as_u16(), 400, "{what}");
        assert_error_page(&reply, 400, Some(ErrorCode::InvalidRequestObject));
    }
    // RFC 9101 §5: request and request_uri are exclusive.
    let good = key.sign(json!({}), &object_claims(s, &authz));
    let reply = get(&authorize_url(
        s,
        &good,
        &[("request_uri", "urn:ietf:params:oauth:request_uri:x")],
    ))
    .await;
    assert_eq!(reply.status.as_u16(), 400);
}

#[tokio::test]
async fn a_request_object_can_be_pushed() {
    let key = Key::es256();
    let server = server(&key).await;
    let authz = Authz::new(&SIGNER);
    let push = |request: String| {
        let s = &server;
        async move {
            let resp = http()
                .post(s.url("/par"))
                .basic_auth(SIGNER.id, SIGNER.secret)
                .form(&[("request", request)])
                .send()
                .await
                .unwrap();
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = push(key.sign(json!({}), &object_claims(&server, &authz))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let q = serde_urlencoded::to_string([
        ("client_id", SIGNER.id),
        ("request_uri", body["request_uri"].as_str().unwrap()),
    ])
    .unwrap();
    let redirect = sign_in_at(&server, &server.url(&format!("/authorize?{q}"))).await;
    code_from(&server, &authz, &redirect);

    let (status, body) = push(Key::es256().sign(json!({}), &object_claims(&server, &authz))).await;
    assert_oauth_error(status, &body, ErrorCode::InvalidRequestObject);
}

#[tokio::test]
async fn discovery_offers_request_objects_only_with_a_client_that_has_keys() {
    let server = server(&Key::es256()).await;
    let doc = get(&server.url("/.well-known/openid-configuration"))
        .await
        .json();
    assert_eq!(doc["request_parameter_supported"], true);
    assert_eq!(
        doc["request_object_signing_alg_values_supported"],
        json!(["RS256", "PS256", "ES256", "EdDSA"])
    );
    let plain = TestServer::start().await;
    let doc = get(&plain.url("/.well-known/openid-configuration"))
        .await
        .json();
    assert_eq!(doc["request_parameter_supported"], false);
}
