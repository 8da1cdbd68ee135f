//! `prompt` and `max_age` (OIDC Core §3.1.2.1, §3.1.2.6) and the lifetimes of sessions and
//! sign-ins, with a manual clock where time matters: `auth_time` tells the client what happened.

use crate::sso::{auth_time_of, expect_code, expect_login_page, signed_in_browser};
use crate::support::{
    Authz, PASSWORD, assert_redirect_error, code_from, server_with_user, sign_in,
};
use kunci_core::{ErrorCode, ManualClock};
use kunci_testkit::server::{FIRST, WEB};
use kunci_testkit::{Browser, TestServer};
use std::sync::Arc;

// --- prompt and max_age --------------------------------------------------------------------

#[tokio::test]
async fn max_age_exceeded_requires_signing_in_again_and_moves_auth_time() {
    let t0 = 1_700_000_000;
    let clock = Arc::new(ManualClock::new(t0));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let email = "ayu@example.com";
    server.add_user(email, "Ayu", PASSWORD, true).await;
    let browser = Browser::new(&server.issuer);
    let authz = Authz::new(&FIRST);
    let redirect = sign_in(&server, &browser, &authz, email).await;
    let code = code_from(&server, &authz, &redirect);
    assert_eq!(auth_time_of(&server, &authz, &code).await, t0);

    clock.advance(100);
    let recent_enough = Authz::new(&FIRST).set("max_age", "500");
    let code = expect_code(&server, &browser, &recent_enough).await;
    assert_eq!(
        auth_time_of(&server, &recent_enough, &code).await,
        t0,
        "no re-authentication, auth_time stays"
    );

    let too_old = Authz::new(&FIRST).set("max_age", "50");
    let page = expect_login_page(&server, &browser, &too_old).await;
    let redirect = browser.sign_in(&page, email, PASSWORD).await.left();
    let code = code_from(&server, &too_old, &redirect);
    assert_eq!(
        auth_time_of(&server, &too_old, &code).await,
        t0 + 100,
        "auth_time is the re-authentication"
    );
}

#[tokio::test]
async fn prompt_login_moves_auth_time() {
    let t0 = 1_700_000_000;
    let clock = Arc::new(ManualClock::new(t0));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let email = "ayu@example.com";
    server.add_user(email, "Ayu", PASSWORD, true).await;
    let browser = Browser::new(&server.issuer);
    sign_in(&server, &browser, &Authz::new(&FIRST), email).await;
    clock.advance(30);
    let authz = Authz::new(&FIRST).set("prompt", "login");
    let page = expect_login_page(&server, &browser, &authz).await;
    let redirect = browser.sign_in(&page, email, PASSWORD).await.left();
    let code = code_from(&server, &authz, &redirect);
    assert_eq!(auth_time_of(&server, &authz, &code).await, t0 + 30);
}

// --- Time: max_age=0, sessions and interactions expire ---------------------------------------

async fn clocked_server() -> (TestServer, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1_700_000_000));
    let server = TestServer::start_with_clock(clock.clone()).await;
    server
        .add_user("ayu@example.com", "Ayu Lestari", PASSWORD, true)
        .await;
    (server, clock)
}

kunci_testkit::on_every_backend! {
    async fn prompt_none_without_a_session_is_login_required() {
        let server = TestServer::start().await;
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&WEB).set("prompt", "none");
        let redirect = browser.open(&authz.url(&server)).await.left();
        assert_redirect_error(&server, &authz, &redirect, ErrorCode::LoginRequired);
    }

    async fn prompt_none_with_a_session_but_no_consent_is_consent_required() {
        let (server, email) = server_with_user().await;
        let browser = signed_in_browser(&server, &email).await;
        let authz = Authz::new(&WEB).set("prompt", "none");
        let redirect = browser.open(&authz.url(&server)).await.left();
        assert_redirect_error(&server, &authz, &redirect, ErrorCode::ConsentRequired);
    }

    async fn prompt_none_with_a_session_and_remembered_consent_gets_a_code() {
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        let first = Authz::new(&WEB);
        sign_in(&server, &browser, &first, &email).await;
        expect_code(&server, &browser, &Authz::new(&WEB).set("prompt", "none")).await;
    }

    async fn prompt_login_shows_the_login_page_even_with_a_session() {
        let (server, email) = server_with_user().await;
        let browser = signed_in_browser(&server, &email).await;
        let authz = Authz::new(&FIRST).set("prompt", "login");
        let page = expect_login_page(&server, &browser, &authz).await;
        let redirect = browser.sign_in(&page, &email, PASSWORD).await.left();
        code_from(&server, &authz, &redirect);
    }

    async fn prompt_consent_asks_again_even_when_consent_is_remembered() {
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        sign_in(&server, &browser, &Authz::new(&WEB), &email).await;
        let authz = Authz::new(&WEB).set("prompt", "consent");
        let (_, _, body) = browser.open(&authz.url(&server)).await.page();
        assert!(body.contains("consent-form"), "{body}");
    }

    async fn max_age_zero_requires_signing_in_again_even_within_the_same_second() {
        // OIDC Core §3.1.2.1 as clarified by the working group (issue #993): max_age=0 is
        // prompt=login. With the clock standing still, "elapsed > 0" alone would never trigger.
        let (server, _clock) = clocked_server().await;
        let browser = Browser::new(&server.issuer);
        sign_in(&server, &browser, &Authz::new(&FIRST), "ayu@example.com").await;
        let authz = Authz::new(&FIRST).set("max_age", "0");
        let page = expect_login_page(&server, &browser, &authz).await;
        let redirect = browser
            .sign_in(&page, "ayu@example.com", PASSWORD)
            .await
            .left();
        code_from(&server, &authz, &redirect);
    }

    async fn prompt_none_with_max_age_exceeded_is_login_required() {
        let (server, clock) = clocked_server().await;
        let browser = Browser::new(&server.issuer);
        sign_in(&server, &browser, &Authz::new(&FIRST), "ayu@example.com").await;
        clock.advance(100);
        let authz = Authz::new(&FIRST)
            .set("prompt", "none")
            .set("max_age", "50");
        let redirect = browser.open(&authz.url(&server)).await.left();
        assert_redirect_error(&server, &authz, &redirect, ErrorCode::LoginRequired);
    }

    async fn sso_session_ends_after_its_lifetime() {
        let (server, clock) = clocked_server().await;
        let browser = Browser::new(&server.issuer);
        sign_in(&server, &browser, &Authz::new(&FIRST), "ayu@example.com").await;
        let ttl = server.kunci.config.tokens.session_ttl_secs as i64;
        clock.advance(ttl - 1);
        expect_code(&server, &browser, &Authz::new(&FIRST).set("prompt", "none")).await;
        clock.advance(2);
        let authz = Authz::new(&FIRST).set("prompt", "none");
        let redirect = browser.open(&authz.url(&server)).await.left();
        assert_redirect_error(&server, &authz, &redirect, ErrorCode::LoginRequired);
    }

    async fn abandoned_sign_in_expires() {
        let (server, clock) = clocked_server().await;
        let browser = Browser::new(&server.issuer);
        let (_, url, page) = browser.open(&Authz::new(&FIRST).url(&server)).await.page();
        clock.advance(31 * 60);
        let (status, _, body) = browser.open(&url).await.page();
        assert_eq!(status, 400, "{body}");
        let (status, _, _) = browser
            .sign_in(&page, "ayu@example.com", PASSWORD)
            .await
            .page();
        assert_eq!(status, 400);
    }
}
