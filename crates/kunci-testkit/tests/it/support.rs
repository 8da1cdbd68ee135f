//! Shared helpers that make tests read like the spec sentences they check.

use kunci_core::ErrorCode;
use kunci_core::pkce::challenge_for;
use kunci_core::secret::random_token;
use kunci_testkit::browser::Landing;
use kunci_testkit::{Browser, TestClient, TestServer};
use reqwest::StatusCode;
use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery staple";

/// An authorization request, valid by default, that a test bends one parameter at a time.
#[derive(Clone)]
pub struct Authz {
    pub params: Vec<(String, String)>,
    pub verifier: String,
    pub client: TestClient,
}

impl Authz {
    pub fn new(client: &TestClient) -> Self {
        let verifier = format!("{}{}", random_token(), random_token());
        let params = [
            ("response_type", "code".to_owned()),
            ("client_id", client.id.to_owned()),
            ("redirect_uri", client.redirect_uri.to_owned()),
            ("scope", "openid email profile".to_owned()),
            ("state", random_token()),
            ("nonce", random_token()),
            ("code_challenge", challenge_for(&verifier)),
            ("code_challenge_method", "S256".to_owned()),
        ];
        Self {
            params: params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            verifier,
            client: client.clone(),
        }
    }
    pub fn set(mut self, k: &str, v: &str) -> Self {
        self.params.retain(|(n, _)| n != k);
        self.params.push((k.to_owned(), v.to_owned()));
        self
    }
    pub fn without(mut self, k: &str) -> Self {
        self.params.retain(|(n, _)| n != k);
        self
    }
    pub fn also(mut self, k: &str, v: &str) -> Self {
        self.params.push((k.to_owned(), v.to_owned()));
        self
    }
    pub fn get(&self, k: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
    pub fn url(&self, server: &TestServer) -> String {
        let q = serde_urlencoded::to_string(&self.params).expect("query");
        server.url(&format!("/authorize?{q}"))
    }
}

/// Signs in from scratch (login form, then consent if asked) and returns the client redirect.
pub async fn sign_in(
    server: &TestServer,
    browser: &Browser,
    authz: &Authz,
    email: &str,
) -> url::Url {
    let (_, _, page) = browser.open(&authz.url(server)).await.page();
    let landing = browser.sign_in(&page, email, PASSWORD).await;
    finish_consent(browser, landing).await
}

/// If the landing is the consent page, allows (and remembers); returns the client redirect.
pub async fn finish_consent(browser: &Browser, landing: Landing) -> url::Url {
    match landing {
        Landing::Left(u) => u,
        Landing::Page { body, .. } if body.contains("consent-form") => {
            browser.consent(&body, true, true).await.left()
        }
        Landing::Page { status, body, .. } => panic!("unexpected page {status}:\n{body}"),
    }
}

/// The code from a successful redirect, after checking `state` and `iss` (RFC 9207).
pub fn code_from(server: &TestServer, authz: &Authz, redirect: &url::Url) -> String {
    assert_eq!(
        Landing::param(redirect, "error"),
        None,
        "unexpected error redirect {redirect}"
    );
    assert_eq!(
        Landing::param(redirect, "state").as_deref(),
        authz.get("state")
    );
    assert_eq!(
        Landing::param(redirect, "iss").as_deref(),
        Some(server.issuer.as_str())
    );
    Landing::param(redirect, "code").expect("code in redirect")
}

/// Asserts an error redirect to the client with this code, `state` and `iss`.
pub fn assert_redirect_error(
    server: &TestServer,
    authz: &Authz,
    redirect: &url::Url,
    code: ErrorCode,
) {
    let expected_base = authz.client.redirect_uri;
    assert!(
        redirect.as_str().starts_with(expected_base),
        "redirected to {redirect}, not the client"
    );
    assert_eq!(
        Landing::param(redirect, "error").as_deref(),
        Some(code.as_str()),
        "{redirect}"
    );
    assert_eq!(
        Landing::param(redirect, "state").as_deref(),
        authz.get("state")
    );
    assert_eq!(
        Landing::param(redirect, "iss").as_deref(),
        Some(server.issuer.as_str())
    );
    assert!(Landing::param(redirect, "code").is_none());
}

/// POSTs to /token as `client` would (its registered authentication method).
pub async fn token_request(
    server: &TestServer,
    client: &TestClient,
    fields: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let http = reqwest::Client::new();
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    let mut req = http.post(server.url("/token"));
    match (client.id, client.secret) {
        ("post", Some(secret)) => {
            form.push(("client_id", client.id));
            form.push(("client_secret", secret));
        }
        (_, Some(secret)) => req = req.basic_auth(client.id, Some(secret)),
        (_, None) => form.push(("client_id", client.id)),
    }
    let resp = req.form(&form).send().await.expect("POST /token");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, headers, body)
}

/// Exchanges a code with the right verifier and redirect URI.
pub async fn exchange(server: &TestServer, authz: &Authz, code: &str) -> (StatusCode, Value) {
    let (status, _, body) = token_request(
        server,
        &authz.client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", authz.client.redirect_uri),
            ("code_verifier", &authz.verifier),
        ],
    )
    .await;
    (status, body)
}

/// Asserts the RFC 6749 §5.2 error shape: status from the code, `error` and a description.
pub fn assert_oauth_error(status: StatusCode, body: &Value, code: ErrorCode) {
    assert_eq!(body["error"], code.as_str(), "body: {body}");
    assert_eq!(status.as_u16(), code.http_status(), "body: {body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "body: {body}"
    );
}

/// A server with one verified user; returns the server and the user's email.
pub async fn server_with_user() -> (TestServer, String) {
    let server = TestServer::start().await;
    let email = "ayu@example.com".to_owned();
    server.add_user(&email, "Ayu Lestari", PASSWORD, true).await;
    (server, email)
}
