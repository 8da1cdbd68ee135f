//! The authorization endpoint's refusals (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6, RFC 7636,
//! RFC 9207). Until the client and its redirect URI are trusted, the user sees an error page and
//! is never redirected; after that, the client hears the error with `state` and `iss`.

use crate::support::{Authz, Reply, assert_error_page, assert_redirect_error, get, http};
use kunci_core::ErrorCode;
use kunci_testkit::server::{SPA, WEB};
use kunci_testkit::{Browser, TestClient, TestServer};

/// Opens the request and expects the error page (status 400, HTML, no Location).
async fn expect_page(server: &TestServer, authz: &Authz, code: ErrorCode) {
    let reply = get(&authz.url(server)).await;
    assert_error_page(&reply, 400, Some(code));
}

/// Opens the request and expects a redirect to the client carrying `code`.
async fn expect_redirect(server: &TestServer, authz: &Authz, code: ErrorCode) {
    let reply = get(&authz.url(server)).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let location = reply.header("location").expect("a Location header");
    let url = url::Url::parse(location).expect("absolute redirect to the client");
    assert_redirect_error(server, authz, &url, code);
}

fn web() -> Authz {
    Authz::new(&WEB)
}

// --- Before the redirect URI is trusted: an error page, never a redirect -------------------

// --- After the redirect URI is trusted: back to the client with error, state and iss --------

// --- POST /authorize (OIDC Core §3.1.2.1: GET and POST both) -------------------------------

async fn post_authorize(server: &TestServer, authz: &Authz) -> Reply {
    Reply::read(
        http()
            .post(server.url("/authorize"))
            .form(&authz.params)
            .send()
            .await
            .expect("POST /authorize"),
    )
    .await
}

kunci_testkit::on_every_backend! {
    async fn unknown_client_id_is_shown_as_a_page_not_redirected() {
        let server = TestServer::start().await;
        let unknown = TestClient {
            id: "nobody",
            ..WEB
        };
        expect_page(&server, &Authz::new(&unknown), ErrorCode::InvalidClient).await;
    }

    async fn missing_client_id_is_shown_as_a_page() {
        let server = TestServer::start().await;
        expect_page(
            &server,
            &web().without("client_id"),
            ErrorCode::InvalidRequest,
        )
        .await;
    }

    async fn duplicated_client_id_is_shown_as_a_page() {
        let server = TestServer::start().await;
        let authz = web().also("client_id", "web");
        expect_page(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn missing_redirect_uri_is_shown_as_a_page() {
        let server = TestServer::start().await;
        expect_page(
            &server,
            &web().without("redirect_uri"),
            ErrorCode::InvalidRequest,
        )
        .await;
    }

    async fn unregistered_redirect_uri_is_shown_as_a_page() {
        let server = TestServer::start().await;
        let authz = web().set("redirect_uri", "https://attacker.example/cb");
        expect_page(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn redirect_uri_differing_only_by_a_trailing_slash_is_not_registered() {
        let server = TestServer::start().await;
        let authz = web().set("redirect_uri", &format!("{}/", WEB.redirect_uri));
        expect_page(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn redirect_uri_with_an_added_query_is_not_registered() {
        let server = TestServer::start().await;
        let authz = web().set("redirect_uri", &format!("{}?next=/admin", WEB.redirect_uri));
        expect_page(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn redirect_uri_of_another_client_is_not_registered() {
        let server = TestServer::start().await;
        let authz = web().set("redirect_uri", SPA.redirect_uri);
        expect_page(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn duplicated_redirect_uri_is_shown_as_a_page() {
        let server = TestServer::start().await;
        let authz = web().also("redirect_uri", "https://attacker.example/cb");
        expect_page(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn untrusted_redirect_uri_wins_over_every_later_error() {
        // Even with a hopeless request, an unregistered redirect URI gets a page, not a redirect.
        let server = TestServer::start().await;
        let authz = web()
            .set("redirect_uri", "https://attacker.example/cb")
            .set("response_type", "token")
            .set("scope", "admin");
        expect_page(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn missing_response_type_is_invalid_request() {
        let server = TestServer::start().await;
        expect_redirect(
            &server,
            &web().without("response_type"),
            ErrorCode::InvalidRequest,
        )
        .await;
    }

    async fn response_type_token_is_unsupported_response_type() {
        let server = TestServer::start().await;
        let authz = web().set("response_type", "token");
        expect_redirect(&server, &authz, ErrorCode::UnsupportedResponseType).await;
    }

    async fn hybrid_response_type_is_unsupported_response_type() {
        let server = TestServer::start().await;
        let authz = web().set("response_type", "code id_token");
        expect_redirect(&server, &authz, ErrorCode::UnsupportedResponseType).await;
    }

    async fn response_mode_fragment_is_invalid_request() {
        let server = TestServer::start().await;
        let authz = web().set("response_mode", "fragment");
        expect_redirect(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn scope_not_allowed_for_the_client_is_invalid_scope() {
        let server = TestServer::start().await;
        let authz = web().set("scope", "openid address");
        expect_redirect(&server, &authz, ErrorCode::InvalidScope).await;
    }

    async fn unknown_scope_is_invalid_scope() {
        let server = TestServer::start().await;
        let authz = web().set("scope", "openid payments:write");
        expect_redirect(&server, &authz, ErrorCode::InvalidScope).await;
    }

    async fn missing_scope_is_invalid_scope() {
        // RFC 6749 §3.3: without a default scope the server fails the request with invalid_scope.
        let server = TestServer::start().await;
        expect_redirect(&server, &web().without("scope"), ErrorCode::InvalidScope).await;
    }

    async fn public_client_without_code_challenge_is_invalid_request() {
        let server = TestServer::start().await;
        let authz = Authz::new(&SPA)
            .without("code_challenge")
            .without("code_challenge_method");
        expect_redirect(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn confidential_client_without_code_challenge_is_invalid_request_by_default() {
        let server = TestServer::start().await;
        let authz = web()
            .without("code_challenge")
            .without("code_challenge_method");
        expect_redirect(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn code_challenge_method_plain_is_invalid_request() {
        let server = TestServer::start().await;
        let authz = Authz::new(&SPA).set("code_challenge_method", "plain");
        expect_redirect(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn code_challenge_without_method_is_invalid_request() {
        // RFC 7636 §4.3: a missing method means plain, which is refused (RFC 9700 §2.1.1).
        let server = TestServer::start().await;
        let authz = Authz::new(&SPA).without("code_challenge_method");
        expect_redirect(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn code_challenge_method_without_challenge_is_invalid_request() {
        let server = TestServer::start().await;
        let authz = Authz::new(&SPA).without("code_challenge");
        expect_redirect(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn malformed_code_challenge_is_invalid_request() {
        let server = TestServer::start().await;
        for bad in [
            "too-short",
            &"A".repeat(44),
            &format!("{}=", "A".repeat(42)),
        ] {
            let authz = Authz::new(&SPA).set("code_challenge", bad);
            expect_redirect(&server, &authz, ErrorCode::InvalidRequest).await;
        }
    }

    async fn prompt_none_combined_with_login_is_invalid_request() {
        let server = TestServer::start().await;
        let authz = web().set("prompt", "none login");
        expect_redirect(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn unknown_prompt_value_is_invalid_request() {
        let server = TestServer::start().await;
        let authz = web().set("prompt", "create");
        expect_redirect(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn negative_max_age_is_invalid_request() {
        let server = TestServer::start().await;
        expect_redirect(
            &server,
            &web().set("max_age", "-1"),
            ErrorCode::InvalidRequest,
        )
        .await;
    }

    async fn non_numeric_max_age_is_invalid_request() {
        let server = TestServer::start().await;
        expect_redirect(
            &server,
            &web().set("max_age", "1h"),
            ErrorCode::InvalidRequest,
        )
        .await;
    }

    async fn request_object_is_request_not_supported() {
        let server = TestServer::start().await;
        let authz = web().set("request", "eyJhbGciOiJub25lIn0.e30.");
        expect_redirect(&server, &authz, ErrorCode::RequestNotSupported).await;
    }

    async fn request_uri_is_request_uri_not_supported() {
        let server = TestServer::start().await;
        let authz = web().set("request_uri", "https://attacker.example/req.jwt");
        expect_redirect(&server, &authz, ErrorCode::RequestUriNotSupported).await;
    }

    async fn duplicated_scope_is_invalid_request() {
        let server = TestServer::start().await;
        let authz = web().also("scope", "openid");
        expect_redirect(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn over_long_state_is_invalid_request_and_still_echoed() {
        // RFC 6749 §4.1.2.1: the error response carries the exact state the client sent.
        let server = TestServer::start().await;
        let authz = web().set("state", &"s".repeat(2049));
        expect_redirect(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn over_long_nonce_is_invalid_request() {
        let server = TestServer::start().await;
        let authz = web().set("nonce", &"n".repeat(2049));
        expect_redirect(&server, &authz, ErrorCode::InvalidRequest).await;
    }

    async fn error_redirect_without_state_has_no_state() {
        let server = TestServer::start().await;
        let authz = web().without("state").set("response_type", "token");
        expect_redirect(&server, &authz, ErrorCode::UnsupportedResponseType).await;
    }

    async fn post_authorize_starts_the_sign_in_like_get() {
        let server = TestServer::start().await;
        let browser = Browser::new(&server.issuer);
        let resp = browser
            .http
            .post(server.url("/authorize"))
            .form(&web().params)
            .send()
            .await
            .expect("POST /authorize");
        assert_eq!(resp.status(), 303, "303 turns the POST into a GET");
        let location = resp.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with("/interaction/"),
            "sent to the sign-in page, not {location}"
        );
        let (status, _, body) = browser.open(&browser.absolute(&location)).await.page();
        assert_eq!(status, 200);
        assert!(body.contains("login-form"), "{body}");
    }

    async fn post_authorize_redirects_errors_like_get() {
        let server = TestServer::start().await;
        let authz = web().set("scope", "openid address");
        let reply = post_authorize(&server, &authz).await;
        assert_eq!(reply.status, 303);
        let url = url::Url::parse(reply.header("location").unwrap()).unwrap();
        assert_redirect_error(&server, &authz, &url, ErrorCode::InvalidScope);
    }

    async fn post_authorize_shows_untrusted_errors_as_a_page() {
        let server = TestServer::start().await;
        let authz = web().set("redirect_uri", "https://attacker.example/cb");
        let reply = post_authorize(&server, &authz).await;
        assert_error_page(&reply, 400, Some(ErrorCode::InvalidRequest));
    }
}
