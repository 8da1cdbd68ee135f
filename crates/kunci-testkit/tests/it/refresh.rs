//! Refresh tokens (RFC 6749 §6, RFC 9700 §4.14.2, OIDC Core §11 and §12): who gets them, how
//! they rotate, and everything that makes one stop working. The `openidconnect` crate is the
//! relying party for the happy path.

use crate::grants::{
    client_post, introspect, is_active, offline_tokens, refresh, str_of, tokens_with_scope,
};
use crate::support::{Authz, PASSWORD, assert_oauth_error, server_with_user, sign_in, userinfo};
use kunci_core::{ErrorCode, ManualClock};
use kunci_testkit::browser::Landing;
use kunci_testkit::server::{APP, OFFLINE, POST, WEB};
use kunci_testkit::{Backends, Browser, TestServer};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use std::sync::Arc;

const DAY: i64 = 86_400;

fn rp_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client")
}

// --- Who gets a refresh token (OIDC Core §11) -------------------------------------------------

#[tokio::test]
async fn rp_library_gets_a_refresh_token_with_consented_offline_access_and_refreshes() {
    let (server, email) = server_with_user().await;
    let http = rp_http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer.clone()).unwrap(), &http)
            .await
            .unwrap();
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(OFFLINE.id.into()),
        OFFLINE.secret.map(|s| ClientSecret::new(s.into())),
    )
    .set_redirect_uri(RedirectUrl::new(OFFLINE.redirect_uri.into()).unwrap());
    let (challenge, pkce) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let browser = Browser::new(&server.issuer);
    let (_, _, login) = browser.open(auth_url.as_str()).await.page();
    let (_, _, consent) = browser.sign_in(&login, &email, PASSWORD).await.page();
    assert!(
        consent.contains(r#"<code class="scope-name">offline_access</code>"#),
        "the user is asked for offline access:\n{consent}"
    );
    let redirect = browser.consent(&consent, true, false).await.left();
    let code = Landing::param(&redirect, "code").expect("code");

    let first = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(pkce)
        .request_async(&http)
        .await
        .expect("code exchange");
    let rt1 = first.refresh_token().expect("a refresh token").clone();
    let id_verifier = rp.id_token_verifier();
    let claims1 = first
        .id_token()
        .unwrap()
        .claims(&id_verifier, &nonce)
        .unwrap()
        .clone();

    let second = rp
        .exchange_refresh_token(&rt1)
        .unwrap()
        .request_async(&http)
        .await
        .expect("the refresh token is accepted");
    let rt2 = second
        .refresh_token()
        .expect("rotated: a new refresh token");
    assert_ne!(rt2.secret(), rt1.secret(), "every use rotates the token");
    let id2 = second.id_token().expect("OIDC Core §12.2: a new ID token");
    let claims2 = id2
        .claims(&id_verifier, |n: Option<&Nonce>| match n {
            None => Ok(()),
            Some(_) => Err("a refreshed ID token carries no nonce".to_owned()),
        })
        .expect("the refreshed ID token verifies");
    assert_eq!(claims2.subject(), claims1.subject(), "same sub");
    assert_eq!(claims2.audiences(), claims1.audiences(), "same aud");
    assert_eq!(
        claims2.auth_time(),
        claims1.auth_time(),
        "auth_time is the original authentication"
    );
    let scopes: Vec<String> = second
        .scopes()
        .expect("scope in the response")
        .iter()
        .map(|s| s.to_string())
        .collect();
    for s in ["openid", "email", "offline_access"] {
        assert!(scopes.contains(&s.to_owned()), "{s} in {scopes:?}");
    }
    let info = userinfo(&server, second.access_token().secret()).await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.json()["email"], email.as_str());

    let third = rp
        .exchange_refresh_token(rt2)
        .unwrap()
        .request_async(&http)
        .await
        .expect("the successor works in turn");
    assert!(third.refresh_token().is_some());
}

#[tokio::test]
async fn offline_access_is_dropped_for_a_client_without_refresh_tokens() {
    let (server, email) = server_with_user().await;
    let body = tokens_with_scope(&server, &WEB, &email, "openid email offline_access").await;
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert_eq!(
        body["scope"], "openid email",
        "the scope is ignored, not refused"
    );
}

#[tokio::test]
async fn without_offline_access_there_is_no_refresh_token() {
    let (server, email) = server_with_user().await;
    let body = tokens_with_scope(&server, &OFFLINE, &email, "openid email").await;
    assert!(body.get("refresh_token").is_none(), "{body}");
    // Control: the same client with the scope gets one.
    offline_tokens(&server, &OFFLINE, &email).await;
}

#[tokio::test]
async fn a_remembered_consent_without_offline_access_does_not_cover_it() {
    let (server, email) = server_with_user().await;
    let browser = Browser::new(&server.issuer);
    // Consent to "openid email", remembered.
    let first = Authz::new(&OFFLINE).set("scope", "openid email");
    sign_in(&server, &browser, &first, &email).await;
    // Control: the same scopes again need no page.
    let again = browser
        .open(
            &Authz::new(&OFFLINE)
                .set("scope", "openid email")
                .url(&server),
        )
        .await;
    assert!(
        matches!(again, Landing::Left(_)),
        "remembered consent covers it"
    );

    let offline = Authz::new(&OFFLINE).set("scope", "openid email offline_access");
    let (_, _, page) = browser.open(&offline.url(&server)).await.page();
    assert!(
        page.contains("consent-form") && page.contains("offline_access"),
        "offline access needs its own consent:\n{page}"
    );
}

#[tokio::test]
async fn refresh_tokens_are_opaque_and_distinct() {
    let (server, email) = server_with_user().await;
    let a = offline_tokens(&server, &OFFLINE, &email).await;
    let b = offline_tokens(&server, &OFFLINE, &email).await;
    let (ra, rb) = (str_of(&a, "refresh_token"), str_of(&b, "refresh_token"));
    assert_ne!(ra, rb);
    for rt in [ra, rb] {
        assert_eq!(rt.len(), 43, "256 random bits in base64url: {rt}");
        assert!(!rt.contains('.'), "not a JWT");
    }
}

// --- Rotation and reuse (RFC 9700 §4.14.2) ----------------------------------------------------
// These run on the embedded backends and, when configured, on PostgreSQL + Redis.
kunci_testkit::on_every_backend! {
    async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
        let (server, email) = server_with_user().await;
        let first = offline_tokens(&server, &OFFLINE, &email).await;
        let rt1 = str_of(&first, "refresh_token");
        let second = refresh(&server, &OFFLINE, rt1, None).await;
        assert_eq!(second.status, 200, "{}", second.body);
        let rt2 = str_of(&second.body, "refresh_token");
        let at2 = str_of(&second.body, "access_token");
        // Control: the newest tokens work before the replay.
        assert!(is_active(&server, &OFFLINE, rt2).await);
        assert!(is_active(&server, &OFFLINE, at2).await);
        assert_eq!(userinfo(&server, at2).await.status, 200);

        let replay = refresh(&server, &OFFLINE, rt1, None).await;
        assert_oauth_error(replay.status, &replay.body, ErrorCode::InvalidGrant);

        assert!(!is_active(&server, &OFFLINE, rt2).await, "the newest refresh token is revoked");
        assert!(!is_active(&server, &OFFLINE, at2).await, "its access token too");
        assert_eq!(userinfo(&server, at2).await.status, 401);
        let after = refresh(&server, &OFFLINE, rt2, None).await;
        assert_oauth_error(after.status, &after.body, ErrorCode::InvalidGrant);
        let original_at = str_of(&first, "access_token");
        assert_eq!(
            userinfo(&server, original_at).await.status,
            401,
            "and the first access token of the grant"
        );
    }

    async fn concurrent_refreshes_with_one_token_let_exactly_one_win() {
        let (server, email) = server_with_user().await;
        let server = Arc::new(server);
        let tokens = offline_tokens(&server, &OFFLINE, &email).await;
        let rt = str_of(&tokens, "refresh_token").to_owned();
        let race = |server: Arc<TestServer>, rt: String| async move {
            refresh(&server, &OFFLINE, &rt, None).await
        };
        let (a, b) = tokio::join!(
            tokio::spawn(race(server.clone(), rt.clone())),
            tokio::spawn(race(server.clone(), rt.clone()))
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let (winner, loser) = match (a.status.as_u16(), b.status.as_u16()) {
            (200, 400) => (a, b),
            (400, 200) => (b, a),
            other => panic!("exactly one must win, got {other:?}: {} / {}", a.body, b.body),
        };
        assert_oauth_error(loser.status, &loser.body, ErrorCode::InvalidGrant);
        // The loser presented a token that had just been used: that is a replay, so the winner's
        // new refresh token is revoked with the family.
        let won = str_of(&winner.body, "refresh_token");
        let next = refresh(&server, &OFFLINE, won, None).await;
        assert_oauth_error(next.status, &next.body, ErrorCode::InvalidGrant);
    }

    async fn public_client_refreshes_with_rotation_and_opaque_access_tokens() {
        let (server, email) = server_with_user().await;
        let tokens = offline_tokens(&server, &APP, &email).await;
        let at1 = str_of(&tokens, "access_token");
        assert!(!at1.contains('.'), "APP asks for opaque access tokens: {at1}");
        assert_eq!(userinfo(&server, at1).await.status, 200);

        let next = refresh(&server, &APP, str_of(&tokens, "refresh_token"), None).await;
        assert_eq!(next.status, 200, "{}", next.body);
        let at2 = str_of(&next.body, "access_token");
        assert!(!at2.contains('.'));
        assert_ne!(at1, at2);
        let info = userinfo(&server, at2).await;
        assert_eq!(info.status, 200, "{}", info.body);
        assert_eq!(info.json()["email"], email.as_str());
        assert!(next.body["id_token"].is_string());
    }
}

// --- What a refresh token is bound to ---------------------------------------------------------

#[tokio::test]
async fn another_clients_refresh_token_is_invalid_grant_and_left_alone() {
    let (server, email) = server_with_user().await;
    let tokens = offline_tokens(&server, &OFFLINE, &email).await;
    let rt = str_of(&tokens, "refresh_token");
    let stolen = refresh(&server, &APP, rt, None).await;
    assert_oauth_error(stolen.status, &stolen.body, ErrorCode::InvalidGrant);
    let own = refresh(&server, &OFFLINE, rt, None).await;
    assert_eq!(
        own.status, 200,
        "the owner's token still works: {}",
        own.body
    );
}

/// Deletes an account with SQL (Kunci has no account deletion yet). With `keep_tokens`, the
/// foreign keys are not enforced, so the refresh tokens stay behind and only Kunci's own
/// check can refuse them.
async fn delete_account(database_url: &str, account_id: &str, keep_tokens: bool) {
    let (db, conn) = tokio_postgres::connect(database_url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test database");
    let driver = tokio::spawn(conn);
    if keep_tokens {
        db.batch_execute("SET session_replication_role = replica")
            .await
            .unwrap();
    }
    let n = db
        .execute("DELETE FROM accounts WHERE id = $1", &[&account_id])
        .await
        .unwrap();
    assert_eq!(n, 1);
    drop(db);
    let _ = driver.await;
}

#[tokio::test]
async fn refresh_tokens_of_a_deleted_account_are_invalid_grant() {
    // Needs SQL access to the accounts: runs on PostgreSQL (always in CI).
    let Some(backends) = Backends::production_for_suite() else {
        return;
    };
    let server = TestServer::start_with(backends, |_| {}).await;
    let url = server.kunci.config.database.url.clone();
    for (n, keep_tokens) in [(1, false), (2, true)] {
        let email = format!("user{n}@example.com");
        let account = server.add_user(&email, "Ayu", PASSWORD, true).await;
        let tokens = offline_tokens(&server, &OFFLINE, &email).await;
        let rt = str_of(&tokens, "refresh_token");
        assert!(is_active(&server, &OFFLINE, rt).await, "control");

        delete_account(&url, &account.id, keep_tokens).await;
        assert!(!is_active(&server, &OFFLINE, rt).await);
        let r = refresh(&server, &OFFLINE, rt, None).await;
        assert_oauth_error(r.status, &r.body, ErrorCode::InvalidGrant);
        assert_eq!(
            userinfo(&server, str_of(&tokens, "access_token"))
                .await
                .status,
            401
        );
    }
}

#[tokio::test]
async fn a_client_without_the_refresh_grant_is_unauthorized_client() {
    let (server, email) = server_with_user().await;
    let tokens = offline_tokens(&server, &OFFLINE, &email).await;
    let r = refresh(&server, &POST, str_of(&tokens, "refresh_token"), None).await;
    assert_oauth_error(r.status, &r.body, ErrorCode::UnauthorizedClient);
}

#[tokio::test]
async fn unknown_or_missing_refresh_token_is_refused() {
    let server = TestServer::start().await;
    let unknown = refresh(&server, &OFFLINE, "not-a-token-we-issued", None).await;
    assert_oauth_error(unknown.status, &unknown.body, ErrorCode::InvalidGrant);
    let missing = client_post(
        &server,
        "/token",
        Some(&OFFLINE),
        &[("grant_type", "refresh_token")],
    )
    .await;
    assert_oauth_error(missing.status, &missing.body, ErrorCode::InvalidRequest);
}

// --- Scope (RFC 6749 §6) ----------------------------------------------------------------------

#[tokio::test]
async fn scope_may_narrow_on_refresh_but_never_widen() {
    let (server, email) = server_with_user().await;
    let tokens = offline_tokens(&server, &OFFLINE, &email).await;
    let rt1 = str_of(&tokens, "refresh_token");

    let wider = refresh(&server, &OFFLINE, rt1, Some("openid email profile")).await;
    assert_oauth_error(wider.status, &wider.body, ErrorCode::InvalidScope);

    // The refused request did not use the token up.
    let narrow = refresh(&server, &OFFLINE, rt1, Some("openid")).await;
    assert_eq!(narrow.status, 200, "{}", narrow.body);
    assert_eq!(narrow.body["scope"], "openid");
    let info = userinfo(&server, str_of(&narrow.body, "access_token")).await;
    assert_eq!(info.status, 200);
    assert!(info.json().get("email").is_none(), "{}", info.body);

    // RFC 6749 §6: the new refresh token keeps the scope granted originally.
    let rt2 = str_of(&narrow.body, "refresh_token");
    let full = refresh(&server, &OFFLINE, rt2, None).await;
    assert_eq!(full.status, 200, "{}", full.body);
    assert_eq!(full.body["scope"], "openid email offline_access");
}

// --- Lifetimes (RFC 9700 §4.14.2) ------------------------------------------------------------

async fn clocked_server() -> (TestServer, Arc<ManualClock>, String) {
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let server = TestServer::start_with_clock(clock.clone()).await;
    let email = "ayu@example.com".to_owned();
    server.add_user(&email, "Ayu Lestari", PASSWORD, true).await;
    (server, clock, email)
}

#[tokio::test]
async fn an_idle_refresh_token_expires() {
    let (server, clock, email) = clocked_server().await;
    let tokens = offline_tokens(&server, &OFFLINE, &email).await;
    clock.advance(29 * DAY);
    let used = refresh(&server, &OFFLINE, str_of(&tokens, "refresh_token"), None).await;
    assert_eq!(used.status, 200, "29 days idle is within 30: {}", used.body);
    let rt2 = str_of(&used.body, "refresh_token");

    clock.advance(30 * DAY);
    assert!(!is_active(&server, &OFFLINE, rt2).await);
    let idle = refresh(&server, &OFFLINE, rt2, None).await;
    assert_oauth_error(idle.status, &idle.body, ErrorCode::InvalidGrant);
}

#[tokio::test]
async fn a_refresh_token_family_ends_at_its_absolute_lifetime() {
    let (server, clock, email) = clocked_server().await;
    let tokens = offline_tokens(&server, &OFFLINE, &email).await;
    let mut rt = str_of(&tokens, "refresh_token").to_owned();
    // Used every 25 days it never idles out, up to 75 days in…
    for _ in 0..3 {
        clock.advance(25 * DAY);
        let r = refresh(&server, &OFFLINE, &rt, None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        rt = str_of(&r.body, "refresh_token").to_owned();
    }
    let probe = introspect(&server, &OFFLINE, &rt, Some("refresh_token")).await;
    assert_eq!(
        probe.body["exp"].as_i64(),
        Some(1_800_000_000 + 90 * DAY),
        "the newest token ends with its family: {}",
        probe.body
    );
    // …but not past 90 days from the sign-in, though this token is only 16 days old.
    clock.advance(16 * DAY);
    let late = refresh(&server, &OFFLINE, &rt, None).await;
    assert_oauth_error(late.status, &late.body, ErrorCode::InvalidGrant);
}

#[tokio::test]
async fn refresh_response_is_not_cached() {
    let (server, email) = server_with_user().await;
    let tokens = offline_tokens(&server, &OFFLINE, &email).await;
    let r = refresh(&server, &OFFLINE, str_of(&tokens, "refresh_token"), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["cache-control"], "no-store");
    assert_eq!(r.body["token_type"], "Bearer");
}

// --- Without rotation (`refresh_token_rotation = false`, FAPI 2.0 §5.3.2.1) ------------------

/// A confidential client whose refresh tokens are not rotated: the same token works again and
/// again, each use restarts its idle lifetime, and revoking it still ends the grant.
#[tokio::test]
async fn a_client_without_rotation_keeps_one_refresh_token_whose_idle_lifetime_restarts() {
    let clock = Arc::new(ManualClock::new(1_800_000_000));
    let server = TestServer::start_full(Backends::Embedded, clock.clone(), |c| {
        let offline = c
            .clients
            .iter_mut()
            .find(|c| c.client_id == OFFLINE.id)
            .unwrap();
        offline.refresh_token_rotation = false;
        offline.refresh_token_idle_ttl_secs = 10 * DAY as u64;
    })
    .await;
    let email = "ayu@example.com";
    server.add_user(email, "Ayu", PASSWORD, true).await;
    let first = offline_tokens(&server, &OFFLINE, email).await;
    let rt = str_of(&first, "refresh_token").to_owned();
    // Used every 6 days, it outlives its 10-day idle lifetime: each use restarts it.
    for _ in 0..3 {
        clock.advance(6 * DAY);
        let again = refresh(&server, &OFFLINE, &rt, None).await;
        assert_eq!(again.status, 200, "{}", again.body);
        assert!(
            again.body.get("refresh_token").is_none(),
            "RFC 6749 §5.1: no new refresh token, the client keeps its own: {}",
            again.body
        );
        assert!(again.body["access_token"].is_string() && again.body["id_token"].is_string());
    }
    // Unused for longer than the idle lifetime, it stops working.
    clock.advance(11 * DAY);
    let idle = refresh(&server, &OFFLINE, &rt, None).await;
    assert_oauth_error(idle.status, &idle.body, ErrorCode::InvalidGrant);
}

#[tokio::test]
async fn revoking_a_refresh_token_that_is_not_rotated_ends_it() {
    let server = TestServer::start_with(Backends::current(), |c| {
        let offline = c
            .clients
            .iter_mut()
            .find(|c| c.client_id == OFFLINE.id)
            .unwrap();
        offline.refresh_token_rotation = false;
    })
    .await;
    let email = "ayu@example.com";
    server.add_user(email, "Ayu", PASSWORD, true).await;
    let first = offline_tokens(&server, &OFFLINE, email).await;
    let rt = str_of(&first, "refresh_token");
    assert_eq!(refresh(&server, &OFFLINE, rt, None).await.status, 200);
    let revoked = crate::grants::revoke(&server, &OFFLINE, rt, Some("refresh_token")).await;
    assert_eq!(revoked.status, 200);
    let after = refresh(&server, &OFFLINE, rt, None).await;
    assert_oauth_error(after.status, &after.body, ErrorCode::InvalidGrant);
}
