//! What a successful authorization request keeps and ignores (RFC 6749 §3.1, §3.1.2, §4.1.2;
//! OIDC Core §3.1.2.1): the exact `state`, the registered redirect URI's own query, unknown
//! parameters, and `login_hint`.

use crate::jwt::Jwt;
use crate::support::{Authz, PASSWORD, code_from, exchange, server_with_user, sign_in};
use kunci_testkit::browser::Landing;
use kunci_testkit::server::{FIRST, WEB};
use kunci_testkit::{Backends, Browser, TestServer};

kunci_testkit::on_every_backend! {
    async fn state_with_reserved_characters_comes_back_exactly() {
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&FIRST).set("state", "a b&c=d/é?#%25+");
        let redirect = sign_in(&server, &browser, &authz, &email).await;
        code_from(&server, &authz, &redirect);
    }

    async fn registered_redirect_uri_keeps_its_own_query() {
        // RFC 6749 §3.1.2: the endpoint URI may have a query, which must be retained.
        const WITH_QUERY: &str = "http://127.0.0.1:1/first/cb?tenant=acme";
        let server = TestServer::start_with(Backends::current(), |c| {
            let first = c
                .clients
                .iter_mut()
                .find(|c| c.client_id == "first")
                .unwrap();
            first.redirect_uris.push(WITH_QUERY.into());
        })
        .await;
        server
            .add_user("ayu@example.com", "Ayu", PASSWORD, true)
            .await;
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&FIRST).set("redirect_uri", WITH_QUERY);
        let redirect = sign_in(&server, &browser, &authz, "ayu@example.com").await;
        assert_eq!(Landing::param(&redirect, "tenant").as_deref(), Some("acme"));
        assert_eq!(redirect.path(), "/first/cb");
        let code = code_from(&server, &authz, &redirect);
        let (status, _, body) = crate::support::token_request(
            &server,
            &FIRST,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", WITH_QUERY),
                ("code_verifier", &authz.verifier),
            ],
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }

    async fn unknown_parameters_are_ignored() {
        // RFC 6749 §3.1: the server MUST ignore unrecognized request parameters.
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&FIRST)
            .set("utm_source", "newsletter")
            .set("claims", r#"{"userinfo":{"email":null}}"#);
        let redirect = sign_in(&server, &browser, &authz, &email).await;
        code_from(&server, &authz, &redirect);
    }

    async fn login_hint_fills_in_the_email_and_is_escaped() {
        let server = TestServer::start().await;
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&WEB).set("login_hint", "ayu@example.com");
        let (_, _, page) = browser.open(&authz.url(&server)).await.page();
        assert!(page.contains(r#"value="ayu@example.com""#), "{page}");

        let evil = r#""><script>alert(1)</script>"#;
        let authz = Authz::new(&WEB).set("login_hint", evil);
        let (_, _, page) = browser.open(&authz.url(&server)).await.page();
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains(&crate::support::html(evil)), "{page}");
    }

    async fn request_without_nonce_gives_an_id_token_without_nonce() {
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&FIRST).without("nonce");
        let redirect = sign_in(&server, &browser, &authz, &email).await;
        let code = code_from(&server, &authz, &redirect);
        let (status, tokens) = exchange(&server, &authz, &code).await;
        assert_eq!(status, 200, "{tokens}");
        let id = Jwt::decode(tokens["id_token"].as_str().unwrap());
        assert!(id.claims.get("nonce").is_none(), "{}", id.claims);
    }

    async fn nonce_is_carried_into_the_id_token_through_sso() {
        let (server, email) = server_with_user().await;
        let browser = Browser::new(&server.issuer);
        sign_in(&server, &browser, &Authz::new(&FIRST), &email).await;
        let authz = Authz::new(&FIRST);
        let redirect = browser.open(&authz.url(&server)).await.left();
        let code = code_from(&server, &authz, &redirect);
        let (_, tokens) = exchange(&server, &authz, &code).await;
        let id = Jwt::decode(tokens["id_token"].as_str().unwrap());
        assert_eq!(id.claims["nonce"], authz.get("nonce").unwrap());
    }
}
