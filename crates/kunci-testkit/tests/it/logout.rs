//! Logout as relying parties see it: OIDC RP-Initiated Logout 1.0 (`/logout` checks the hint,
//! the client and the redirect URI, always asks the user, then returns to the RP with
//! `state`), Back-Channel Logout 1.0 (a signed logout token POSTed to each client, retried,
//! never holding the user up) and Front-Channel Logout 1.0 (iframes on the logged-out page,
//! allowed by that page's CSP alone).

mod backchannel;
pub(crate) mod receiver;

use crate::jwt::{Jwt, signed_by_stranger};
use crate::support::{
    Authz, Reply, assert_error_page, assert_redirect_error, assert_shows, code_from, exchange, get,
    http, sign_in, string,
};
use kunci::config::{ClientConfig, Config};
use kunci_core::ErrorCode;
use kunci_testkit::browser::{Landing, csrf, form_action};
use kunci_testkit::server::{FIRST, WEB};
use kunci_testkit::{Backends, Browser, TestClient, TestServer};
use serde_json::Value;

const EMAIL: &str = "ayu@example.com";

/// A server with one user, the test clients changed by `tweak`.
async fn server_with(tweak: impl FnOnce(&mut ClientConfig)) -> TestServer {
    let server = TestServer::start_with(Backends::current(), |c: &mut Config| {
        let first = c.clients.iter_mut().find(|c| c.client_id == FIRST.id);
        tweak(first.expect("the first-party test client"));
    })
    .await;
    server
        .add_user(EMAIL, "Ayu Lestari", crate::support::PASSWORD, true)
        .await;
    server
}

/// Signs a new browser in to `client`; returns the browser and the ID token's claims and text.
async fn signed_in(server: &TestServer, client: &TestClient) -> (Browser, String, Value) {
    let browser = Browser::new(&server.issuer);
    let authz = Authz::new(client);
    let redirect = sign_in(server, &browser, &authz, EMAIL).await;
    let (status, tokens) = exchange(server, &authz, &code_from(server, &authz, &redirect)).await;
    assert_eq!(status, 200, "{tokens}");
    let id_token = tokens["id_token"].as_str().expect("an ID token").to_owned();
    let claims = Jwt::decode(&id_token).claims;
    (browser, id_token, claims)
}

/// True while `browser`'s SSO session lives: `prompt=none` still gets a code.
async fn still_signed_in(server: &TestServer, browser: &Browser) -> bool {
    let authz = Authz::new(&FIRST).set("prompt", "none");
    let redirect = browser.open(&authz.url(server)).await.left();
    Landing::param(&redirect, "code").is_some()
}

fn logout_url(server: &TestServer, params: &[(&str, &str)]) -> String {
    server.url(&format!(
        "/logout?{}",
        serde_urlencoded::to_string(params).unwrap()
    ))
}

/// The hidden fields of the confirmation form, unescaped.
fn hidden_fields(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|tag| {
            let attr = |name: &str| {
                let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
                let len = tag[start..].find('"')?;
                Some(unescape(&tag[start..start + len]))
            };
            Some((attr("name")?, attr("value")?))
        })
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#61;", "=")
        .replace("&#x3d;", "=")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// Answers the confirmation page as the user would: the form, with its CSRF token.
pub(crate) async fn confirm(browser: &Browser, page: &str) -> Landing {
    assert!(
        page.contains("id=\"logout-form\""),
        "a confirmation form:\n{page}"
    );
    let fields = hidden_fields(page);
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    browser
        .submit(&form_action(page, "logout-form"), &fields)
        .await
}

// --- Discovery ---------------------------------------------------------------------------------

#[tokio::test]
async fn discovery_advertises_the_three_logout_specifications() {
    let server = TestServer::start().await;
    let doc = get(&server.url("/.well-known/openid-configuration"))
        .await
        .json();
    assert_eq!(doc["end_session_endpoint"], server.url("/logout"));
    for flag in [
        "backchannel_logout_supported",
        "backchannel_logout_session_supported",
        "frontchannel_logout_supported",
        "frontchannel_logout_session_supported",
    ] {
        assert_eq!(doc[flag], true, "{flag}");
    }
}

// --- RP-Initiated Logout -----------------------------------------------------------------------

#[tokio::test]
async fn a_valid_hint_is_confirmed_by_the_user_and_then_returns_to_the_rp_with_state() {
    let server = server_with(|_| {}).await;
    let (browser, hint, claims) = signed_in(&server, &FIRST).await;
    assert_ne!(
        claims["sid"].as_str(),
        browser.cookie("kunci_session").as_deref(),
        "the ID token's sid is not the session cookie"
    );
    let back = FIRST.post_logout_redirect_uri();
    let url = logout_url(
        &server,
        &[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", &back),
            ("state", "st/1 x"),
        ],
    );
    let (status, _, page) = browser.open(&url).await.page();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"logout-requested-by\""), "{page}");
    assert!(
        page.contains("Test app first"),
        "names the app that asks:\n{page}"
    );
    assert!(
        still_signed_in(&server, &browser).await,
        "a GET alone never ends the session"
    );

    let redirect = confirm(&browser, &page).await.left();
    assert_eq!(redirect.as_str().split('?').next(), Some(back.as_str()));
    assert_eq!(
        Landing::param(&redirect, "state").as_deref(),
        Some("st/1 x")
    );
    assert_eq!(
        browser.cookie("kunci_session"),
        None,
        "the cookie is removed"
    );
    let authz = Authz::new(&FIRST).set("prompt", "none");
    let redirect = browser.open(&authz.url(&server)).await.left();
    assert_redirect_error(&server, &authz, &redirect, ErrorCode::LoginRequired);
}

#[tokio::test]
async fn an_unregistered_post_logout_redirect_uri_is_an_error_page_and_never_a_redirect() {
    let server = server_with(|_| {}).await;
    let (browser, hint, _) = signed_in(&server, &FIRST).await;
    let someone_elses = WEB.post_logout_redirect_uri();
    for params in [
        vec![
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
        vec![
            ("id_token_hint", hint.as_str()),
            ("post_logout_redirect_uri", someone_elses.as_str()),
        ],
        vec![
            ("client_id", FIRST.id),
            ("post_logout_redirect_uri", someone_elses.as_str()),
        ],
        // A URI with nothing to say which client it belongs to.
        vec![(
            "post_logout_redirect_uri",
            "http://127.0.0.1:1/first/logged-out",
        )],
        // A client_id that contradicts the hint.
        vec![("id_token_hint", hint.as_str()), ("client_id", WEB.id)],
    ] {
        let url = logout_url(&server, &params);
        assert_error_page(&get(&url).await, 400, Some(ErrorCode::InvalidRequest));
        let (status, _, body) = browser.open(&url).await.page();
        assert_eq!(status, 400, "{body}");
    }
    assert!(still_signed_in(&server, &browser).await);
}

#[tokio::test]
async fn a_tampered_or_foreign_hint_is_an_error_page() {
    let server = server_with(|_| {}).await;
    let (_, hint, claims) = signed_in(&server, &FIRST).await;
    let jwt = Jwt::decode(&hint);
    let parts: Vec<&str> = hint.split('.').collect();
    let mut other = claims.clone();
    other["aud"] = Value::from(WEB.id);
    let swapped_claims = format!(
        "{}.{}.{}",
        parts[0],
        crate::jwt::unsigned(&jwt.header, &other, b"")
            .split('.')
            .nth(1)
            .unwrap(),
        parts[2]
    );
    let stranger = signed_by_stranger(&jwt.header, &claims);
    for bad in [swapped_claims, stranger, "not.a.jwt".to_owned()] {
        let url = logout_url(
            &server,
            &[
                ("id_token_hint", &bad),
                (
                    "post_logout_redirect_uri",
                    &FIRST.post_logout_redirect_uri(),
                ),
            ],
        );
        assert_error_page(&get(&url).await, 400, Some(ErrorCode::InvalidRequest));
    }
}

#[tokio::test]
async fn without_a_session_there_is_nothing_to_confirm() {
    let server = server_with(|_| {}).await;
    let back = FIRST.post_logout_redirect_uri();
    let url = logout_url(
        &server,
        &[
            ("client_id", FIRST.id),
            ("post_logout_redirect_uri", &back),
            ("state", "s1"),
        ],
    );
    let reply = get(&url).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(
        reply.header("location"),
        Some(format!("{back}?state=s1").as_str())
    );

    let (status, _, page) = Browser::new(&server.issuer)
        .open(&logout_url(&server, &[("client_id", FIRST.id)]))
        .await
        .page();
    assert_eq!(status, 200);
    assert!(
        page.contains("not-signed-in") && !page.contains("logout-form"),
        "{page}"
    );
}

#[tokio::test]
async fn ui_locales_picks_the_language_of_the_logout_pages() {
    let server = server_with(|_| {}).await;
    let (browser, hint, _) = signed_in(&server, &FIRST).await; // Accept-Language: en
    let url = logout_url(
        &server,
        &[("id_token_hint", &hint), ("ui_locales", "id-ID en")],
    );
    let (_, _, page) = browser.open(&url).await.page();
    assert_shows(&page, &string("id", "logout_question"));
    let (_, _, page) = confirm(&browser, &page).await.page();
    assert_shows(&page, &string("id", "logged_out_title"));
}

#[tokio::test]
async fn the_confirmation_needs_the_csrf_token() {
    let server = server_with(|_| {}).await;
    let (browser, hint, _) = signed_in(&server, &FIRST).await;
    let (_, _, page) = browser
        .open(&logout_url(&server, &[("id_token_hint", &hint)]))
        .await
        .page();
    let mut fields = hidden_fields(&page);
    for f in &mut fields {
        if f.0 == "csrf" {
            f.1 = "forged".into();
        }
    }
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, _, _) = browser.submit("/logout", &fields).await.page();
    assert_eq!(status, 403);
    assert!(still_signed_in(&server, &browser).await);
}

#[tokio::test]
async fn an_rp_may_send_the_request_as_a_form_post_and_the_user_is_still_asked() {
    let server = server_with(|_| {}).await;
    let (browser, hint, _) = signed_in(&server, &FIRST).await;
    let back = FIRST.post_logout_redirect_uri();
    let fields = [
        ("id_token_hint", hint.as_str()),
        ("post_logout_redirect_uri", back.as_str()),
        ("state", "p1"),
    ];
    let reply = Reply::read(
        http()
            .post(server.url("/logout"))
            .form(&fields)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, 303, "continues as a GET: {}", reply.body);
    assert!(reply.header("location").unwrap().starts_with("/logout?"));

    let (status, _, page) = browser.submit("/logout", &fields).await.page();
    assert_eq!(status, 200);
    assert!(still_signed_in(&server, &browser).await);
    let redirect = confirm(&browser, &page).await.left();
    assert_eq!(Landing::param(&redirect, "state").as_deref(), Some("p1"));
}

// --- Front-Channel Logout ----------------------------------------------------------------------

const FRONT: &str = "http://127.0.0.1:1/first/frontchannel-logout";

#[tokio::test]
async fn the_logged_out_page_frames_each_client_with_iss_and_sid_and_its_csp_allows_only_them() {
    let server = server_with(|c| c.frontchannel_logout_uri = Some(FRONT.into())).await;
    let (browser, _, id_claims) = signed_in(&server, &FIRST).await;
    let confirm_page = Reply::read(
        browser
            .http
            .get(server.url("/logout"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let csp = confirm_page.header("content-security-policy").unwrap();
    assert!(
        !csp.contains("frame-src"),
        "only the logged-out page may frame: {csp}"
    );

    let resp = browser
        .http
        .post(server.url("/logout"))
        .form(&[("csrf", csrf(&confirm_page.body))])
        .send()
        .await
        .unwrap();
    let page = Reply::read(resp).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let src = iframe_src(&page.body).expect("an iframe");
    let src = url::Url::parse(&src).unwrap();
    assert_eq!(src.as_str().split('?').next(), Some(FRONT));
    assert_eq!(
        Landing::param(&src, "iss").as_deref(),
        Some(server.issuer.as_str())
    );
    assert_eq!(
        Landing::param(&src, "sid").as_deref(),
        id_claims["sid"].as_str()
    );

    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-src http://127.0.0.1:1"), "{csp}");
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script"),
        "{csp}"
    );
    assert!(!page.body.contains("<script"), "still no script");
}

#[tokio::test]
async fn with_frames_to_load_the_page_leads_on_to_the_rp_instead_of_redirecting_at_once() {
    let server = server_with(|c| c.frontchannel_logout_uri = Some(FRONT.into())).await;
    let (browser, hint, _) = signed_in(&server, &FIRST).await;
    let back = FIRST.post_logout_redirect_uri();
    let url = logout_url(
        &server,
        &[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", &back),
            ("state", "z"),
        ],
    );
    let (_, _, page) = browser.open(&url).await.page();
    let (status, _, body) = confirm(&browser, &page).await.page();
    assert_eq!(status, 200);
    assert!(iframe_src(&body).is_some(), "{body}");
    let expected = format!("{back}?state=z");
    assert!(body.contains("http-equiv=\"refresh\""), "{body}");
    assert!(
        unescape(&body).contains(&format!("href=\"{expected}\"")),
        "{body}"
    );
}

/// The `src` of the first iframe, unescaped.
fn iframe_src(page: &str) -> Option<String> {
    let tag = &page[page.find("<iframe")?..];
    let start = tag.find("src=\"")? + 5;
    let len = tag[start..].find('"')?;
    Some(unescape(&tag[start..start + len]))
}
