//! Single sign-on (OIDC Core §3.1.2.3): a second request in the same browser skips the password,
//! consent is remembered only when asked, an interaction belongs to the browser that started
//! it, and logout ends it all. `prompt` and `max_age` are in `prompts`.

use crate::jwt::Jwt;
use crate::support::{
    Authz, PASSWORD, assert_error_page, assert_redirect_error, code_from, exchange, finish_consent,
    server_with_user, sign_in,
};
use kunci_core::ErrorCode;
use kunci_testkit::browser::{Landing, csrf, form_action};
use kunci_testkit::server::{FIRST, WEB};
use kunci_testkit::{Browser, TestServer};

/// Opens `authz` and expects the sign-in form; returns the page.
pub(crate) async fn expect_login_page(
    server: &TestServer,
    browser: &Browser,
    authz: &Authz,
) -> String {
    let (status, url, body) = browser.open(&authz.url(server)).await.page();
    assert_eq!(status, 200, "{body}");
    assert!(url.contains("/interaction/"), "{url}");
    assert!(body.contains("login-form"), "the sign-in form:\n{body}");
    body
}

/// Opens `authz` and expects to be sent straight back to the client with a code.
pub(crate) async fn expect_code(server: &TestServer, browser: &Browser, authz: &Authz) -> String {
    let redirect = browser.open(&authz.url(server)).await.left();
    code_from(server, authz, &redirect)
}

/// Signs `browser` in once, through the first-party client (no consent involved).
pub(crate) async fn signed_in_browser(server: &TestServer, email: &str) -> Browser {
    let browser = Browser::new(&server.issuer);
    let authz = Authz::new(&FIRST);
    let redirect = sign_in(server, &browser, &authz, email).await;
    code_from(server, &authz, &redirect);
    browser
}

pub(crate) async fn auth_time_of(server: &TestServer, authz: &Authz, code: &str) -> i64 {
    let (status, tokens) = exchange(server, authz, code).await;
    assert_eq!(status, 200, "{tokens}");
    Jwt::decode(tokens["id_token"].as_str().unwrap()).claims["auth_time"]
        .as_i64()
        .expect("auth_time")
}

// --- SSO -----------------------------------------------------------------------------------

// --- Consent and cancel ----------------------------------------------------------------------

// --- The interaction belongs to its browser ----------------------------------------------------

// --- Logout --------------------------------------------------------------------------------------

kunci_testkit::on_every_backend! {
    async fn second_request_in_the_same_browser_gets_a_code_without_the_password_form() {
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        let first = Authz::new(&WEB);
        let redirect = sign_in(&server, &browser, &first, &email).await; // consent remembered
        code_from(&server, &first, &redirect);

        let second = Authz::new(&WEB);
        let code = expect_code(&server, &browser, &second).await;
        let (status, body) = exchange(&server, &second, &code).await;
        assert_eq!(status, 200, "the SSO code is a real code: {body}");
    }

    async fn first_party_client_gets_a_code_immediately_on_the_second_request() {
        let (server, email) = server_with_user().await;
        let browser = signed_in_browser(&server, &email).await;
        expect_code(&server, &browser, &Authz::new(&FIRST)).await;
    }

    async fn a_session_from_one_client_skips_the_password_for_another() {
        let (server, email) = server_with_user().await;
        let browser = signed_in_browser(&server, &email).await;
        let authz = Authz::new(&WEB);
        let (status, _, body) = browser.open(&authz.url(&server)).await.page();
        assert_eq!(status, 200);
        assert!(
            body.contains("consent-form") && !body.contains("login-form"),
            "only consent is asked, not the password:\n{body}"
        );
    }

    async fn a_different_browser_does_not_share_the_session() {
        let (server, email) = server_with_user().await;
        signed_in_browser(&server, &email).await;
        let other = Browser::new(&server.issuer);
        expect_login_page(&server, &other, &Authz::new(&FIRST)).await;
    }

    async fn consent_denied_is_access_denied() {
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&WEB);
        let page = expect_login_page(&server, &browser, &authz).await;
        let (_, _, consent) = browser.sign_in(&page, &email, PASSWORD).await.page();
        let redirect = browser.consent(&consent, false, true).await.left();
        assert_redirect_error(&server, &authz, &redirect, ErrorCode::AccessDenied);
        // A denial is not remembered: the next request asks again.
        let (_, _, again) = browser.open(&Authz::new(&WEB).url(&server)).await.page();
        assert!(again.contains("consent-form"), "{again}");
    }

    async fn consent_and_cancel_without_csrf_are_forbidden_and_change_nothing() {
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&WEB);
        let page = expect_login_page(&server, &browser, &authz).await;
        let (_, consent_url, consent) = browser.sign_in(&page, &email, PASSWORD).await.page();
        let action = form_action(&consent, "consent-form");
        for csrf_field in [vec![], vec![("csrf", "forged")]] {
            let mut fields = vec![("decision", "allow"), ("remember", "1")];
            fields.extend(csrf_field.iter().copied());
            let (status, _, _) = browser.submit(&action, &fields).await.page();
            assert_eq!(status, 403);
            let cancel = format!("{consent_url}/cancel");
            let (status, _, _) = browser.submit(&cancel, &csrf_field).await.page();
            assert_eq!(status, 403);
        }
        // Still waiting for an answer, and nothing was remembered.
        let (_, _, again) = browser.open(&consent_url).await.page();
        assert!(again.contains("consent-form"), "{again}");
        let redirect = browser.consent(&again, true, false).await.left();
        code_from(&server, &authz, &redirect);
        let (_, _, next) = browser.open(&Authz::new(&WEB).url(&server)).await.page();
        assert!(
            next.contains("consent-form"),
            "the forged remember=1 was not saved"
        );
    }

    async fn cancel_on_the_login_page_is_access_denied() {
        let server = TestServer::start().await;
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&WEB);
        let page = expect_login_page(&server, &browser, &authz).await;
        let action = form_action(&page, "cancel-form");
        let redirect = browser
            .submit(&action, &[("csrf", &csrf(&page))])
            .await
            .left();
        assert_redirect_error(&server, &authz, &redirect, ErrorCode::AccessDenied);
    }

    async fn consent_not_remembered_is_asked_again() {
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&WEB);
        let page = expect_login_page(&server, &browser, &authz).await;
        let (_, _, consent) = browser.sign_in(&page, &email, PASSWORD).await.page();
        let redirect = browser.consent(&consent, true, false).await.left();
        code_from(&server, &authz, &redirect);

        let (_, _, again) = browser.open(&Authz::new(&WEB).url(&server)).await.page();
        assert!(again.contains("consent-form"), "{again}");
    }

    async fn remembered_consent_is_skipped_but_not_for_more_scopes() {
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        let narrow = Authz::new(&WEB).set("scope", "openid email");
        sign_in(&server, &browser, &narrow, &email).await;

        expect_code(
            &server,
            &browser,
            &Authz::new(&WEB).set("scope", "openid email"),
        )
        .await;
        expect_code(&server, &browser, &Authz::new(&WEB).set("scope", "openid")).await;
        let wider = Authz::new(&WEB).set("scope", "openid email phone");
        let (_, _, page) = browser.open(&wider.url(&server)).await.page();
        assert!(
            page.contains("consent-form"),
            "phone was never allowed:\n{page}"
        );
    }

    async fn remembered_consents_add_up_instead_of_replacing_each_other() {
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        sign_in(&server, &browser, &Authz::new(&WEB).set("scope", "openid email"), &email).await;
        // Allowing phone later must not forget that email was allowed.
        let phone = Authz::new(&WEB).set("scope", "openid phone");
        let (_, _, page) = browser.open(&phone.url(&server)).await.page();
        browser.consent(&page, true, true).await.left();
        expect_code(&server, &browser, &Authz::new(&WEB).set("scope", "openid email phone")).await;
    }

    async fn first_party_client_never_shows_consent() {
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&FIRST).set("scope", "openid email profile phone");
        let page = expect_login_page(&server, &browser, &authz).await;
        match browser.sign_in(&page, &email, PASSWORD).await {
            Landing::Left(redirect) => {
                code_from(&server, &authz, &redirect);
            }
            Landing::Page { body, .. } => panic!("first-party client showed a page:\n{body}"),
        }
    }

    async fn another_browser_cannot_open_someone_elses_interaction() {
        let server = TestServer::start().await;
        let victim = Browser::new(&server.issuer);
        let (_, url, _) = victim.open(&Authz::new(&WEB).url(&server)).await.page();
        assert!(url.contains("/interaction/"));

        let attacker = Browser::new(&server.issuer);
        let reply = crate::support::get(&url).await;
        assert_error_page(&reply, 400, None);
        let (status, _, body) = attacker.open(&url).await.page();
        assert_eq!(status, 400);
        assert!(!body.contains("login-form"), "{body}");
    }

    async fn another_browser_cannot_sign_in_through_someone_elses_interaction() {
        let (server, email) = server_with_user().await;
        let victim = Browser::new(&server.issuer);
        let (_, _, page) = victim.open(&Authz::new(&FIRST).url(&server)).await.page();

        // The attacker has a CSRF cookie of its own, and posts to the victim's interaction.
        let attacker = Browser::new(&server.issuer);
        let (_, _, own) = attacker.open(&Authz::new(&FIRST).url(&server)).await.page();
        let landing = attacker
            .submit(
                &form_action(&page, "login-form"),
                &[
                    ("email", email.as_str()),
                    ("password", PASSWORD),
                    ("csrf", &csrf(&own)),
                ],
            )
            .await;
        let (status, _, body) = landing.page();
        assert_eq!(status, 400, "{body}");
        assert!(!body.contains("login-form"));
    }

    async fn finished_interaction_cannot_be_replayed() {
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&FIRST);
        let (_, url, page) = browser.open(&authz.url(&server)).await.page();
        let redirect = finish_consent(&browser, browser.sign_in(&page, &email, PASSWORD).await).await;
        code_from(&server, &authz, &redirect);
        let (status, _, body) = browser.open(&url).await.page();
        assert_eq!(status, 400, "{body}");
    }

    async fn logout_page_asks_for_confirmation_and_does_not_sign_out_by_itself() {
        let (server, email) = server_with_user().await;
        let browser = signed_in_browser(&server, &email).await;
        let (status, _, page) = browser.open(&server.url("/logout")).await.page();
        assert_eq!(status, 200);
        assert!(page.contains("logout-form"), "{page}");
        assert!(page.contains("Ayu Lestari"), "names who is signed in");
        expect_code(&server, &browser, &Authz::new(&FIRST)).await;

        let stranger = Browser::new(&server.issuer);
        let (_, _, page) = stranger.open(&server.url("/logout")).await.page();
        assert!(page.contains("not-signed-in") && !page.contains("logout-form"));
    }

    async fn logout_without_csrf_is_forbidden_and_keeps_the_session() {
        let (server, email) = server_with_user().await;
        let browser = signed_in_browser(&server, &email).await;
        browser.open(&server.url("/logout")).await.page();
        let (status, _, _) = browser.submit("/logout", &[]).await.page();
        assert_eq!(status, 403);
        let (status, _, _) = browser
            .submit("/logout", &[("csrf", "forged")])
            .await
            .page();
        assert_eq!(status, 403);
        expect_code(&server, &browser, &Authz::new(&FIRST)).await;
    }

    async fn logout_with_csrf_ends_the_session() {
        let (server, email) = server_with_user().await;
        let browser = signed_in_browser(&server, &email).await;
        let session = browser.cookie("kunci_session").expect("a session cookie");
        let copy = Browser::new(&server.issuer);
        copy.set_cookie(&format!("kunci_session={session}; Path=/"));
        let before = Authz::new(&FIRST).set("prompt", "none");
        expect_code(&server, &copy, &before).await; // the copy works while the session lives
        let (_, _, page) = browser.open(&server.url("/logout")).await.page();
        let (status, _, _) = browser
            .submit(
                &form_action(&page, "logout-form"),
                &[("csrf", &csrf(&page))],
            )
            .await
            .page();
        assert_eq!(status, 200);
        expect_login_page(&server, &browser, &Authz::new(&FIRST)).await;
        let redirect = browser
            .open(&Authz::new(&FIRST).set("prompt", "none").url(&server))
            .await
            .left();
        assert_eq!(
            Landing::param(&redirect, "error").as_deref(),
            Some("login_required")
        );

        // The session ended on the server, not only in this browser: a copy of the cookie is dead.
        assert_eq!(
            browser.cookie("kunci_session"),
            None,
            "the cookie is removed"
        );
        let authz = Authz::new(&FIRST).set("prompt", "none");
        let redirect = copy.open(&authz.url(&server)).await.left();
        assert_redirect_error(&server, &authz, &redirect, ErrorCode::LoginRequired);
    }

    async fn signing_in_as_someone_else_replaces_the_session() {
        let (server, email) = server_with_user().await;
        server
            .add_user("budi@example.com", "Budi", PASSWORD, true)
            .await;
        let browser = signed_in_browser(&server, &email).await;
        let old_session = browser.cookie("kunci_session").unwrap();
        let (_, tokens_a) = {
            let authz = Authz::new(&FIRST);
            let code = expect_code(&server, &browser, &authz).await;
            exchange(&server, &authz, &code).await
        };

        let authz = Authz::new(&FIRST).set("prompt", "login");
        let page = expect_login_page(&server, &browser, &authz).await;
        let redirect = browser
            .sign_in(&page, "budi@example.com", PASSWORD)
            .await
            .left();
        let code = code_from(&server, &authz, &redirect);
        let (_, tokens_b) = exchange(&server, &authz, &code).await;
        let sub =
            |t: &serde_json::Value| Jwt::decode(t["id_token"].as_str().unwrap()).claims["sub"].clone();
        assert_ne!(sub(&tokens_a), sub(&tokens_b), "now signed in as Budi");

        let new_session = browser.cookie("kunci_session").unwrap();
        assert_ne!(
            old_session, new_session,
            "a new session id on every sign-in"
        );
        let copy = Browser::new(&server.issuer);
        copy.set_cookie(&format!("kunci_session={old_session}; Path=/"));
        let authz = Authz::new(&FIRST).set("prompt", "none");
        let redirect = copy.open(&authz.url(&server)).await.left();
        assert_redirect_error(&server, &authz, &redirect, ErrorCode::LoginRequired);
    }
}
