//! The hosted sign-in page as an attacker and a person see it: CSRF, credential errors that do
//! not reveal who is registered, throttling, language, and the security headers and cookies.

use crate::support::{
    Authz, PASSWORD, Reply, assert_redirect_error, assert_shows, code_from, get, html, http,
    server_with_user, string,
};
use kunci_core::ErrorCode;
use kunci_testkit::browser::{csrf, form_action};
use kunci_testkit::server::{FIRST, WEB};
use kunci_testkit::{Browser, TestServer};

/// Opens a fresh sign-in for the first-party client; returns the browser and the login page.
async fn login_page(server: &TestServer) -> (Browser, String) {
    let browser = Browser::new(&server.issuer);
    let (status, _, page) = browser.open(&Authz::new(&FIRST).url(server)).await.page();
    assert_eq!(status, 200);
    assert!(page.contains("login-form"), "{page}");
    (browser, page)
}

/// Posts the login form with these fields; returns status and page.
async fn post_login(
    browser: &Browser,
    page: &str,
    fields: &[(&str, &str)],
) -> (reqwest::StatusCode, String) {
    let (status, _, body) = browser
        .submit(&form_action(page, "login-form"), fields)
        .await
        .page();
    (status, body)
}

/// The browser holds no SSO session: `prompt=none` answers `login_required`.
async fn assert_not_signed_in(server: &TestServer, browser: &Browser) {
    assert_eq!(browser.cookie("kunci_session"), None);
    let authz = Authz::new(&FIRST).set("prompt", "none");
    let redirect = browser.open(&authz.url(server)).await.left();
    assert_redirect_error(server, &authz, &redirect, ErrorCode::LoginRequired);
}

/// The text of the page's error alert.
fn alert(page: &str) -> &str {
    let start = page
        .find("role=\"alert\">")
        .unwrap_or_else(|| panic!("no alert:\n{page}"))
        + "role=\"alert\">".len();
    let len = page[start..].find('<').unwrap();
    &page[start..start + len]
}

// --- CSRF ------------------------------------------------------------------------------------------

// --- Credentials -------------------------------------------------------------------------------

// --- Language ---------------------------------------------------------------------------------

async fn login_page_in(server: &TestServer, browser: &Browser, ui_locales: Option<&str>) -> String {
    let mut authz = Authz::new(&WEB);
    if let Some(l) = ui_locales {
        authz = authz.set("ui_locales", l);
    }
    browser.open(&authz.url(server)).await.page().2
}

fn assert_language(page: &str, lang: &str) {
    let other = if lang == "en" { "id" } else { "en" };
    assert!(
        page.contains(&format!("<html lang=\"{lang}\">")),
        "html lang={lang}:\n{page}"
    );
    assert_shows(page, &string(lang, "login_intro"));
    assert_shows(page, &string(lang, "password_label"));
    assert!(!page.contains(&html(&string(other, "login_intro"))));
}

// --- Security headers and cookies ----------------------------------------------------------------

fn assert_security_headers(what: &str, reply: &Reply) {
    let csp = reply
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"));
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(
        reply.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert!(reply.header("referrer-policy").is_some(), "{what}");
}

fn assert_cookie_flags(set_cookie: &str) {
    let attrs: Vec<String> = set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    assert!(attrs.contains(&"httponly".into()), "{set_cookie}");
    assert!(attrs.contains(&"samesite=lax".into()), "{set_cookie}");
    assert!(attrs.contains(&"path=/".into()), "{set_cookie}");
    assert!(
        !attrs.iter().any(|a| a.starts_with("domain")),
        "host-only: {set_cookie}"
    );
}

kunci_testkit::on_every_backend! {
    async fn login_without_csrf_is_forbidden_and_does_not_sign_in() {
        let (server, email) = server_with_user().await;
        let (browser, page) = login_page(&server).await;
        let (status, body) = post_login(
            &browser,
            &page,
            &[("email", &email), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(status, 403);
        assert_eq!(alert(&body), html(&string("en", "err_csrf")));
        assert_not_signed_in(&server, &browser).await;
    }

    async fn login_with_wrong_csrf_is_forbidden_and_does_not_sign_in() {
        let (server, email) = server_with_user().await;
        let (browser, page) = login_page(&server).await;
        let (status, _) = post_login(
            &browser,
            &page,
            &[
                ("email", &email),
                ("password", PASSWORD),
                ("csrf", "forged-token-forged-token-forged-token-12345"),
            ],
        )
        .await;
        assert_eq!(status, 403);
        assert_not_signed_in(&server, &browser).await;
    }

    async fn form_shown_after_a_lost_csrf_cookie_can_be_submitted() {
        // A browser restarted mid-sign-in keeps its year-long browser key but loses the
        // session-lifetime CSRF cookie. The 403 page it gets must carry a working token.
        let (server, email) = server_with_user().await;
        let (browser, page) = login_page(&server).await;
        browser.set_cookie("kunci_csrf=; Path=/; Max-Age=0");
        assert_eq!(browser.cookie("kunci_csrf"), None);
        let (status, retry) = post_login(
            &browser,
            &page,
            &[
                ("email", &email),
                ("password", PASSWORD),
                ("csrf", &csrf(&page)),
            ],
        )
        .await;
        assert_eq!(status, 403);
        let landing = browser.sign_in(&retry, &email, PASSWORD).await;
        let redirect = landing.left();
        assert!(redirect.as_str().starts_with(FIRST.redirect_uri));
    }

    async fn wrong_password_shows_invalid_credentials() {
        let (server, email) = server_with_user().await;
        let (browser, page) = login_page(&server).await;
        let (status, _, body) = browser
            .sign_in(&page, &email, "wrong password entirely")
            .await
            .page();
        assert_eq!(status, 200);
        assert_eq!(alert(&body), html(&string("en", "err_invalid_credentials")));
        assert!(body.contains("login-form"), "the form is shown again");
        assert_not_signed_in(&server, &browser).await;
    }

    async fn email_is_matched_regardless_of_case_and_spaces() {
        let (server, _) = server_with_user().await;
        let (browser, page) = login_page(&server).await;
        let redirect = browser
            .sign_in(&page, "  AYU@Example.COM ", PASSWORD)
            .await
            .left();
        assert!(redirect.as_str().starts_with(FIRST.redirect_uri));
    }

    async fn unknown_email_gets_the_same_answer_as_a_wrong_password() {
        let (server, email) = server_with_user().await;
        let (browser, page) = login_page(&server).await;
        let (s1, _, wrong_password) = browser.sign_in(&page, &email, "nope-nope").await.page();
        let (s2, _, unknown) = browser
            .sign_in(&page, "nobody@example.com", "nope-nope")
            .await
            .page();
        assert_eq!(s1, s2);
        assert_eq!(alert(&wrong_password), alert(&unknown));
        assert_eq!(
            wrong_password.replace(&email, "EMAIL"),
            unknown.replace("nobody@example.com", "EMAIL"),
            "the pages differ only in the echoed email"
        );
    }

    async fn unverified_account_is_asked_to_confirm_its_email() {
        let server = TestServer::start().await;
        server
            .add_user("budi@example.com", "Budi", PASSWORD, false)
            .await;
        let (browser, page) = login_page(&server).await;
        let (_, body) = post_login(
            &browser,
            &page,
            &[
                ("email", "budi@example.com"),
                ("password", PASSWORD),
                ("csrf", &csrf(&page)),
            ],
        )
        .await;
        assert_eq!(alert(&body), html(&string("en", "err_email_unverified")));
        assert_not_signed_in(&server, &browser).await;

        // Without the right password the unverified state is not revealed.
        let (_, _, body) = browser
            .sign_in(&page, "budi@example.com", "wrong password")
            .await
            .page();
        assert_eq!(alert(&body), html(&string("en", "err_invalid_credentials")));
    }

    async fn eleventh_failed_attempt_is_too_many_attempts() {
        let (server, email) = server_with_user().await;
        let (browser, page) = login_page(&server).await;
        for attempt in 1..=10 {
            let (status, _, body) = browser
                .sign_in(&page, &email, &format!("guess {attempt}"))
                .await
                .page();
            assert_eq!(status, 200, "attempt {attempt}");
            assert_eq!(alert(&body), html(&string("en", "err_invalid_credentials")));
        }
        let (status, _, body) = browser.sign_in(&page, &email, "guess 11").await.page();
        assert_eq!(status, 429);
        assert_eq!(alert(&body), html(&string("en", "err_too_many_attempts")));
        // While throttled, even the right password is refused.
        let (status, _, _) = browser.sign_in(&page, &email, PASSWORD).await.page();
        assert_eq!(status, 429);
        assert_not_signed_in(&server, &browser).await;
    }

    async fn ui_locales_en_shows_the_login_page_in_english() {
        let server = TestServer::start().await;
        let browser = Browser::with_language(&server.issuer, "id");
        let page = login_page_in(&server, &browser, Some("en")).await;
        assert_language(&page, "en");
    }

    async fn ui_locales_id_shows_the_login_page_in_bahasa_indonesia() {
        let server = TestServer::start().await;
        let browser = Browser::with_language(&server.issuer, "en");
        let page = login_page_in(&server, &browser, Some("id")).await;
        assert_language(&page, "id");
    }

    async fn first_supported_ui_locale_wins() {
        let server = TestServer::start().await;
        let browser = Browser::with_language(&server.issuer, "id");
        let page = login_page_in(&server, &browser, Some("fr-FR en-US id")).await;
        assert_language(&page, "en");
    }

    async fn accept_language_decides_without_ui_locales() {
        let server = TestServer::start().await;
        let en = Browser::with_language(&server.issuer, "fr-FR, en;q=0.8, id;q=0.5");
        assert_language(&login_page_in(&server, &en, None).await, "en");
        let id = Browser::with_language(&server.issuer, "id-ID, en;q=0.5");
        assert_language(&login_page_in(&server, &id, None).await, "id");
    }

    async fn bahasa_indonesia_is_the_default_language() {
        let server = TestServer::start().await;
        let reply = get(&server.url("/register")).await;
        assert!(reply.body.contains("<html lang=\"id\">"), "{}", reply.body);
    }

    async fn login_errors_are_shown_in_the_page_language() {
        let (server, email) = server_with_user().await;
        let browser = Browser::with_language(&server.issuer, "id");
        let page = login_page_in(&server, &browser, None).await;
        let (_, _, body) = browser.sign_in(&page, &email, "salah").await.page();
        assert_eq!(alert(&body), html(&string("id", "err_invalid_credentials")));
    }

    async fn every_kind_of_response_carries_the_security_headers() {
        let server = TestServer::start().await;
        let browser = Browser::new(&server.issuer);
        let (_, login_url, _) = browser.open(&Authz::new(&WEB).url(&server)).await.page();
        let login = Reply::read(browser.http.get(&login_url).send().await.unwrap()).await;
        assert_security_headers("login page", &login);
        assert_security_headers(
            "error page",
            &get(&Authz::new(&WEB).without("client_id").url(&server)).await,
        );
        assert_security_headers("404 page", &get(&server.url("/nope")).await);
        assert_security_headers(
            "discovery",
            &get(&server.url("/.well-known/openid-configuration")).await,
        );
        assert_security_headers("userinfo 401", &get(&server.url("/userinfo")).await);
        let token = Reply::read(
            http()
                .post(server.url("/token"))
                .form(&[("grant_type", "x")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_security_headers("token error", &token);
        let redirect = get(&Authz::new(&WEB).url(&server)).await;
        assert_eq!(redirect.status, 303);
        assert_security_headers("authorize redirect", &redirect);
    }

    async fn pages_are_never_cached() {
        let server = TestServer::start().await;
        let browser = Browser::new(&server.issuer);
        let (_, login_url, _) = browser.open(&Authz::new(&WEB).url(&server)).await.page();
        for url in [
            login_url,
            server.url("/register"),
            server.url("/logout"),
            server.url("/nope"),
            Authz::new(&WEB).without("client_id").url(&server),
        ] {
            let reply = Reply::read(browser.http.get(&url).send().await.unwrap()).await;
            assert_eq!(reply.header("cache-control"), Some("no-store"), "{url}");
            assert!(
                reply
                    .header("content-type")
                    .is_some_and(|c| c.starts_with("text/html")),
                "{url}"
            );
        }
    }

    async fn every_cookie_is_http_only_and_same_site_lax() {
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&FIRST);
        let start = Reply::read(browser.http.get(authz.url(&server)).send().await.unwrap()).await;
        let location = server.url(start.header("location").unwrap());
        let page = Reply::read(browser.http.get(&location).send().await.unwrap()).await;
        let login = Reply::read(
            browser
                .http
                .post(server.url(&form_action(&page.body, "login-form")))
                .form(&[
                    ("email", email.as_str()),
                    ("password", PASSWORD),
                    ("csrf", &csrf(&page.body)),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
        for (reply, name) in [
            (&start, "kunci_browser"),
            (&page, "kunci_csrf"),
            (&login, "kunci_session"),
        ] {
            let cookie = reply
                .set_cookies()
                .into_iter()
                .find(|c| c.starts_with(&format!("{name}=")))
                .unwrap_or_else(|| panic!("{name} is set: {:?}", reply.set_cookies()));
            assert_cookie_flags(&cookie);
        }
        assert_eq!(login.status, 303);
        code_from(
            &server,
            &authz,
            &url::Url::parse(login.header("location").unwrap()).unwrap(),
        );
    }
}
