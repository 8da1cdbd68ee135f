//! The discovery document (OIDC Discovery §3, §4; RFC 8414; RFC 9207) and the JWKS (RFC 7517):
//! what they promise, that it is true, and that browsers' JavaScript may read them.

use crate::support::{Reply, get, http};
use kunci_testkit::TestServer;
use serde_json::{Value, json};

async fn discovery(server: &TestServer) -> Value {
    let reply = get(&server.url("/.well-known/openid-configuration")).await;
    assert_eq!(reply.status, 200);
    reply.json()
}

kunci_testkit::on_every_backend! {
    async fn the_oauth_metadata_location_serves_the_same_document() {
        let server = TestServer::start().await;
        let oauth = get(&server.url("/.well-known/oauth-authorization-server")).await;
        assert_eq!(oauth.status, 200, "RFC 8414 §3");
        assert_eq!(oauth.header("access-control-allow-origin"), Some("*"));
        assert_eq!(oauth.json(), discovery(&server).await);
        assert_eq!(oauth.json()["issuer"], server.issuer.as_str(), "RFC 8414 §3.3");
    }

    async fn issuer_is_the_server_url_exactly() {
        let server = TestServer::start().await;
        let doc = discovery(&server).await;
        assert_eq!(doc["issuer"], server.issuer.as_str());
        assert!(!server.issuer.ends_with('/'));
    }

    async fn discovery_lists_exactly_what_works() {
        let server = TestServer::start().await;
        let doc = discovery(&server).await;
        assert_eq!(doc["response_types_supported"], json!(["code"]));
        assert_eq!(doc["response_modes_supported"], json!(["query"]));
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(doc["request_parameter_supported"], false);
        assert_eq!(doc["request_uri_parameter_supported"], false);
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert_eq!(doc["subject_types_supported"], json!(["public"]));
        let algs = doc["id_token_signing_alg_values_supported"]
            .as_array()
            .unwrap();
        assert!(
            algs.contains(&json!("RS256")),
            "OIDC requires RS256: {algs:?}"
        );
        assert!(!algs.contains(&json!("none")));
        let methods = doc["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap();
        for m in ["client_secret_basic", "client_secret_post", "none"] {
            assert!(methods.contains(&json!(m)), "{m} is used by a test client");
        }
        let scopes = doc["scopes_supported"].as_array().unwrap();
        assert!(scopes.contains(&json!("openid")));
    }

    async fn every_advertised_endpoint_exists_under_the_issuer() {
        let server = TestServer::start().await;
        let doc = discovery(&server).await;
        for key in [
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
        ] {
            let url = doc[key].as_str().unwrap_or_else(|| panic!("{key} missing"));
            assert!(
                url.starts_with(&format!("{}/", server.issuer)),
                "{key} = {url}"
            );
            let reply = get(url).await;
            assert_ne!(reply.status, 404, "{key} {url} resolves");
            assert!(reply.status.as_u16() < 500, "{key}: {}", reply.status);
        }
        for key in doc.as_object().unwrap().keys() {
            if key.ends_with("_endpoint") || key.ends_with("_uri") {
                assert_ne!(get(doc[key].as_str().unwrap()).await.status, 404, "{key}");
            }
        }
    }

    async fn discovery_and_jwks_are_readable_cross_origin() {
        let server = TestServer::start().await;
        for path in ["/.well-known/openid-configuration", "/jwks"] {
            let reply = get(&server.url(path)).await;
            assert_eq!(
                reply.header("access-control-allow-origin"),
                Some("*"),
                "{path}"
            );
            let preflight = Reply::read(
                http()
                    .request(reqwest::Method::OPTIONS, server.url(path))
                    .header("origin", "https://spa.example")
                    .header("access-control-request-method", "GET")
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert!(preflight.status.is_success(), "{path} preflight");
            assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
        }
    }

    async fn every_published_key_has_a_kid_and_no_private_part() {
        let server = TestServer::start().await;
        let reply = get(&server.url("/jwks")).await;
        assert_eq!(reply.status, 200);
        let keys = reply.json()["keys"].as_array().cloned().unwrap();
        assert!(!keys.is_empty());
        let mut kids = Vec::new();
        for k in &keys {
            let kid = k["kid"].as_str().unwrap_or_default();
            assert!(!kid.is_empty(), "{k}");
            assert!(!kids.contains(&kid.to_owned()), "kid {kid} is unique");
            kids.push(kid.to_owned());
            assert_eq!(k["use"], "sig", "{k}");
            assert!(k["alg"].is_string(), "{k}");
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(k.get(private).is_none(), "private member {private} in {k}");
            }
        }
        let doc = discovery(&server).await;
        for alg in doc["id_token_signing_alg_values_supported"]
            .as_array()
            .unwrap()
        {
            assert!(
                keys.iter().any(|k| &k["alg"] == alg),
                "a key for advertised {alg}"
            );
        }
    }
}
