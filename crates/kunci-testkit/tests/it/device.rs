//! The device authorization grant (RFC 8628): a TV or kiosk asks `/device_authorization` for
//! codes, a person enters the user code on `/device` in a browser, signs in, approves or
//! denies, and the device polls `/token` until it gets tokens, once.

use crate::dpop::{Holder, post_with_proofs};
use crate::grants::{Answer, client_post, str_of};
use crate::jwt::{Jwt, jwks};
use crate::support::{PASSWORD, assert_oauth_error, assert_shows, get, http, string, userinfo};
use kunci::config::Config;
use kunci_core::secret::sha256_hex;
use kunci_core::{ErrorCode, ManualClock};
use kunci_testkit::browser::{Landing, csrf, form_action};
use kunci_testkit::server::{WEB, client_config};
use kunci_testkit::{Backends, Browser, TestClient, TestServer};
use serde_json::{Value, json};
use std::sync::Arc;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A smart TV app: public, device grant only.
const TV: TestClient = TestClient {
    id: "tv",
    secret: None,
    redirect_uri: "",
};
/// A kiosk: confidential, device grant with refresh tokens.
const KIOSK: TestClient = TestClient {
    id: "kiosk",
    secret: Some("kiosk-secret-0123456789abcdef0123456789"),
    redirect_uri: "",
};

fn with_device_clients(c: &mut Config) {
    let mut tv = client_config(&TV, "none", "ES256", false);
    tv.redirect_uris = Vec::new();
    tv.grant_types = vec![DEVICE_GRANT.into()];
    let mut kiosk = client_config(&KIOSK, "client_secret_basic", "RS256", false);
    kiosk.redirect_uris = Vec::new();
    kiosk.grant_types = vec![DEVICE_GRANT.into()];
    kiosk.refresh_tokens = true;
    c.clients.extend([tv, kiosk]);
}

const EMAIL: &str = "dewi@example.com";

async fn device_server() -> TestServer {
    let server = TestServer::start_with(Backends::current(), with_device_clients).await;
    server.add_user(EMAIL, "Dewi Sartika", PASSWORD, true).await;
    server
}

/// `POST /device_authorization` that must succeed; returns the response body.
async fn authorize_device(server: &TestServer, client: &TestClient, scope: &str) -> Value {
    let a = client_post(
        server,
        "/device_authorization",
        Some(client),
        &[("scope", scope)],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    a.body
}

/// The device polls `/token` once.
async fn poll(server: &TestServer, client: &TestClient, device_code: &str) -> Answer {
    client_post(
        server,
        "/token",
        Some(client),
        &[("grant_type", DEVICE_GRANT), ("device_code", device_code)],
    )
    .await
}

fn assert_poll_error(a: &Answer, code: ErrorCode) {
    assert_oauth_error(a.status, &a.body, code);
}

/// Types `code` into the entry form at `/device` and submits it.
async fn enter_code(browser: &Browser, server: &TestServer, code: &str) -> Landing {
    let (_, _, page) = browser.open(&server.url("/device")).await.page();
    let action = form_action(&page, "device-form");
    browser
        .submit(&action, &[("user_code", code), ("csrf", &csrf(&page))])
        .await
}

/// Follows `verification_uri_complete`, submits the pre-filled form and signs in; returns the
/// confirmation page.
async fn confirmation_page(browser: &Browser, started: &Value) -> String {
    let user_code = str_of(started, "user_code");
    let (_, _, entry) = browser
        .open(str_of(started, "verification_uri_complete"))
        .await
        .page();
    assert!(
        entry.contains(&format!("value=\"{user_code}\"")),
        "the code is pre-filled:\n{entry}"
    );
    let action = form_action(&entry, "device-form");
    let (_, _, login) = browser
        .submit(
            &action,
            &[("user_code", user_code), ("csrf", &csrf(&entry))],
        )
        .await
        .page();
    assert!(login.contains("login-form"), "sign in first:\n{login}");
    let (status, url, confirm) = browser.sign_in(&login, EMAIL, PASSWORD).await.page();
    assert_eq!(status, 200, "{confirm}");
    assert!(url.contains("/device/confirm"), "{url}");
    confirm
}

/// Answers the confirmation page; returns the done page.
async fn decide(browser: &Browser, confirm: &str, decision: &str) -> String {
    let action = form_action(confirm, "device-confirm-form");
    let user_code = confirm
        .split("name=\"user_code\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the form carries the user code")
        .to_owned();
    let (status, _, done) = browser
        .submit(
            &action,
            &[
                ("user_code", user_code.as_str()),
                ("decision", decision),
                ("csrf", &csrf(confirm)),
            ],
        )
        .await
        .page();
    assert_eq!(status, 200, "{done}");
    done
}

kunci_testkit::on_every_backend! {
    /// The `oauth2` crate as an independent device: it reads Kunci's device authorization
    /// response and, once the user approved, gets the tokens by its own polling.
    async fn the_oauth2_crate_runs_the_device_flow() {
        use oauth2::basic::BasicClient;
        use oauth2::{
            ClientId, ClientSecret, DeviceAuthorizationUrl, Scope, StandardDeviceAuthorizationResponse,
            TokenResponse, TokenUrl,
        };
        let server = device_server().await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let kiosk = BasicClient::new(ClientId::new(KIOSK.id.into()))
            .set_client_secret(ClientSecret::new(KIOSK.secret.unwrap().into()))
            .set_device_authorization_url(
                DeviceAuthorizationUrl::new(server.url("/device_authorization")).unwrap(),
            )
            .set_token_uri(TokenUrl::new(server.url("/token")).unwrap());
        let details: StandardDeviceAuthorizationResponse = kiosk
            .exchange_device_code()
            .add_scope(Scope::new("openid".into()))
            .add_scope(Scope::new("email".into()))
            .request_async(&http)
            .await
            .expect("a device authorization response the library accepts");
        assert_eq!(details.verification_uri().as_str(), server.url("/device"));
        let started = json!({
            "user_code": details.user_code().secret(),
            "verification_uri_complete": details.verification_uri_complete().unwrap().secret(),
        });
        let browser = Browser::new(&server.issuer);
        let confirm = confirmation_page(&browser, &started).await;
        decide(&browser, &confirm, "approve").await;
        let tokens = kiosk
            .exchange_device_access_token(&details)
            .request_async(&http, tokio::time::sleep, Some(std::time::Duration::from_secs(30)))
            .await
            .expect("tokens after approval");
        let scopes: Vec<&str> = tokens.scopes().unwrap().iter().map(|s| s.as_str()).collect();
        assert_eq!(scopes, ["openid", "email"]);
        let info = userinfo(&server, tokens.access_token().secret()).await;
        assert_eq!(info.json()["email"], EMAIL, "{}", info.body);
    }

    /// §3.1–§3.5 end to end: codes, page, sign-in, approval, tokens once; OIDC on top.
    async fn a_kiosk_gets_tokens_after_the_user_approves_on_another_device() {
        let server = device_server().await;
        let started = authorize_device(&server, &KIOSK, "openid email offline_access").await;
        let user_code = str_of(&started, "user_code");
        let shape = user_code.len() == 9
            && user_code.char_indices().all(|(i, c)| {
                if i == 4 { c == '-' } else { "BCDFGHJKLMNPQRSTVWXZ".contains(c) }
            });
        assert!(shape, "§6.1 user code: {user_code}");
        assert_eq!(started["verification_uri"], server.url("/device"));
        assert_eq!(
            started["verification_uri_complete"],
            server.url(&format!("/device?user_code={user_code}"))
        );
        assert_eq!(started["expires_in"], 600);
        assert_eq!(started["interval"], 5);
        let device_code = str_of(&started, "device_code");
        assert_eq!(device_code.len(), 43, "256 random bits");

        assert_poll_error(&poll(&server, &KIOSK, device_code).await, ErrorCode::AuthorizationPending);

        let browser = Browser::new(&server.issuer);
        let confirm = confirmation_page(&browser, &started).await;
        assert_shows(&confirm, "Test app kiosk");
        assert!(confirm.contains(&format!("id=\"device-user-code\" class=\"client\">{user_code}<")));
        assert_shows(&confirm, &string("en", "device_phishing_warning"));
        for s in ["openid", "email", "offline_access"] {
            assert!(confirm.contains(&format!("<code class=\"scope-name\">{s}</code>")), "{s}");
        }
        let done = decide(&browser, &confirm, "approve").await;
        assert_shows(&done, &string("en", "device_done_body"));

        let tokens = poll(&server, &KIOSK, device_code).await;
        assert_eq!(tokens.status, 200, "{}", tokens.body);
        assert_eq!(tokens.body["token_type"], "Bearer");
        assert!(tokens.body["refresh_token"].is_string(), "consented offline_access");
        let id = Jwt::decode(str_of(&tokens.body, "id_token"));
        assert!(id.verifies_with(&jwks(&server).await), "the ID token verifies");
        assert_eq!(id.claims["iss"], server.issuer.as_str());
        assert_eq!(id.claims["aud"], KIOSK.id);
        assert!(id.claims.get("nonce").is_none(), "no nonce in RFC 8628");
        assert_eq!(id.claims["amr"], json!(["pwd"]));
        assert!(id.claims["auth_time"].is_i64() && id.claims["sid"].is_string());
        let info = userinfo(&server, str_of(&tokens.body, "access_token")).await;
        assert_eq!(info.status, 200, "{}", info.body);
        assert_eq!(info.json()["email"], EMAIL);
        assert_eq!(info.json()["sub"], id.claims["sub"]);

        // Issued once: the same device code again is refused.
        assert_poll_error(&poll(&server, &KIOSK, device_code).await, ErrorCode::InvalidGrant);
        // The user code is spent too.
        let (status, _, page) = enter_code(&browser, &server, user_code).await.page();
        assert_eq!(status, 400);
        assert_shows(&page, &string("en", "err_device_code_invalid"));
    }

    /// §3.5 `access_denied`; a signed-in browser goes straight to the confirmation.
    async fn a_denial_is_access_denied_and_a_signed_in_user_is_asked_directly() {
        let server = device_server().await;
        let browser = Browser::new(&server.issuer);
        let first = authorize_device(&server, &TV, "openid profile").await;
        let confirm = confirmation_page(&browser, &first).await;
        let done = decide(&browser, &confirm, "deny").await;
        assert_shows(&done, &string("en", "device_denied_body"));
        let denied = poll(&server, &TV, str_of(&first, "device_code")).await;
        assert_poll_error(&denied, ErrorCode::AccessDenied);

        let second = authorize_device(&server, &TV, "openid").await;
        let (status, _, confirm) = enter_code(&browser, &server, str_of(&second, "user_code"))
            .await
            .page();
        assert_eq!(status, 200);
        assert!(confirm.contains("device-confirm-form"), "{confirm}");
        decide(&browser, &confirm, "approve").await;
        let tokens = poll(&server, &TV, str_of(&second, "device_code")).await;
        assert_eq!(tokens.status, 200, "{}", tokens.body);
        assert!(tokens.body.get("refresh_token").is_none(), "the TV gets no refresh tokens");
    }

    /// RFC 9449 §5: a DPoP proof on the poll that receives the tokens binds them to its key.
    async fn a_dpop_proof_on_the_redeeming_poll_binds_the_access_token() {
        let server = device_server().await;
        let started = authorize_device(&server, &TV, "openid").await;
        let browser = Browser::new(&server.issuer);
        let confirm = confirmation_page(&browser, &started).await;
        decide(&browser, &confirm, "approve").await;
        let holder = Holder::new();
        let proof = holder.proof("POST", &server.url("/token"));
        let fields = [("grant_type", DEVICE_GRANT), ("device_code", str_of(&started, "device_code"))];
        let a = post_with_proofs(&server, "/token", &TV, &fields, &[&proof]).await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["token_type"], "DPoP");
        let at = Jwt::decode(str_of(&a.body, "access_token"));
        assert_eq!(at.claims["cnf"]["jkt"], holder.jkt().as_str());
    }

    /// §3.5 `slow_down`: polling again at once.
    async fn polling_faster_than_the_interval_is_slow_down() {
        let server = device_server().await;
        let started = authorize_device(&server, &TV, "openid").await;
        let code = str_of(&started, "device_code");
        assert_poll_error(&poll(&server, &TV, code).await, ErrorCode::AuthorizationPending);
        assert_poll_error(&poll(&server, &TV, code).await, ErrorCode::SlowDown);
    }

    /// §6.1: case and dashes do not matter; wrong and unknown codes are explained on the page.
    async fn wrong_and_unknown_user_codes_get_a_readable_page() {
        let server = device_server().await;
        let started = authorize_device(&server, &TV, "openid").await;
        let browser = Browser::with_language(&server.issuer, "id");
        for wrong in ["hello", "BCDF-GHJ", "ZZZZ-ZZZZ", ""] {
            let (status, _, page) = enter_code(&browser, &server, wrong).await.page();
            assert_eq!(status, 400, "{wrong:?}");
            assert_shows(&page, &string("id", "err_device_code_invalid"));
            assert!(page.contains("device-form"), "the form is shown again");
        }
        let typed = str_of(&started, "user_code").replace('-', " ").to_lowercase();
        let (_, _, login) = enter_code(&browser, &server, &typed).await.page();
        assert!(login.contains("login-form"), "the code is found:\n{login}");
        // Without the form's CSRF token nothing is looked up.
        let no_csrf = browser.submit("/device", &[("user_code", &typed)]).await;
        assert_eq!(no_csrf.page().0, 403);
    }

    /// Cancelling the sign-in leads back to the code form; the device keeps waiting.
    async fn cancelling_the_sign_in_returns_to_the_code_form() {
        let server = device_server().await;
        let started = authorize_device(&server, &TV, "openid").await;
        let browser = Browser::new(&server.issuer);
        let (_, _, login) = enter_code(&browser, &server, str_of(&started, "user_code"))
            .await
            .page();
        let action = form_action(&login, "cancel-form");
        let (status, url, page) = browser.submit(&action, &[("csrf", &csrf(&login))]).await.page();
        assert_eq!(status, 200, "{page}");
        assert!(url.contains("/device?user_code="), "{url}");
        assert!(page.contains("device-form"), "{page}");
        let code = str_of(&started, "device_code");
        assert_poll_error(&poll(&server, &TV, code).await, ErrorCode::AuthorizationPending);
    }

    /// §5.1: after ten entries a browser is refused for a while, even with the right code.
    async fn too_many_code_entries_from_one_browser_are_refused() {
        let server = device_server().await;
        let started = authorize_device(&server, &TV, "openid").await;
        let user_code = str_of(&started, "user_code");
        let browser = Browser::new(&server.issuer);
        for _ in 0..10 {
            let (status, _, _) = enter_code(&browser, &server, "BBBB-BBBB").await.page();
            assert_eq!(status, 400);
        }
        let (status, _, page) = enter_code(&browser, &server, user_code).await.page();
        assert_eq!(status, 429, "{page}");
        assert_shows(&page, &string("en", "err_too_many_attempts"));
        // Another browser is not blocked by this one.
        let other = Browser::new(&server.issuer);
        let (_, _, login) = enter_code(&other, &server, user_code).await.page();
        assert!(login.contains("login-form"), "{login}");
    }

    /// §5.1: a client that drops its cookie after every guess is still limited by its address
    /// (behind a trusted proxy, the one the proxy reports); another address is not, and a
    /// client cannot pick its address by writing one into X-Forwarded-For itself.
    async fn guesses_from_one_address_are_limited_whatever_the_cookies() {
        let server = TestServer::start_with(Backends::current(), |c| {
            with_device_clients(c);
            c.trusted_proxies = vec!["127.0.0.1".into(), "::1/128".into()];
        })
        .await;
        let started = authorize_device(&server, &TV, "openid").await;
        let user_code = str_of(&started, "user_code");
        const LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
        let wrong = |i: usize| {
            let tail: String = (0..4).map(|d| LETTERS[(i / 20usize.pow(d)) % 20] as char).collect();
            format!("ZZZZ-{tail}")
        };
        for i in 0..30 {
            // A fresh browser (no cookies) each time, as a guessing script would do.
            let guesser = Browser::forwarded_for(&server.issuer, "203.0.113.7");
            let code = wrong(i);
            assert_ne!(code, user_code);
            let (status, _, _) = enter_code(&guesser, &server, &code).await.page();
            assert_eq!(status, 400, "guess {i}");
        }
        let guesser = Browser::forwarded_for(&server.issuer, "203.0.113.7");
        let (status, _, page) = enter_code(&guesser, &server, user_code).await.page();
        assert_eq!(status, 429, "{page}");
        assert_shows(&page, &string("en", "err_too_many_attempts"));
        // An address the client wrote itself, before the proxy added the real one.
        let spoofer = Browser::forwarded_for(&server.issuer, "198.51.100.1, 203.0.113.7");
        let (status, _, _) = enter_code(&spoofer, &server, user_code).await.page();
        assert_eq!(status, 429);
        // Someone else, elsewhere, is not held up.
        let other = Browser::forwarded_for(&server.issuer, "198.51.100.2");
        let (_, _, login) = enter_code(&other, &server, user_code).await.page();
        assert!(login.contains("login-form"), "{login}");
    }

    /// §5.1: one user code is looked up at most ten times, whoever asks.
    async fn one_user_code_cannot_be_looked_up_endlessly() {
        let server = device_server().await;
        let started = authorize_device(&server, &TV, "openid").await;
        let user_code = str_of(&started, "user_code");
        for _ in 0..10 {
            let (status, _, _) = enter_code(&Browser::new(&server.issuer), &server, user_code)
                .await
                .page();
            assert_eq!(status, 200);
        }
        let (status, _, _) = enter_code(&Browser::new(&server.issuer), &server, user_code)
            .await
            .page();
        assert_eq!(status, 429);
    }

    /// §3.4 / RFC 6749 §5.2: a device code is bound to its client.
    async fn another_clients_device_code_is_invalid_grant() {
        let server = device_server().await;
        let started = authorize_device(&server, &KIOSK, "openid").await;
        let code = str_of(&started, "device_code");
        assert_poll_error(&poll(&server, &TV, code).await, ErrorCode::InvalidGrant);
        assert_poll_error(&poll(&server, &TV, "no-such-code").await, ErrorCode::InvalidGrant);
        assert_poll_error(&poll(&server, &TV, "").await, ErrorCode::InvalidRequest);
        // The rightful client is unaffected.
        assert_poll_error(&poll(&server, &KIOSK, code).await, ErrorCode::AuthorizationPending);
    }

    /// §3.1 / RFC 6749 §5.2: only registered clients, for the grant they registered.
    async fn device_authorization_errors_are_oauth_json() {
        let server = device_server().await;
        let web = client_post(&server, "/device_authorization", Some(&WEB), &[("scope", "openid")]).await;
        assert_oauth_error(web.status, &web.body, ErrorCode::UnauthorizedClient);
        let web_poll = poll(&server, &WEB, "anything").await;
        assert_oauth_error(web_poll.status, &web_poll.body, ErrorCode::UnauthorizedClient);
        let bad_secret = TestClient { secret: Some("wrong-secret-0123456789abcdef012345678"), ..KIOSK };
        let a = client_post(&server, "/device_authorization", Some(&bad_secret), &[("scope", "openid")]).await;
        assert_oauth_error(a.status, &a.body, ErrorCode::InvalidClient);
        let a = client_post(&server, "/device_authorization", None, &[("scope", "openid")]).await;
        assert_oauth_error(a.status, &a.body, ErrorCode::InvalidClient);
        let a = client_post(&server, "/device_authorization", Some(&TV), &[("scope", "openid admin")]).await;
        assert_oauth_error(a.status, &a.body, ErrorCode::InvalidScope);
        // OIDC Core §11: offline_access only for clients with refresh tokens.
        let a = client_post(&server, "/device_authorization", Some(&TV), &[("scope", "offline_access")]).await;
        assert_oauth_error(a.status, &a.body, ErrorCode::InvalidScope);
        let a = client_post(&server, "/device_authorization", Some(&TV), &[("scope", "openid"), ("scope", "email")]).await;
        assert_oauth_error(a.status, &a.body, ErrorCode::InvalidRequest);
    }

    /// A client registered for the device grant (as `[registration]` allows) is found by the
    /// verification page like a configured one: the user can sign in, approve, and the
    /// device gets its tokens.
    async fn a_registered_device_client_can_be_approved() {
        let server = TestServer::start_with(Backends::current(), with_device_registration).await;
        server.add_user(EMAIL, "Dewi Sartika", PASSWORD, true).await;
        let reg = http()
            .post(server.url("/connect/register"))
            .bearer_auth(INITIAL_TOKEN)
            .json(&json!({
                "grant_types": [DEVICE_GRANT],
                "token_endpoint_auth_method": "none",
                "client_name": "Registered TV",
                "scope": "openid",
            }))
            .send()
            .await
            .expect("POST /connect/register");
        assert_eq!(reg.status(), 201);
        let reg: Value = reg.json().await.expect("JSON");
        let id: &'static str = str_of(&reg, "client_id").to_owned().leak();
        let tv = TestClient { id, secret: None, redirect_uri: "" };
        let started = authorize_device(&server, &tv, "openid").await;
        let browser = Browser::new(&server.issuer);
        let confirm = confirmation_page(&browser, &started).await;
        assert_shows(&confirm, "Registered TV");
        decide(&browser, &confirm, "approve").await;
        let tokens = poll(&server, &tv, str_of(&started, "device_code")).await;
        assert_eq!(tokens.status, 200, "{}", tokens.body);
        assert_eq!(Jwt::decode(str_of(&tokens.body, "id_token")).claims["aud"], id);
    }

    /// §5.1: the answer form is not a way around the throttled lookup. A signed-in browser
    /// that posts a decision for a user code it never entered (a guess, or another device's
    /// code) is refused, and the device stays pending.
    async fn a_decision_needs_the_browsers_own_lookup_of_the_code() {
        let server = device_server().await;
        let browser = Browser::new(&server.issuer);
        let first = authorize_device(&server, &TV, "openid").await;
        let confirm = confirmation_page(&browser, &first).await;
        let other = authorize_device(&server, &TV, "openid").await;
        let action = form_action(&confirm, "device-confirm-form");
        let fields = [
            ("user_code", str_of(&other, "user_code")),
            ("decision", "approve"),
            ("csrf", &csrf(&confirm)),
        ];
        let (status, _, page) = browser.submit(&action, &fields).await.page();
        assert_eq!(status, 400, "{page}");
        assert_shows(&page, &string("en", "err_device_code_invalid"));
        let code = str_of(&other, "device_code");
        assert_poll_error(&poll(&server, &TV, code).await, ErrorCode::AuthorizationPending);
        // Entered the ordinary way, the same code is answered.
        let (_, _, confirm) = enter_code(&browser, &server, str_of(&other, "user_code")).await.page();
        decide(&browser, &confirm, "approve").await;
        assert_eq!(poll(&server, &TV, code).await.status, 200);
    }

    /// RFC 8628 §4: advertised only when some client may use it.
    async fn discovery_lists_the_device_endpoint_only_when_a_client_has_the_grant() {
        let plain = TestServer::start().await;
        let doc = get(&plain.url("/.well-known/openid-configuration")).await.json();
        assert!(doc.get("device_authorization_endpoint").is_none(), "{doc}");
        assert!(!doc["grant_types_supported"].as_array().unwrap().contains(&json!(DEVICE_GRANT)));
        let a = client_post(&plain, "/device_authorization", Some(&WEB), &[("scope", "openid")]).await;
        assert_oauth_error(a.status, &a.body, ErrorCode::UnauthorizedClient);

        let server = device_server().await;
        let doc = get(&server.url("/.well-known/openid-configuration")).await.json();
        assert_eq!(doc["device_authorization_endpoint"], server.url("/device_authorization"));
        assert!(doc["grant_types_supported"].as_array().unwrap().contains(&json!(DEVICE_GRANT)));
    }
}

/// Registration on, with device-only public clients allowed (RFC 7591 with RFC 8628).
fn with_device_registration(c: &mut Config) {
    c.registration.enabled = true;
    c.registration.initial_access_tokens =
        vec![format!("sha256:{}", sha256_hex(INITIAL_TOKEN.as_bytes()))];
    c.registration.allow_public_clients = true;
    c.registration.grant_types = vec![DEVICE_GRANT.into()];
}

const INITIAL_TOKEN: &str = "device-initial-access-token-0123456789";

const T0: i64 = 1_900_000_000;

async fn clocked_server(clock: &Arc<ManualClock>) -> TestServer {
    let server =
        TestServer::start_full(Backends::Embedded, clock.clone(), with_device_clients).await;
    server.add_user(EMAIL, "Dewi Sartika", PASSWORD, true).await;
    server
}

/// §3.5: every `slow_down` adds 5 seconds to the interval the device must keep.
#[tokio::test]
async fn each_slow_down_grows_the_interval_by_five_seconds() {
    let clock = Arc::new(ManualClock::new(T0));
    let server = clocked_server(&clock).await;
    let started = authorize_device(&server, &TV, "openid").await;
    let code = str_of(&started, "device_code");
    assert_poll_error(
        &poll(&server, &TV, code).await,
        ErrorCode::AuthorizationPending,
    );
    assert_poll_error(&poll(&server, &TV, code).await, ErrorCode::SlowDown);
    clock.advance(6);
    let too_soon = poll(&server, &TV, code).await;
    assert_poll_error(&too_soon, ErrorCode::SlowDown);
    assert!(
        str_of(&too_soon.body, "error_description").contains("15"),
        "{}",
        too_soon.body
    );
    clock.advance(15);
    assert_poll_error(
        &poll(&server, &TV, code).await,
        ErrorCode::AuthorizationPending,
    );
}

/// §3.5 `expired_token` after `expires_in`; the page refuses the code as well.
#[tokio::test]
async fn an_expired_device_code_is_expired_token() {
    let clock = Arc::new(ManualClock::new(T0));
    let server = clocked_server(&clock).await;
    let started = authorize_device(&server, &TV, "openid").await;
    let code = str_of(&started, "device_code");
    clock.advance(599);
    assert_poll_error(
        &poll(&server, &TV, code).await,
        ErrorCode::AuthorizationPending,
    );
    clock.advance(1);
    assert_poll_error(&poll(&server, &TV, code).await, ErrorCode::ExpiredToken);
    let browser = Browser::new(&server.issuer);
    let (status, _, page) = enter_code(&browser, &server, str_of(&started, "user_code"))
        .await
        .page();
    assert_eq!(status, 400);
    assert_shows(&page, &string("en", "err_device_code_invalid"));
}

/// An approval after expiry is impossible, and a device that was approved in time but polls
/// after expiry hears `expired_token`.
#[tokio::test]
async fn an_approval_does_not_outlive_the_device_code() {
    let clock = Arc::new(ManualClock::new(T0));
    let server = clocked_server(&clock).await;
    let started = authorize_device(&server, &TV, "openid").await;
    let browser = Browser::new(&server.issuer);
    let confirm = confirmation_page(&browser, &started).await;
    decide(&browser, &confirm, "approve").await;
    clock.advance(600);
    let late = poll(&server, &TV, str_of(&started, "device_code")).await;
    assert_poll_error(&late, ErrorCode::ExpiredToken);
}
