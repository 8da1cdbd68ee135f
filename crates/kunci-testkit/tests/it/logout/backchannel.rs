//! Back-Channel Logout 1.0 end to end: a relying party's endpoint (`receiver`) gets a logout
//! token signed by a published key, naming the session of the ID token; failures are retried,
//! and a dead or silent RP never holds the user's logout up.

use super::receiver::{Answer, Receiver};
use super::{EMAIL, server_with, signed_in, still_signed_in};
use crate::jwt::{Jwt, jwks};
use crate::support::{Authz, PASSWORD, code_from, finish_consent};
use kunci::config::Config;
use kunci_testkit::browser::{csrf, form_action};
use kunci_testkit::server::{FIRST, POST, WEB};
use kunci_testkit::{Backends, TestServer};
use std::time::{Duration, Instant};

#[tokio::test]
async fn each_client_of_the_session_gets_a_signed_logout_token_naming_the_session() {
    let mut rp = Receiver::start(Answer::Statuses(vec![200])).await;
    let uri = rp.uri.clone();
    // FIRST (RS256) and POST (ES256) listen on the back channel; WEB does not.
    let server = TestServer::start_with(Backends::current(), |c: &mut Config| {
        for client in &mut c.clients {
            if client.client_id == FIRST.id || client.client_id == POST.id {
                client.backchannel_logout_uri = Some(uri.clone());
            }
        }
    })
    .await;
    server.add_user(EMAIL, "Ayu Lestari", PASSWORD, true).await;
    let (browser, _, id_claims) = signed_in(&server, &FIRST).await;
    for client in [&POST, &WEB] {
        let authz = Authz::new(client);
        let redirect = finish_consent(&browser, browser.open(&authz.url(&server)).await).await;
        code_from(&server, &authz, &redirect);
    }
    let (_, _, page) = browser.open(&server.url("/logout")).await.page();
    let (status, _, _) = browser
        .submit(
            &form_action(&page, "logout-form"),
            &[("csrf", &csrf(&page))],
        )
        .await
        .page();
    assert_eq!(status, 200);

    let jwks = jwks(&server).await;
    let mut audiences = Vec::new();
    for _ in 0..2 {
        let got = rp
            .next(Duration::from_secs(10))
            .await
            .expect("a logout token");
        assert_eq!(got.method, "POST");
        assert!(
            got.content_type
                .starts_with("application/x-www-form-urlencoded")
        );
        let token = Jwt::decode(got.field("logout_token").expect("logout_token"));
        assert!(token.verifies_with(&jwks), "signed by a published key");
        assert_eq!(token.header["typ"], "logout+jwt");
        let c = &token.claims;
        let aud = c["aud"].as_str().expect("aud is the client id").to_owned();
        let alg = if aud == FIRST.id { "RS256" } else { "ES256" };
        assert_eq!(token.header["alg"], alg, "the client's ID token algorithm");
        assert_eq!(c["iss"], server.issuer.as_str());
        assert_eq!(c["sub"], id_claims["sub"]);
        assert_eq!(c["sid"], id_claims["sid"], "matches the ID token's sid");
        assert_eq!(
            c["events"],
            serde_json::json!({"http://schemas.openid.net/event/backchannel-logout": {}})
        );
        assert!(c.get("nonce").is_none(), "a logout token never has a nonce");
        assert!(c["jti"].as_str().is_some_and(|j| !j.is_empty()));
        let (iat, exp) = (c["iat"].as_i64().unwrap(), c["exp"].as_i64().unwrap());
        assert!(exp > iat && exp - iat <= 300, "short-lived: {iat}..{exp}");
        audiences.push(aud);
    }
    audiences.sort();
    assert_eq!(audiences, [FIRST.id, POST.id]);
    assert!(
        rp.next(Duration::from_millis(500)).await.is_none(),
        "each delivered once, and nothing for the client without a URI"
    );
}

#[tokio::test]
async fn a_server_error_is_retried_and_the_token_then_delivered_once() {
    let mut rp = Receiver::start(Answer::Statuses(vec![500, 200])).await;
    let uri = rp.uri.clone();
    let server = server_with(|c| c.backchannel_logout_uri = Some(uri)).await;
    let (browser, _, _) = signed_in(&server, &FIRST).await;
    let (_, _, page) = browser.open(&server.url("/logout")).await.page();
    browser
        .submit("/logout", &[("csrf", &csrf(&page))])
        .await
        .page();
    let first = rp
        .next(Duration::from_secs(10))
        .await
        .expect("first attempt");
    let second = rp.next(Duration::from_secs(10)).await.expect("a retry");
    assert_eq!(first.field("logout_token"), second.field("logout_token"));
    assert!(
        rp.next(Duration::from_secs(3)).await.is_none(),
        "no attempt after the one that succeeded"
    );
}

#[tokio::test]
async fn an_rp_that_is_down_or_silent_never_slows_the_users_logout() {
    let mut silent = Receiver::start(Answer::Silence).await;
    let uri = silent.uri.clone();
    let server = server_with(|c| c.backchannel_logout_uri = Some(uri)).await;
    let (browser, _, _) = signed_in(&server, &FIRST).await;
    let (_, _, page) = browser.open(&server.url("/logout")).await.page();
    let started = Instant::now();
    let (status, _, body) = browser
        .submit("/logout", &[("csrf", &csrf(&page))])
        .await
        .page();
    assert_eq!(status, 200, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        silent.next(Duration::from_secs(10)).await.is_some(),
        "it was tried"
    );

    // Nothing listening at all: the connection is refused, and the logout completes anyway.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/bc", closed.local_addr().unwrap());
    drop(closed);
    let server = server_with(|c| c.backchannel_logout_uri = Some(dead)).await;
    let (browser, _, _) = signed_in(&server, &FIRST).await;
    let (_, _, page) = browser.open(&server.url("/logout")).await.page();
    let started = Instant::now();
    let (status, _, _) = browser
        .submit("/logout", &[("csrf", &csrf(&page))])
        .await
        .page();
    assert_eq!(status, 200);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(!still_signed_in(&server, &browser).await);
}
