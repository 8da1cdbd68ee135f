//! Registration with email verification: the whole story through a sign-in, the one-time link,
//! and the refusals. The page never reveals whether an address is already registered.

use crate::support::{
    Authz, assert_error_page, assert_shows, code_from, exchange, finish_consent, get, html,
    server_with_user, string, userinfo,
};
use kunci_testkit::browser::{Landing, csrf, form_action};
use kunci_testkit::server::WEB;
use kunci_testkit::{Browser, TestServer};

const NEW_PASSWORD: &str = "kopi susu gula aren";

/// The body of an `.eml`, with quoted-printable soft line breaks and `=3D` undone.
fn mail_text(eml: &str) -> String {
    let body = eml
        .split_once("\r\n\r\n")
        .or_else(|| eml.split_once("\n\n"))
        .map_or(eml, |(_, b)| b);
    if eml.contains("Content-Transfer-Encoding: quoted-printable") {
        body.replace("=\r\n", "")
            .replace("=\n", "")
            .replace("=3D", "=")
    } else {
        body.to_owned()
    }
}

/// The verification link in a mail, as an absolute URL.
fn verification_link(server: &TestServer, eml: &str) -> String {
    let text = mail_text(eml);
    let prefix = server.url("/verify-email?token=");
    let start = text
        .find(&prefix)
        .unwrap_or_else(|| panic!("no verification link in:\n{eml}"));
    let end = text[start..]
        .find(|c: char| c.is_whitespace())
        .map_or(text.len(), |e| start + e);
    text[start..end].to_owned()
}

fn mails_to(server: &TestServer, email: &str) -> Vec<String> {
    server
        .outbox()
        .into_iter()
        .filter(|m| m.contains(&format!("To: {email}")))
        .collect()
}

/// Fills the registration form on `page` and submits it.
async fn register(
    browser: &Browser,
    page: &str,
    name: &str,
    email: &str,
    password: &str,
) -> (reqwest::StatusCode, String) {
    let (status, _, body) = browser
        .submit(
            &form_action(page, "register-form"),
            &[
                ("name", name),
                ("email", email),
                ("password", password),
                ("csrf", &csrf(page)),
            ],
        )
        .await
        .page();
    (status, body)
}

async fn register_page(server: &TestServer, browser: &Browser) -> String {
    let (status, _, page) = browser.open(&server.url("/register")).await.page();
    assert_eq!(status, 200);
    page
}

fn assert_check_your_mail(page: &str) {
    assert!(page.contains("id=\"register-done\""), "{page}");
    assert_shows(page, &string("en", "register_done_title"));
}

#[tokio::test]
async fn verification_link_expires_after_a_day() {
    let clock = std::sync::Arc::new(kunci_core::ManualClock::new(1_700_000_000));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let browser = Browser::new(&server.issuer);
    let page = register_page(&server, &browser).await;
    register(&browser, &page, "Dewi", "dewi@example.com", NEW_PASSWORD).await;
    let mails = mails_to(&server, "dewi@example.com");
    let link = verification_link(&server, &mails[0]);
    clock.advance(24 * 3600 + 1);
    assert_error_page(&get(&link).await, 400, None);
}

kunci_testkit::on_every_backend! {
    async fn registration_then_verification_then_sign_in_completes_the_flow() {
        let server = TestServer::start().await;
        let email = "sari@example.com";
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&WEB);
        let (_, login_url, login) = browser.open(&authz.url(&server)).await.page();

        // From the sign-in page to the registration form of the same interaction.
        let interaction = login_url.rsplit('/').next().unwrap().to_owned();
        let register_url = format!("/register?interaction={interaction}");
        assert!(login.contains(&html(&register_url)), "{login}");
        let (_, _, form) = browser.open(&browser.absolute(&register_url)).await.page();
        let (status, done) = register(&browser, &form, "Sari Dewi", email, NEW_PASSWORD).await;
        assert_eq!(status, 200);
        assert_check_your_mail(&done);
        assert!(done.contains(email));

        let mails = mails_to(&server, email);
        assert_eq!(mails.len(), 1, "one verification mail");
        let link = verification_link(&server, &mails[0]);

        // Before the link is opened, the right password is not enough.
        let (_, _, login) = browser.open(&login_url).await.page();
        let (_, _, refused) = browser.sign_in(&login, email, NEW_PASSWORD).await.page();
        assert_shows(&refused, &string("en", "err_email_unverified"));

        let (status, _, verified) = browser.open(&link).await.page();
        assert_eq!(status, 200, "{verified}");
        assert_shows(&verified, &string("en", "verified_title"));
        let continue_url = format!("/interaction/{interaction}");
        assert!(verified.contains(&html(&continue_url)), "{verified}");

        let again = get(&link).await;
        assert_error_page(&again, 400, None);
        assert_shows(&again.body, &string("id", "err_link_invalid"));

        let (_, _, login) = browser.open(&browser.absolute(&continue_url)).await.page();
        let landing = browser.sign_in(&login, email, NEW_PASSWORD).await;
        let redirect = finish_consent(&browser, landing).await;
        let code = code_from(&server, &authz, &redirect);
        let (status, tokens) = exchange(&server, &authz, &code).await;
        assert_eq!(status, 200, "{tokens}");
        let info = userinfo(&server, tokens["access_token"].as_str().unwrap())
            .await
            .json();
        assert_eq!(info["email"], email);
        assert_eq!(info["email_verified"], true);
        assert_eq!(info["name"], "Sari Dewi");
    }

    async fn registering_a_verified_address_looks_the_same_and_sends_nothing() {
        let (server, taken) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        let page = register_page(&server, &browser).await;
        let (s1, new) = register(&browser, &page, "Budi", "budi@example.com", NEW_PASSWORD).await;
        let (s2, existing) = register(&browser, &page, "Budi", &taken, NEW_PASSWORD).await;
        assert_eq!(s1, s2);
        assert_check_your_mail(&existing);
        assert_eq!(
            new.replace("budi@example.com", "EMAIL"),
            existing.replace(&taken, "EMAIL"),
            "the answers differ only in the address"
        );
        assert_eq!(mails_to(&server, "budi@example.com").len(), 1);
        assert!(mails_to(&server, &taken).is_empty(), "no mail to the owner");

        // And the owner's password was not replaced by the registrant's.
        let authz = Authz::new(&WEB);
        let (_, _, login) = browser.open(&authz.url(&server)).await.page();
        let (_, _, refused) = browser.sign_in(&login, &taken, NEW_PASSWORD).await.page();
        assert_shows(&refused, &string("en", "err_invalid_credentials"));
    }

    async fn registering_an_unverified_address_again_sends_a_new_link_but_keeps_the_password() {
        let server = TestServer::start().await;
        let email = "budi@example.com";
        let browser = Browser::new(&server.issuer);
        let page = register_page(&server, &browser).await;
        register(&browser, &page, "Budi", email, NEW_PASSWORD).await;
        let (_, second) = register(&browser, &page, "Mallory", email, "mallory's own pass").await;
        assert_check_your_mail(&second);
        let mails = mails_to(&server, email);
        assert_eq!(mails.len(), 2, "a fresh link for the unverified address");

        let (status, _, _) = browser
            .open(&verification_link(&server, &mails[1]))
            .await
            .page();
        assert_eq!(status, 200);
        let authz = Authz::new(&WEB);
        let (_, _, login) = browser.open(&authz.url(&server)).await.page();
        let (_, _, refused) = browser
            .sign_in(&login, email, "mallory's own pass")
            .await
            .page();
        assert_shows(&refused, &string("en", "err_invalid_credentials"));
        let landing = browser.sign_in(&login, email, NEW_PASSWORD).await;
        let Landing::Page { body, .. } = landing else {
            panic!("WEB needs consent")
        };
        assert!(body.contains("consent-form"), "{body}");
    }

    async fn invalid_registrations_say_what_is_wrong_and_create_nothing() {
        let server = TestServer::start().await;
        let browser = Browser::new(&server.issuer);
        let page = register_page(&server, &browser).await;
        let cases = [
            ("", "dewi@example.com", NEW_PASSWORD, "err_invalid_name"),
            ("   ", "dewi@example.com", NEW_PASSWORD, "err_invalid_name"),
            ("Dewi", "not-an-email", NEW_PASSWORD, "err_invalid_email"),
            ("Dewi", "dewi@localhost", NEW_PASSWORD, "err_invalid_email"),
            (
                "Dewi",
                "dewi@example.com",
                "short",
                "err_password_too_short",
            ),
            (
                "Dewi",
                "dewi@example.com",
                "password123",
                "err_password_common",
            ),
            (
                "Dewi",
                "dewi@example.com",
                "dewi@example.com",
                "err_password_like_email",
            ),
        ];
        for (name, email, password, message) in cases {
            let (status, body) = register(&browser, &page, name, email, password).await;
            assert_eq!(status, 200, "{message}");
            assert!(body.contains("register-form"), "the form again: {message}");
            let alert = format!("role=\"alert\">{}<", html(&string("en", message)));
            assert!(body.contains(&alert), "{message}:\n{body}");
            assert!(
                !body.contains(&format!("value=\"{}\"", html(password))) || password == email,
                "the password is never echoed"
            );
        }
        assert!(server.outbox().is_empty(), "no account, no mail");
    }

    async fn registration_without_csrf_is_forbidden() {
        let server = TestServer::start().await;
        let browser = Browser::new(&server.issuer);
        let page = register_page(&server, &browser).await;
        for token in [None, Some("forged")] {
            let mut fields = vec![
                ("name", "Dewi"),
                ("email", "dewi@example.com"),
                ("password", NEW_PASSWORD),
            ];
            if let Some(t) = token {
                fields.push(("csrf", t));
            }
            let (status, _, body) = browser
                .submit(&form_action(&page, "register-form"), &fields)
                .await
                .page();
            assert_eq!(status, 403, "{body}");
            assert_shows(&body, &string("en", "err_csrf"));
        }
        assert!(server.outbox().is_empty());
    }

    async fn unknown_verification_token_is_an_error_page() {
        let server = TestServer::start().await;
        for token in ["", "nope", &"x".repeat(65)] {
            let reply = get(&server.url(&format!("/verify-email?token={token}"))).await;
            assert_error_page(&reply, 400, None);
        }
    }

    async fn form_shown_after_a_lost_csrf_cookie_can_be_submitted() {
        let server = TestServer::start().await;
        let browser = Browser::new(&server.issuer);
        let page = register_page(&server, &browser).await;
        browser.set_cookie("kunci_csrf=; Path=/; Max-Age=0");
        let (status, retry) = register(&browser, &page, "Dewi", "dewi@example.com", NEW_PASSWORD).await;
        assert_eq!(status, 403);
        let (status, done) = register(&browser, &retry, "Dewi", "dewi@example.com", NEW_PASSWORD).await;
        assert_eq!(status, 200, "{done}");
        assert_check_your_mail(&done);
    }
}
