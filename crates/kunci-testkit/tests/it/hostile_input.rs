//! Malformed and oversized input never makes Kunci fail with a 5xx: it answers 4xx, in the shape
//! the endpoint promises (an HTML page for people, JSON for clients).

use crate::support::{Reply, assert_error_page, get, http};
use kunci_core::ErrorCode;
use kunci_testkit::TestServer;
use kunci_testkit::server::WEB;

fn assert_client_error(what: &str, reply: &Reply) {
    assert!(
        reply.status.is_client_error(),
        "{what}: expected 4xx, got {}:\n{}",
        reply.status,
        reply.body
    );
}

kunci_testkit::on_every_backend! {
    async fn invalid_utf8_percent_encoding_in_queries_is_a_client_error() {
        let server = TestServer::start().await;
        let reply = get(&server.url("/authorize?client_id=%FF%FE&redirect_uri=%C0%AF")).await;
        assert_error_page(&reply, 400, Some(ErrorCode::InvalidClient));
        for path in [
            "/authorize?%zz=%",
            "/authorize?client_id=web&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fweb%2Fcb%FF",
            "/verify-email?token=%FF%FE",
            "/verify-email?token=a&token=b",
            "/interaction/%FF%FE",
            "/interaction/..%2F..%2Fetc%2Fpasswd",
            "/register?interaction=a&interaction=b",
        ] {
            assert_client_error(path, &get(&server.url(path)).await);
        }
        // A malformed interaction id on the registration page is dropped, not echoed.
        let reply = get(&server.url("/register?interaction=%FF%22%3E%3Cscript%3E")).await;
        assert_eq!(reply.status, 200);
        assert!(
            reply.body.contains("action=\"/register\""),
            "{}",
            reply.body
        );
        assert!(!reply.body.contains("<script>"));
    }

    async fn unknown_paths_are_a_404_page() {
        let server = TestServer::start().await;
        for path in [
            "/nope",
            "/.env",
            "/interaction",
            "/admin/../../etc/passwd",
            "/static/../Cargo.toml",
        ] {
            let reply = get(&server.url(path)).await;
            assert_error_page(&reply, 404, None);
        }
        let post = Reply::read(http().post(server.url("/nope")).send().await.unwrap()).await;
        assert_error_page(&post, 404, None);
    }

    async fn body_over_64_kib_to_token_is_refused() {
        let server = TestServer::start().await;
        let huge = format!(
            "grant_type=authorization_code&code={}",
            "a".repeat(70 * 1024)
        );
        let reply = Reply::read(
            http()
                .post(server.url("/token"))
                .basic_auth(WEB.id, WEB.secret)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(huge)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(
            matches!(reply.status.as_u16(), 413 | 400),
            "{}: {}",
            reply.status,
            reply.body
        );
    }

    async fn body_over_64_kib_to_the_hosted_pages_is_refused() {
        let server = TestServer::start().await;
        let huge = format!("csrf=x&email={}", "a".repeat(70 * 1024));
        for path in ["/authorize", "/register", "/logout", "/interaction/x/login"] {
            let reply = Reply::read(
                http()
                    .post(server.url(path))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(huge.clone())
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_client_error(path, &reply);
        }
    }

    async fn binary_garbage_bodies_are_client_errors() {
        let server = TestServer::start().await;
        let garbage: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
        for path in [
            "/token",
            "/authorize",
            "/register",
            "/logout",
            "/interaction/x/login",
            "/userinfo",
        ] {
            let reply = Reply::read(
                http()
                    .post(server.url(path))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(garbage.clone())
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_client_error(path, &reply);
        }
    }

    async fn hostile_headers_are_client_errors() {
        let server = TestServer::start().await;
        let cases: Vec<(&str, &str, Vec<u8>)> = vec![
            ("/token", "authorization", b"Basic \xff\xfe".to_vec()),
            ("/token", "authorization", b"Basic Og==".to_vec()), // ":"
            ("/userinfo", "authorization", b"Bearer \xff".to_vec()),
            ("/userinfo", "authorization", b"Bearer ".repeat(2000)),
            (
                "/logout",
                "cookie",
                format!("kunci_session={}", "x".repeat(4000)).into_bytes(),
            ),
            (
                "/logout",
                "accept-language",
                b"*;q=NaN, id;q=-1, en;q=1e99".to_vec(),
            ),
        ];
        for (path, name, value) in cases {
            let value = reqwest::header::HeaderValue::from_bytes(&value).unwrap();
            let method = if path == "/token" {
                reqwest::Method::POST
            } else {
                reqwest::Method::GET
            };
            let reply = Reply::read(
                http()
                    .request(method, server.url(path))
                    .header(name, value)
                    .form(&[("grant_type", "authorization_code")])
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert!(
                reply.status.as_u16() < 500,
                "{path} {name}: {} {}",
                reply.status,
                reply.body
            );
        }
    }

    async fn very_long_query_is_a_client_error() {
        let server = TestServer::start().await;
        let reply = get(&server.url(&format!(
            "/authorize?client_id=web&x={}",
            "a".repeat(16 * 1024)
        )))
        .await;
        assert_client_error("16 KiB query", &reply);
    }

    async fn wrong_method_on_a_known_endpoint_is_405_with_allow() {
        // RFC 9110 §15.5.6: the path exists, the method does not; say which methods do.
        let server = TestServer::start().await;
        for (method, path) in [
            (reqwest::Method::GET, "/token"),
            (reqwest::Method::DELETE, "/userinfo"),
            (reqwest::Method::PUT, "/authorize"),
            (reqwest::Method::POST, "/jwks"),
        ] {
            let reply = Reply::read(
                http()
                    .request(method.clone(), server.url(path))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(reply.status, 405, "{method} {path}");
            assert!(reply.header("allow").is_some(), "{method} {path}: Allow");
        }
    }
}
