//! Many stateless nodes sharing PostgreSQL and Redis: SSO, code redemption and logout across
//! nodes, the same keys everywhere, and one code raced on two nodes with exactly one winner.

use crate::support::{Authz, PASSWORD, code_from, exchange, sign_in};
use kunci_testkit::Browser;
use kunci_testkit::browser::{Landing, csrf};
use kunci_testkit::cluster::TestCluster;
use kunci_testkit::server::{FIRST, WEB};
use reqwest::StatusCode;

async fn jwks(base: &str) -> serde_json::Value {
    reqwest::get(format!("{base}/jwks"))
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn a_session_started_on_one_node_is_recognised_used_and_ended_on_another() {
    let Some(cluster) = TestCluster::start(2, "two-node SSO test").await else {
        return;
    };
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    a.add_user("dewi@example.com", "Dewi", PASSWORD, true).await;
    assert_eq!(
        jwks(&a.issuer).await,
        jwks(&b.issuer).await,
        "every node publishes the same keys"
    );

    // Sign in on A.
    let on_a = Browser::new(&a.issuer);
    let first = Authz::new(&FIRST);
    let code = code_from(
        a,
        &first,
        &sign_in(a, &on_a, &first, "dewi@example.com").await,
    );
    // The code minted on A is redeemed on B, and B's ID token verifies with A's keys.
    let (status, tokens) = exchange(b, &first, &code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let userinfo_on_a = reqwest::Client::new()
        .get(a.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .expect("userinfo");
    assert_eq!(
        userinfo_on_a.status(),
        StatusCode::OK,
        "a token from B is accepted by A"
    );

    // The same browser on B is already signed in: no password form, straight back with a code.
    let on_b = on_a.at(&b.issuer);
    let second = Authz::new(&FIRST);
    let redirect = on_b.open(&second.url(b)).await.left();
    assert_eq!(
        Landing::param(&redirect, "iss").as_deref(),
        Some(a.issuer.as_str()),
        "one issuer for all nodes"
    );
    assert!(
        Landing::param(&redirect, "code").is_some(),
        "SSO across nodes: {redirect}"
    );

    // Log out on B; A no longer knows the session.
    let (_, _, confirm) = on_b.open(&b.url("/logout")).await.page();
    let (status, _, _) = on_b
        .submit("/logout", &[("csrf", &csrf(&confirm))])
        .await
        .page();
    assert_eq!(status, StatusCode::OK);
    let (status, _, page) = on_a.open(&Authz::new(&FIRST).url(a)).await.page();
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("login-form"),
        "after logout on B, A asks for the password again"
    );
}

#[tokio::test]
async fn one_code_raced_on_two_nodes_is_redeemed_exactly_once() {
    let Some(cluster) = TestCluster::start(2, "two-node code race").await else {
        return;
    };
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    a.add_user("eka@example.com", "Eka", PASSWORD, true).await;
    let browser = Browser::new(&a.issuer);
    for round in 0..5 {
        let authz = Authz::new(&WEB);
        let redirect = if round == 0 {
            sign_in(a, &browser, &authz, "eka@example.com").await
        } else {
            browser.open(&authz.url(a)).await.left()
        };
        let code = code_from(a, &authz, &redirect);
        let (on_a, on_b) = tokio::join!(exchange(a, &authz, &code), exchange(b, &authz, &code));
        let winners = [on_a.0, on_b.0]
            .iter()
            .filter(|s| **s == StatusCode::OK)
            .count();
        assert_eq!(
            winners, 1,
            "round {round}: exactly one node wins ({:?} / {:?})",
            on_a, on_b
        );
        let loser = if on_a.0 == StatusCode::OK {
            &on_b.1
        } else {
            &on_a.1
        };
        assert_eq!(loser["error"], "invalid_grant");
    }
}
