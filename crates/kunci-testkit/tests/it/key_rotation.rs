//! Signing keys over HTTP: a rotation is published before it signs, the old key signs until
//! the overlap ends and verifies its tokens until they expire, then leaves the JWKS (ADR 0006);
//! EdDSA and PS256 ID tokens satisfy an independent relying party (`openidconnect`); and
//! tokens with `alg` none or HS256 keyed with our public key are refused.

use crate::jwt::{Jwt, jwks, unsigned};
use crate::support::{PASSWORD, finish_consent, fresh_tokens, http, userinfo};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use kunci::app;
use kunci::config::{Config, KeyStorage};
use kunci_core::jose::Alg;
use kunci_core::{Clock, ErrorCode, ManualClock};
use kunci_testkit::browser::Landing;
use kunci_testkit::server::FIRST;
use kunci_testkit::{Backends, Browser, TestServer};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, TokenResponse,
};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

const EMAIL: &str = "ayu@example.com";
const T0: i64 = 1_700_000_000;
/// `kunci keys rotate`'s default overlap.
const OVERLAP: i64 = 600;
/// Longest token lifetime (600 s by default) plus the 60 s margin.
const RETENTION: i64 = 660;
const MASTER_KEY: &str = "/cbTbbVU0lkEujGDPIJ9I8YHHE2l97TDiJtVBg1rwEI=";

fn kids(jwks: &Value) -> BTreeSet<String> {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

/// The access token of a fresh sign-in (ES256 by default), decoded, with the raw token.
async fn access_token(server: &TestServer) -> (String, Jwt) {
    let tokens = fresh_tokens(server, &FIRST, EMAIL).await;
    let raw = tokens["access_token"].as_str().expect("access_token");
    (raw.to_owned(), Jwt::decode(raw))
}

fn assert_invalid_token(server_reply: &crate::support::Reply) {
    crate::support::assert_oauth_error(
        server_reply.status,
        &server_reply.json(),
        ErrorCode::InvalidToken,
    );
}

/// The whole lifecycle of one rotation, on the storage `tweak` selects.
async fn a_rotation_overlaps_hands_over_and_retires(tweak: fn(&mut Config)) {
    let clock = Arc::new(ManualClock::new(T0));
    let server = TestServer::start_full(Backends::current(), clock.clone(), tweak).await;
    server.add_user(EMAIL, "Ayu Lestari", PASSWORD, true).await;
    let (_, first) = access_token(&server).await;
    let old_kid = first.header["kid"].as_str().unwrap().to_owned();
    assert_eq!(first.header["alg"], "ES256");

    let rotation = server
        .kunci
        .key_source
        .rotate(Alg::ES256, OVERLAP as u64, clock.now())
        .await
        .expect("kunci keys rotate");
    assert!(
        !kids(&jwks(&server).await).contains(&rotation.kid),
        "nodes publish a new key when they reload, not before"
    );
    assert!(app::reload_keys(&server.kunci).await.unwrap());

    // During the overlap both keys are published, and the old one still signs.
    let published = jwks(&server).await;
    assert!(kids(&published).contains(&rotation.kid) && kids(&published).contains(&old_kid));
    clock.advance(OVERLAP - 1);
    let (old_token, last_old) = access_token(&server).await;
    assert_eq!(last_old.header["kid"], old_kid.as_str());
    assert!(last_old.verifies_with(&published));

    // From `activates_at` on, the new key signs; the JWKS relying parties cached during the
    // overlap already has it.
    clock.advance(1);
    let (_, first_new) = access_token(&server).await;
    assert_eq!(first_new.header["kid"], rotation.kid.as_str());
    assert!(first_new.verifies_with(&published));

    // Tokens the old key signed keep working until they expire.
    assert!(!app::reload_keys(&server.kunci).await.unwrap(), "no change");
    clock.advance(OVERLAP - 2);
    assert_eq!(userinfo(&server, &old_token).await.status, 200);
    clock.advance(1);
    assert_invalid_token(&userinfo(&server, &old_token).await);

    // Retired at T0 + OVERLAP, the old key stays published for the retention period.
    clock.advance(T0 + OVERLAP + RETENTION - 1 - clock.now());
    app::reload_keys(&server.kunci).await.unwrap();
    assert!(kids(&jwks(&server).await).contains(&old_kid));
    clock.advance(1);
    assert!(app::reload_keys(&server.kunci).await.unwrap());
    let after = jwks(&server).await;
    assert!(
        !kids(&after).contains(&old_kid),
        "the old key left the JWKS"
    );
    assert!(kids(&after).contains(&rotation.kid));
    let (fresh, _) = access_token(&server).await;
    assert_eq!(userinfo(&server, &fresh).await.status, 200);
    assert_eq!(
        server
            .kunci
            .key_source
            .prune(&server.kunci.key_policy, clock.now())
            .await
            .unwrap(),
        1,
        "and may be deleted"
    );
}

fn database_keys(c: &mut Config) {
    c.keys.storage = KeyStorage::Database;
    c.keys.master_key = MASTER_KEY.into();
}

kunci_testkit::on_every_backend! {
    async fn a_rotation_with_keys_in_files_overlaps_hands_over_and_retires() {
        a_rotation_overlaps_hands_over_and_retires(|_| {}).await;
    }

    async fn a_rotation_with_keys_in_the_database_overlaps_hands_over_and_retires() {
        a_rotation_overlaps_hands_over_and_retires(database_keys).await;
    }
}

/// A server with every algorithm enabled and FIRST's ID tokens signed with `alg`.
async fn server_signing_id_tokens_with(alg: &'static str) -> TestServer {
    let server = TestServer::start_with(Backends::current(), move |c| {
        c.keys.algorithms = ["RS256", "ES256", "EdDSA", "PS256"]
            .map(String::from)
            .to_vec();
        c.tokens.access_token_alg = "PS256".into();
        for client in c.clients.iter_mut().filter(|c| c.client_id == FIRST.id) {
            client.id_token_signed_response_alg = alg.into();
        }
    })
    .await;
    server.add_user(EMAIL, "Ayu Lestari", PASSWORD, true).await;
    server
}

/// The code flow with `openidconnect` as the relying party, allowing only `alg`.
async fn id_token_verifies_with_openidconnect(server: &TestServer, alg: CoreJwsSigningAlgorithm) {
    let rp_http = http();
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(server.issuer.clone()).unwrap(),
        &rp_http,
    )
    .await
    .expect("discovery");
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(FIRST.id.into()),
        FIRST.secret.map(|s| ClientSecret::new(s.into())),
    )
    .set_redirect_uri(RedirectUrl::new(FIRST.redirect_uri.into()).unwrap());
    let (challenge, pkce) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let browser = Browser::new(&server.issuer);
    let (_, _, page) = browser.open(auth_url.as_str()).await.page();
    let redirect = finish_consent(&browser, browser.sign_in(&page, EMAIL, PASSWORD).await).await;
    let code = Landing::param(&redirect, "code").expect("code");
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(pkce)
        .request_async(&rp_http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("ID token");
    let verifier = rp.id_token_verifier().set_allowed_algs(vec![alg.clone()]);
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("signature, iss, aud, exp and nonce verify");
    assert_eq!(*id_token.signing_alg().unwrap(), alg);
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(
        Some(&at_hash),
        claims.access_token_hash(),
        "at_hash uses the hash of the ID token's algorithm"
    );
    let rs256_only = rp
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]);
    assert!(
        id_token.claims(&rs256_only, &nonce).is_err(),
        "an RP allowing only RS256 refuses it: the header names the real algorithm"
    );

    // The PS256 access token works at /userinfo as signed, not relabelled RS256.
    let at = tokens.access_token().secret();
    assert_eq!(Jwt::decode(at).header["alg"], "PS256");
    assert_eq!(userinfo(server, at).await.status, 200);
    let (h, rest) = at.split_once('.').unwrap();
    let mut header: Value = serde_json::from_slice(&B64.decode(h).unwrap()).unwrap();
    header["alg"] = "RS256".into();
    let relabelled = format!("{}.{rest}", B64.encode(header.to_string()));
    assert_invalid_token(&userinfo(server, &relabelled).await);
}

#[tokio::test]
async fn an_eddsa_id_token_verifies_at_an_independent_relying_party() {
    let server = server_signing_id_tokens_with("EdDSA").await;
    id_token_verifies_with_openidconnect(&server, CoreJwsSigningAlgorithm::EdDsa).await;
}

#[tokio::test]
async fn a_ps256_id_token_verifies_at_an_independent_relying_party() {
    let server = server_signing_id_tokens_with("PS256").await;
    id_token_verifies_with_openidconnect(&server, CoreJwsSigningAlgorithm::RsaSsaPssSha256).await;
}

#[tokio::test]
async fn discovery_and_the_jwks_list_exactly_the_enabled_algorithms() {
    let algs_of = |doc: &Value, key: &str| -> BTreeSet<String> {
        doc[key]
            .as_array()
            .expect(key)
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect()
    };
    for (server, expected) in [
        (TestServer::start().await, vec!["ES256", "RS256"]),
        (
            server_signing_id_tokens_with("EdDSA").await,
            vec!["ES256", "EdDSA", "PS256", "RS256"],
        ),
    ] {
        let doc: Value = http()
            .get(server.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let expected: BTreeSet<String> = expected.into_iter().map(String::from).collect();
        assert_eq!(
            algs_of(&doc, "id_token_signing_alg_values_supported"),
            expected
        );
        let published: BTreeSet<String> = jwks(&server).await["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["alg"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(published, expected);
    }
}

/// RFC 8725 §2.1 and §3.1: the verification algorithm comes from our key, never from the
/// token, so neither `none` nor an HMAC keyed with our published RSA key gets in.
#[tokio::test]
async fn alg_none_and_hs256_keyed_with_our_public_key_are_refused_at_userinfo() {
    let server = TestServer::start().await;
    server.add_user(EMAIL, "Ayu Lestari", PASSWORD, true).await;
    let (real, claims) = access_token(&server).await;
    assert_eq!(userinfo(&server, &real).await.status, 200);
    let published = jwks(&server).await;
    let rsa = published["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kty"] == "RSA")
        .expect("an RSA key")
        .clone();

    let none = json!({"alg": "none", "typ": "at+jwt", "kid": rsa["kid"]});
    for sig in [&b""[..], b"x"] {
        assert_invalid_token(&userinfo(&server, &unsigned(&none, &claims.claims, sig)).await);
    }

    let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": rsa["kid"]});
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.claims.to_string())
    );
    let n = B64.decode(rsa["n"].as_str().unwrap()).unwrap();
    for secret in [
        rsa.to_string().into_bytes(),
        published.to_string().into_bytes(),
        n,
        rsa["n"].as_str().unwrap().as_bytes().to_vec(),
    ] {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret);
        let mac = ring::hmac::sign(&key, input.as_bytes());
        let forged = format!("{input}.{}", B64.encode(mac.as_ref()));
        assert_invalid_token(&userinfo(&server, &forged).await);
    }
}
