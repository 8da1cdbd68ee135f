//! A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3) and the JWT access token in
//! it (RFC 9068), checked by hand against the published JWKS rather than through Kunci's code.

use crate::jwt::{Jwt, jwks};
use crate::support::{exchange, fresh_code, server_with_user};
use kunci_testkit::server::{POST, WEB};

kunci_testkit::on_every_backend! {
    async fn token_response_is_not_cached_and_has_bearer_type_and_lifetime() {
        let (server, email) = server_with_user().await;
        let (authz, code) = fresh_code(&server, &WEB, &email).await;
        let (status, headers, body) = crate::support::token_request(
            &server,
            &WEB,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", WEB.redirect_uri),
                ("code_verifier", &authz.verifier),
            ],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        assert_eq!(body["token_type"], "Bearer");
        assert!(body["expires_in"].as_u64().is_some_and(|s| s > 0), "{body}");
        assert!(body["access_token"].is_string());
        assert!(
            body["id_token"].is_string(),
            "openid scope gives an ID token"
        );
        assert!(
            body.get("refresh_token").is_none(),
            "no offline_access, no refresh token"
        );
    }

    async fn access_token_is_an_rfc9068_jwt_signed_by_a_published_key() {
        let (server, email) = server_with_user().await;
        let (authz, code) = fresh_code(&server, &WEB, &email).await;
        let (_, body) = exchange(&server, &authz, &code).await;
        let at = Jwt::decode(body["access_token"].as_str().unwrap());

        assert_eq!(at.header["typ"], "at+jwt", "RFC 9068 §2.1");
        assert!(at.header["kid"].is_string());
        assert!(
            at.verifies_with(&jwks(&server).await),
            "signature verifies with the JWKS key named by kid"
        );
        let c = &at.claims;
        for claim in [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "jti",
            "client_id",
            "scope",
        ] {
            assert!(!c[claim].is_null(), "RFC 9068 §2.2 requires {claim}: {c}");
        }
        assert_eq!(c["iss"], server.issuer.as_str());
        assert_eq!(c["client_id"], WEB.id);
        assert_eq!(c["scope"], "openid email profile");
        let (iat, exp) = (c["iat"].as_i64().unwrap(), c["exp"].as_i64().unwrap());
        assert_eq!(
            exp - iat,
            body["expires_in"].as_i64().unwrap(),
            "exp agrees with expires_in"
        );

        // The same subject as the ID token, whose signature also verifies independently.
        let id = Jwt::decode(body["id_token"].as_str().unwrap());
        assert!(id.verifies_with(&jwks(&server).await));
        assert_eq!(id.header["alg"], "RS256", "WEB asks for RS256 ID tokens");
        assert_eq!(id.claims["sub"], c["sub"]);
        assert_eq!(id.claims["aud"], WEB.id);
        assert_eq!(id.claims["nonce"], authz.get("nonce").unwrap());
    }

    async fn tampered_access_token_fails_the_independent_signature_check() {
        // Guards the check above: it must be able to fail.
        let (server, email) = server_with_user().await;
        let (authz, code) = fresh_code(&server, &POST, &email).await;
        let (_, body) = exchange(&server, &authz, &code).await;
        let token = body["id_token"].as_str().unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut claims = Jwt::decode(token).claims;
        claims["sub"] = "someone-else".into();
        parts[1] = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            claims.to_string(),
        );
        let forged = Jwt::decode(&parts.join("."));
        assert_eq!(
            forged.header["alg"], "ES256",
            "POST asks for ES256 ID tokens"
        );
        assert!(!forged.verifies_with(&jwks(&server).await));
    }

    async fn every_code_gives_distinct_tokens() {
        let (server, email) = server_with_user().await;
        let (a1, c1) = fresh_code(&server, &WEB, &email).await;
        let (a2, c2) = fresh_code(&server, &WEB, &email).await;
        assert_ne!(c1, c2);
        let (_, t1) = exchange(&server, &a1, &c1).await;
        let (_, t2) = exchange(&server, &a2, &c2).await;
        let j1 = Jwt::decode(t1["access_token"].as_str().unwrap());
        let j2 = Jwt::decode(t2["access_token"].as_str().unwrap());
        assert_ne!(j1.claims["jti"], j2.claims["jti"], "jti is unique");
        assert_eq!(j1.claims["sub"], j2.claims["sub"], "same user, same sub");
    }
}
