//! Token exchange errors, one RFC 8693 §2.2.2 sentence at a time: a request that is not valid,
//! or a subject or actor token that is invalid or unacceptable by policy, is
//! `invalid_request`; a target that may not be served is `invalid_target`; a scope wider than
//! the subject token's is `invalid_scope`; a client without the grant is `unauthorized_client`.

use super::{
    ACCESS_TOKEN, GATEWAY, GRANT, RELAY, exchange, exchange_for_api, exchange_server, own_token,
};
use crate::grants::{client_post, offline_tokens, str_of};
use crate::jwt::signed_by_stranger;
use crate::support::{assert_oauth_error, fresh_tokens};
use kunci_core::ErrorCode;
use kunci_testkit::server::{API, OFFLINE, ORDERS_API, SERVICE, SPA, WEB};
use serde_json::json;

const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";

kunci_testkit::on_every_backend! {
    /// §2.1: `subject_token` and `subject_token_type` are required, `actor_token_type` goes
    /// with `actor_token`, and no parameter is sent twice.
    async fn missing_and_repeated_parameters_are_invalid_request() {
        let (server, email) = exchange_server().await;
        let at = str_of(&fresh_tokens(&server, &WEB, &email).await, "access_token").to_owned();
        let at = at.as_str();
        let cases: [&[(&str, &str)]; 6] = [
            &[("subject_token_type", ACCESS_TOKEN), ("resource", ORDERS_API)],
            &[("subject_token", at), ("resource", ORDERS_API)],
            &[("subject_token", at), ("subject_token_type", ACCESS_TOKEN), ("resource", ORDERS_API), ("actor_token", at)],
            &[("subject_token", at), ("subject_token_type", ACCESS_TOKEN), ("resource", ORDERS_API), ("actor_token_type", ACCESS_TOKEN)],
            &[("subject_token", at), ("subject_token", at), ("subject_token_type", ACCESS_TOKEN), ("resource", ORDERS_API)],
            &[("subject_token", ""), ("subject_token_type", ACCESS_TOKEN), ("resource", ORDERS_API)],
        ];
        for fields in cases {
            let a = exchange(&server, &GATEWAY, fields).await;
            assert_oauth_error(a.status, &a.body, ErrorCode::InvalidRequest);
        }
        let ok = exchange(&server, &GATEWAY, &[("subject_token", at), ("subject_token_type", ACCESS_TOKEN), ("resource", ORDERS_API)]).await;
        assert_eq!(ok.status, 200, "control: {}", ok.body);
    }

    /// §2.1 `requested_token_type`: Kunci issues access tokens only; asking for a refresh
    /// token (or anything else) is a request it cannot honour.
    async fn only_an_access_token_can_be_requested() {
        let (server, email) = exchange_server().await;
        let at = str_of(&fresh_tokens(&server, &WEB, &email).await, "access_token").to_owned();
        for wanted in [
            "urn:ietf:params:oauth:token-type:refresh_token",
            "urn:ietf:params:oauth:token-type:id_token",
            JWT,
            "urn:example:unknown",
        ] {
            let a = exchange_for_api(&server, &GATEWAY, &at, &[("requested_token_type", wanted)]).await;
            assert_oauth_error(a.status, &a.body, ErrorCode::InvalidRequest);
            assert!(str_of(&a.body, "error_description").contains("requested_token_type"), "{}", a.body);
        }
    }

    /// §3: only Kunci's own access tokens are exchangeable. Refresh tokens never are, ID
    /// tokens are statements to their client, and foreign or forged JWTs are nobody's.
    async fn other_token_types_and_foreign_tokens_are_refused() {
        let (server, email) = exchange_server().await;
        let tokens = offline_tokens(&server, &OFFLINE, &email).await;
        let at = str_of(&tokens, "access_token");
        let rt = str_of(&tokens, "refresh_token");
        let id = str_of(&tokens, "id_token");
        let forged = signed_by_stranger(
            &json!({ "alg": "ES256", "typ": "at+jwt", "kid": "k" }),
            &json!({ "iss": server.issuer, "sub": "x", "aud": server.issuer, "exp": 4_000_000_000_i64,
                     "iat": 1, "jti": "j", "client_id": "web", "scope": "openid", "gid": "g" }),
        );
        let cases = [
            (rt, "urn:ietf:params:oauth:token-type:refresh_token", "refresh tokens"),
            (rt, ACCESS_TOKEN, "not an access token"),
            (id, "urn:ietf:params:oauth:token-type:id_token", "ID tokens"),
            (id, JWT, "not an access token"),
            (id, ACCESS_TOKEN, "not an access token"),
            (&forged, JWT, "not an access token"),
            (at, "urn:ietf:params:oauth:token-type:saml2", "not supported"),
            ("not-a-token", ACCESS_TOKEN, "not an access token"),
        ];
        for (token, kind, says) in cases {
            let a = exchange(&server, &GATEWAY, &[("subject_token", token), ("subject_token_type", kind), ("resource", ORDERS_API)]).await;
            assert_oauth_error(a.status, &a.body, ErrorCode::InvalidRequest);
            let d = str_of(&a.body, "error_description");
            assert!(d.starts_with("subject_token") && d.contains(says), "{kind}: {d}");
        }
        let ok = exchange(&server, &GATEWAY, &[("subject_token", at), ("subject_token_type", JWT), ("resource", ORDERS_API)]).await;
        assert_eq!(ok.status, 200, "control: {}", ok.body);
    }

    /// The policy: targets it names, the modes it allows, the subject clients it accepts, and
    /// an actor token that is the requesting client's own.
    async fn the_policy_decides_target_mode_subject_and_actor() {
        let (server, email) = exchange_server().await;
        let at = str_of(&fresh_tokens(&server, &WEB, &email).await, "access_token").to_owned();
        let target_cases: [&[(&str, &str)]; 6] = [
            &[("audience", "payroll")],
            &[("resource", "https://payroll.example.test")],
            &[("resource", "https://orders.example.test#f")],
            &[],
            &[("audience", "billing"), ("resource", ORDERS_API)],
            &[("audience", "billing"), ("audience", "billing")],
        ];
        for target in target_cases {
            let mut fields = vec![("subject_token", at.as_str()), ("subject_token_type", ACCESS_TOKEN)];
            fields.extend_from_slice(target);
            let a = exchange(&server, &GATEWAY, &fields).await;
            assert_oauth_error(a.status, &a.body, ErrorCode::InvalidTarget);
        }

        // The relay may only delegate, and only with tokens issued to the gateway.
        let relay_actor = own_token(&server, &RELAY).await;
        let a = exchange_for_api(&server, &RELAY, &at, &[]).await;
        assert_oauth_error(a.status, &a.body, ErrorCode::InvalidRequest);
        let a = exchange_for_api(&server, &RELAY, &at, &[("actor_token", &relay_actor), ("actor_token_type", ACCESS_TOKEN)]).await;
        assert_oauth_error(a.status, &a.body, ErrorCode::InvalidRequest);
        assert!(str_of(&a.body, "error_description").contains("issued to that client"), "{}", a.body);

        // An actor token must be the requesting client's own, and a live access token.
        let service_token = own_token(&server, &SERVICE).await;
        for (actor, kind) in [
            (service_token.as_str(), ACCESS_TOKEN),
            (relay_actor.as_str(), ACCESS_TOKEN),
            (at.as_str(), ACCESS_TOKEN),
            ("nope", ACCESS_TOKEN),
            (at.as_str(), "urn:ietf:params:oauth:token-type:id_token"),
        ] {
            let a = exchange_for_api(&server, &GATEWAY, &at, &[("actor_token", actor), ("actor_token_type", kind)]).await;
            assert_oauth_error(a.status, &a.body, ErrorCode::InvalidRequest);
            assert!(str_of(&a.body, "error_description").starts_with("actor_token"), "{}", a.body);
        }
    }

    /// §2.1 `scope` with RFC 6749 §3.3: at most the subject token's scopes that the client
    /// may have; anything wider is `invalid_scope`.
    async fn a_scope_wider_than_the_subjects_or_the_clients_is_invalid_scope() {
        let (server, email) = exchange_server().await;
        let at = str_of(&fresh_tokens(&server, &WEB, &email).await, "access_token").to_owned();
        for (wider, says) in [
            ("orders:read", "wider than the subject token"),
            ("email profile", "not allowed for this client"),
            ("openid phone", "wider than the subject token"),
        ] {
            let a = exchange_for_api(&server, &GATEWAY, &at, &[("scope", wider)]).await;
            assert_oauth_error(a.status, &a.body, ErrorCode::InvalidScope);
            assert!(str_of(&a.body, "error_description").contains(says), "{wider}: {}", a.body);
        }
        let narrower = exchange_for_api(&server, &GATEWAY, &at, &[("scope", "openid")]).await;
        assert_eq!(narrower.status, 200, "{}", narrower.body);
        assert_eq!(narrower.body["scope"], "openid");
    }

    /// RFC 6749 §5.2: a client without the grant (a public client can never have it) is
    /// `unauthorized_client`; a failed authentication is `invalid_client`.
    async fn clients_without_the_grant_and_bad_credentials_are_refused() {
        let (server, email) = exchange_server().await;
        let at = str_of(&fresh_tokens(&server, &WEB, &email).await, "access_token").to_owned();
        for c in [&WEB, &SERVICE, &API, &SPA] {
            let a = exchange_for_api(&server, c, &at, &[]).await;
            assert_oauth_error(a.status, &a.body, ErrorCode::UnauthorizedClient);
        }
        let r = crate::support::http()
            .post(server.url("/token"))
            .basic_auth(GATEWAY.id, Some("wrong-secret"))
            .form(&[("grant_type", GRANT), ("subject_token", &at), ("subject_token_type", ACCESS_TOKEN)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["error"], "invalid_client");
        let none = client_post(&server, "/token", None, &[("grant_type", GRANT), ("subject_token", &at)]).await;
        assert_oauth_error(none.status, &none.body, ErrorCode::InvalidClient);
    }
}
