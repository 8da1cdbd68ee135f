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
/// The body is exactly `{"error", "error_description"}`: nothing else leaks into it.
pub fn assert_oauth_error(status: StatusCode, body: &Value, code: ErrorCode) {
    assert_eq!(body["error"], code.as_str(), "body: {body}");
    assert_eq!(status.as_u16(), code.http_status(), "body: {body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "body: {body}"
    );
    let mut keys: Vec<&str> = body
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    assert_eq!(keys, ["error", "error_description"], "body: {body}");
}

/// A server with one verified user; returns the server and the user's email.
pub async fn server_with_user() -> (TestServer, String) {
    let server = TestServer::start().await;
    let email = "ayu@example.com".to_owned();
    server.add_user(&email, "Ayu Lestari", PASSWORD, true).await;
    (server, email)
}

/// A plain HTTP client with no cookies that never follows redirects: it sees exactly what
/// Kunci answers.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client")
}

/// A response read in full: status, headers and body text.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub async fn read(resp: reqwest::Response) -> Self {
        Self {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap_or_default(),
        }
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// GET without cookies or redirects.
pub async fn get(url: &str) -> Reply {
    Reply::read(http().get(url).send().await.expect("GET")).await
}

/// Asserts the hosted error page: this status, HTML, never a redirect, showing `code` if given.
pub fn assert_error_page(reply: &Reply, status: u16, code: Option<ErrorCode>) {
    assert_eq!(reply.status.as_u16(), status, "body:\n{}", reply.body);
    assert!(
        reply.header("location").is_none(),
        "an error page must never redirect, but Location is {:?}",
        reply.header("location")
    );
    assert!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{:?}",
        reply.header("content-type")
    );
    assert!(
        reply.body.contains("id=\"error-message\""),
        "{}",
        reply.body
    );
    if let Some(code) = code {
        assert!(
            reply
                .body
                .contains(&format!("<code id=\"error-code\">{code}</code>")),
            "the page shows {code}:\n{}",
            reply.body
        );
    }
}

/// Text as askama renders it into HTML.
pub fn html(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// Asserts the page shows `text` (a user-facing string from the locale files).
pub fn assert_shows(page: &str, text: &str) {
    assert!(page.contains(&html(text)), "page lacks {text:?}:\n{page}");
}

/// A string from `templates/i18n/{lang}.toml`, so tests follow the translations.
pub fn string(lang: &str, key: &str) -> String {
    let file = match lang {
        "en" => include_str!("../../../../templates/i18n/en.toml"),
        "id" => include_str!("../../../../templates/i18n/id.toml"),
        other => panic!("no locale {other}"),
    };
    let table: toml::Table = file.parse().expect("locale file parses");
    table
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("{lang}.toml has no {key}"))
        .to_owned()
}

/// Signs a fresh browser in to `client` and returns the request and the code it got.
pub async fn fresh_code(server: &TestServer, client: &TestClient, email: &str) -> (Authz, String) {
    let browser = Browser::new(&server.issuer);
    let authz = Authz::new(client);
    let redirect = sign_in(server, &browser, &authz, email).await;
    let code = code_from(server, &authz, &redirect);
    (authz, code)
}

/// Signs in and exchanges the code; returns the token response.
pub async fn fresh_tokens(server: &TestServer, client: &TestClient, email: &str) -> Value {
    let (authz, code) = fresh_code(server, client, email).await;
    let (status, body) = exchange(server, &authz, &code).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Calls /userinfo with `Authorization: Bearer token`.
pub async fn userinfo(server: &TestServer, token: &str) -> Reply {
    Reply::read(
        http()
            .get(server.url("/userinfo"))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET /userinfo"),
    )
    .await
}
