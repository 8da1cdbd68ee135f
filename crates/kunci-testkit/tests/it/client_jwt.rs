//! Client authentication with JWTs (RFC 7523 §2.2, §3; OIDC Core §9): `private_key_jwt` with
//! keys inline or behind a `jwks_uri`, and `client_secret_jwt`, at `/token`, `/introspect`
//! and `/revoke`. Assertions are built here with ring alone, independently of Kunci's JOSE.

use crate::support::{assert_oauth_error, http};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use kunci::config::{ClientConfig, Config};
use kunci_core::ErrorCode;
use kunci_core::secret::random_token;
use kunci_testkit::server::client_config;
use kunci_testkit::{Backends, TestClient, TestServer};
use reqwest::StatusCode;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// `private_key_jwt`, its keys inline in the configuration.
const PKJWT: TestClient = TestClient {
    id: "pkjwt",
    secret: None,
    redirect_uri: "",
};
/// `private_key_jwt`, its keys at a `jwks_uri`.
const PKURI: TestClient = TestClient {
    id: "pkuri",
    secret: None,
    redirect_uri: "",
};
/// `client_secret_jwt`: HS256 with the secret from an environment variable.
const HSJWT: TestClient = TestClient {
    id: "hsjwt",
    secret: None,
    redirect_uri: "",
};

/// A client's private key, built with ring (also used by `jar.rs`).
pub enum Key {
    Es256(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Hs256(Vec<u8>),
}

impl Key {
    pub fn es256() -> Self {
        let rng = SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let doc = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        Self::Es256(EcdsaKeyPair::from_pkcs8(alg, doc.as_ref(), &rng).unwrap())
    }
    fn ed25519() -> Self {
        let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        Self::Ed25519(Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap())
    }
    fn alg(&self) -> &'static str {
        match self {
            Self::Es256(_) => "ES256",
            Self::Ed25519(_) => "EdDSA",
            Self::Hs256(_) => "HS256",
        }
    }
    /// The public JWK, with `kid`.
    pub fn jwk(&self, kid: &str) -> Value {
        match self {
            Self::Es256(k) => {
                let p = k.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
                       "x": B64.encode(&p[1..33]), "y": B64.encode(&p[33..65])})
            }
            Self::Ed25519(k) => json!({"kty": "OKP", "crv": "Ed25519", "kid": kid,
                                       "x": B64.encode(k.public_key().as_ref())}),
            Self::Hs256(_) => unreachable!("no public half"),
        }
    }
    /// A compact JWS of `claims` with `header` (to which `alg` is added unless present).
    pub fn sign(&self, mut header: Value, claims: &Value) -> String {
        if header.get("alg").is_none() {
            header["alg"] = json!(self.alg());
        }
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let sig = match self {
            Self::Es256(k) => k
                .sign(&SystemRandom::new(), input.as_bytes())
                .unwrap()
                .as_ref()
                .to_vec(),
            Self::Ed25519(k) => k.sign(input.as_bytes()).as_ref().to_vec(),
            Self::Hs256(secret) => {
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
                ring::hmac::sign(&key, input.as_bytes()).as_ref().to_vec()
            }
        };
        format!("{input}.{}", B64.encode(sig))
    }
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// RFC 7523 §3 claims that pass, for `client` at `server`'s token endpoint.
fn claims(server: &TestServer, client: &str) -> Value {
    json!({"iss": client, "sub": client, "aud": server.url("/token"),
           "exp": now() + 60, "iat": now(), "jti": random_token()})
}

/// An environment variable of at least 32 characters to stand for the operator's
/// `secret = "env:VAR"` (tests cannot set variables: that is `unsafe` in edition 2024).
fn secret_variable() -> (String, Vec<u8>) {
    std::env::vars()
        .filter(|(k, v)| !k.starts_with("KUNCI_") && v.len() >= 32 && v.is_ascii())
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(k, v)| (k, v.into_bytes()))
        .expect("some environment variable of 32+ characters (PATH, CARGO_MANIFEST_DIR)")
}

fn service(c: &TestClient, method: &str) -> ClientConfig {
    let mut cfg = client_config(c, method, "RS256", false);
    cfg.secret = None;
    cfg.redirect_uris = Vec::new();
    cfg.grant_types = vec!["client_credentials".into()];
    cfg.scopes = vec!["orders:read".into()];
    cfg
}

/// The test clients: `pkjwt` with `keys` inline, `hsjwt` with `secret_var`, and `pkuri` when
/// a `jwks_uri` is given.
fn register(config: &mut Config, keys: &Value, secret_var: &str, jwks_uri: Option<String>) {
    let mut pk = service(&PKJWT, "private_key_jwt");
    pk.jwks = Some(keys.to_string());
    let mut hs = service(&HSJWT, "client_secret_jwt");
    hs.secret = Some(format!("env:{secret_var}"));
    config.clients.extend([pk, hs]);
    if let Some(uri) = jwks_uri {
        let mut by_uri = service(&PKURI, "private_key_jwt");
        by_uri.jwks_uri = Some(uri);
        config.clients.push(by_uri);
    }
}

struct Fixture {
    server: TestServer,
    es: Key,
    ed: Key,
    hs: Key,
}

async fn fixture(jwks_uri: Option<String>) -> Fixture {
    let (es, ed) = (Key::es256(), Key::ed25519());
    let keys = json!({"keys": [es.jwk("es-1"), ed.jwk("ed-1")]});
    let (var, secret) = secret_variable();
    let server =
        TestServer::start_with(Backends::current(), |c| register(c, &keys, &var, jwks_uri)).await;
    Fixture {
        server,
        es,
        ed,
        hs: Key::Hs256(secret),
    }
}

/// POSTs `fields` plus a client assertion to `path`.
async fn post_with_assertion(
    server: &TestServer,
    path: &str,
    assertion: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut form = fields.to_vec();
    form.extend([
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ]);
    let resp = http()
        .post(server.url(path))
        .form(&form)
        .send()
        .await
        .expect("POST");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

const CC: [(&str, &str); 2] = [
    ("grant_type", "client_credentials"),
    ("scope", "orders:read"),
];

async fn token(server: &TestServer, assertion: &str) -> (StatusCode, Value) {
    post_with_assertion(server, "/token", assertion, &CC).await
}

#[tokio::test]
async fn private_key_jwt_with_es256_and_eddsa_gets_tokens() {
    let f = fixture(None).await;
    for (key, kid) in [(&f.es, "es-1"), (&f.ed, "ed-1")] {
        let a = key.sign(
            json!({"kid": kid, "typ": "JWT"}),
            &claims(&f.server, PKJWT.id),
        );
        let (status, body) = token(&f.server, &a).await;
        assert_eq!(status, StatusCode::OK, "{kid}: {body}");
        assert_eq!(body["token_type"], "Bearer");
    }
    // RFC 7523 §3: `aud` may be the issuer too; no `kid` means every fitting key is tried;
    // `client_id` in the form must be the assertion's subject.
    let mut c = claims(&f.server, PKJWT.id);
    c["aud"] = json!([f.server.issuer.clone(), "https://elsewhere.example"]);
    let a = f.es.sign(json!({}), &c);
    let (status, body) = post_with_assertion(
        &f.server,
        "/token",
        &a,
        &[CC[0], CC[1], ("client_id", PKJWT.id)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_reused_jti_is_refused() {
    let f = fixture(None).await;
    let a =
        f.es.sign(json!({"kid": "es-1"}), &claims(&f.server, PKJWT.id));
    assert_eq!(token(&f.server, &a).await.0, StatusCode::OK);
    let (status, body) = token(&f.server, &a).await;
    assert_oauth_error(status, &body, ErrorCode::InvalidClient);
}

#[tokio::test]
async fn each_broken_assertion_is_invalid_client() {
    let f = fixture(None).await;
    let s = &f.server;
    let stranger = Key::es256();
    let bent = |member: &str, value: Value| {
        let mut c = claims(s, PKJWT.id);
        c[member] = value;
        c
    };
    let mut no_jti = claims(s, PKJWT.id);
    no_jti.as_object_mut().unwrap().remove("jti");
    let good = f.es.sign(json!({}), &claims(s, PKJWT.id));
    let tampered = format!("{}AAAA", &good[..good.len() - 4]);
    let none = format!(
        "{}.{}.",
        B64.encode(r#"{"alg":"none"}"#),
        B64.encode(claims(s, PKJWT.id).to_string())
    );
    let cases: Vec<(&str, String)> = vec![
        (
            "iss is not the client",
            f.es.sign(json!({}), &bent("iss", json!("other"))),
        ),
        (
            "sub is not the client",
            f.es.sign(json!({}), &bent("sub", json!("web"))),
        ),
        (
            "aud is elsewhere",
            f.es.sign(json!({}), &bent("aud", json!("https://x.example/token"))),
        ),
        (
            "expired",
            f.es.sign(json!({}), &bent("exp", json!(now() - 1))),
        ),
        (
            "exp over 5 minutes away",
            f.es.sign(json!({}), &bent("exp", json!(now() + 600))),
        ),
        ("no jti", f.es.sign(json!({}), &no_jti)),
        (
            "unregistered key",
            stranger.sign(json!({}), &claims(s, PKJWT.id)),
        ),
        (
            "unknown kid",
            f.es.sign(json!({"kid": "nope"}), &claims(s, PKJWT.id)),
        ),
        ("tampered signature", tampered),
        ("alg none", none),
        (
            "HS256 for private_key_jwt",
            f.hs.sign(json!({}), &claims(s, PKJWT.id)),
        ),
        ("not a JWT", "a.b".into()),
    ];
    for (what, assertion) in cases {
        let (status, body) = token(s, &assertion).await;
        assert_eq!(body["error"], "invalid_client", "{what}: {body}");
        assert_oauth_error(status, &body, ErrorCode::InvalidClient);
    }
}

#[tokio::test]
async fn the_assertion_parameters_are_checked() {
    let f = fixture(None).await;
    let s = &f.server;
    let a = f.es.sign(json!({}), &claims(s, PKJWT.id));
    let send = |fields: Vec<(&'static str, String)>| async move {
        let resp = http()
            .post(s.url("/token"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json::<Value>().await.unwrap())
    };
    let base = || vec![("grant_type", "client_credentials".to_owned())];
    // RFC 7521 §4.2: another assertion type is not client authentication Kunci knows.
    let mut other_type = base();
    other_type.push(("client_assertion_type", "urn:example:saml".into()));
    other_type.push(("client_assertion", a.clone()));
    let (status, body) = send(other_type).await;
    assert_oauth_error(status, &body, ErrorCode::InvalidClient);
    // The two parameters go together.
    let mut alone = base();
    alone.push(("client_assertion", a.clone()));
    let (status, body) = send(alone).await;
    assert_oauth_error(status, &body, ErrorCode::InvalidRequest);
    // RFC 6749 §2.3: one method per request.
    let mut two = base();
    two.push(("client_assertion_type", JWT_BEARER.into()));
    two.push(("client_assertion", a.clone()));
    two.push(("client_secret", "x".repeat(40)));
    let (status, body) = send(two).await;
    assert_oauth_error(status, &body, ErrorCode::InvalidRequest);
    // A client_id in the form that is not the assertion's subject.
    let mut other_id = base();
    other_id.push(("client_id", HSJWT.id.into()));
    other_id.push(("client_assertion_type", JWT_BEARER.into()));
    other_id.push(("client_assertion", a.clone()));
    let (status, body) = send(other_id).await;
    assert_oauth_error(status, &body, ErrorCode::InvalidClient);
    // A secret-method client cannot switch to assertions, nor a JWT client to secrets.
    let web = f.hs.sign(json!({}), &claims(s, "web"));
    let (status, body) = token(s, &web).await;
    assert_oauth_error(status, &body, ErrorCode::InvalidClient);
}

#[tokio::test]
async fn client_secret_jwt_uses_hs256_with_the_secret_only() {
    let f = fixture(None).await;
    let s = &f.server;
    let (status, body) = token(s, &f.hs.sign(json!({}), &claims(s, HSJWT.id))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Asymmetric algorithms are for private_key_jwt; a wrong secret fails.
    let es = f.es.sign(json!({}), &claims(s, HSJWT.id));
    let wrong = Key::Hs256(b"not-the-secret-not-the-secret-0123".to_vec());
    for a in [es, wrong.sign(json!({}), &claims(s, HSJWT.id))] {
        let (status, body) = token(s, &a).await;
        assert_oauth_error(status, &body, ErrorCode::InvalidClient);
    }
}

#[tokio::test]
async fn assertions_authenticate_at_introspection_and_revocation() {
    let f = fixture(None).await;
    let s = &f.server;
    let (_, tokens) = token(s, &f.es.sign(json!({}), &claims(s, PKJWT.id))).await;
    let at = tokens["access_token"].as_str().unwrap();
    let (status, body) = post_with_assertion(
        s,
        "/introspect",
        &f.es.sign(json!({}), &claims(s, PKJWT.id)),
        &[("token", at)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["active"], true, "{body}");
    let (status, _) = post_with_assertion(
        s,
        "/revoke",
        &f.es.sign(json!({}), &claims(s, PKJWT.id)),
        &[("token", at)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = post_with_assertion(
        s,
        "/introspect",
        &f.es.sign(json!({}), &claims(s, PKJWT.id)),
        &[("token", at)],
    )
    .await;
    assert_eq!(body["active"], false, "revoked: {body}");
}

/// Serves `body` as a JWK Set on loopback; counts the requests.
async fn jwks_server(body: String) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf).await;
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(reply.as_bytes()).await;
        }
    });
    (url, hits)
}

#[tokio::test]
async fn private_key_jwt_keys_come_from_the_jwks_uri_and_are_cached() {
    let key = Key::es256();
    let (uri, hits) = jwks_server(json!({"keys": [key.jwk("uri-1")]}).to_string()).await;
    let f = fixture(Some(uri)).await;
    let s = &f.server;
    for _ in 0..2 {
        let a = key.sign(json!({"kid": "uri-1"}), &claims(s, PKURI.id));
        let (status, body) = token(s, &a).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1, "the set is cached");
    // Another client's key is not this client's.
    let (status, body) = token(s, &f.es.sign(json!({}), &claims(s, PKURI.id))).await;
    assert_oauth_error(status, &body, ErrorCode::InvalidClient);
}

#[tokio::test]
async fn discovery_lists_the_jwt_methods_and_their_algorithms() {
    let f = fixture(None).await;
    let doc: Value = http()
        .get(f.server.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for m in ["private_key_jwt", "client_secret_jwt"] {
        for field in [
            "token_endpoint_auth_methods_supported",
            "introspection_endpoint_auth_methods_supported",
            "revocation_endpoint_auth_methods_supported",
        ] {
            let listed = doc[field].as_array().unwrap();
            assert!(listed.contains(&json!(m)), "{field} lacks {m}: {doc}");
        }
    }
    assert_eq!(
        doc["token_endpoint_auth_signing_alg_values_supported"],
        json!(["HS256", "RS256", "PS256", "ES256", "EdDSA"])
    );
    let plain = TestServer::start().await;
    let doc: Value = http()
        .get(plain.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc.get("token_endpoint_auth_signing_alg_values_supported")
            .is_none()
    );
}

#[test]
fn client_secret_jwt_with_a_digest_is_a_configuration_error() {
    let mut config = Config::default();
    let mut hs = service(&HSJWT, "client_secret_jwt");
    hs.secret = Some(format!("sha256:{}", "ab".repeat(32)));
    config.clients.push(hs);
    let err = format!("{:#}", config.validate().unwrap_err());
    assert!(err.contains("hsjwt") && err.contains("secret"), "{err}");
    let mut config = Config::default();
    let mut pk = service(&PKJWT, "private_key_jwt");
    pk.jwks_uri = Some("http://keys.example/jwks".into());
    config.clients.push(pk);
    let err = format!("{:#}", config.validate().unwrap_err());
    assert!(err.contains("jwks_uri"), "{err}");
}
