//! The whole authorization code + PKCE flow, with the `openidconnect` crate as the relying party:
//! discovery, authorization URL, sign-in and consent pages, code exchange, ID token signature and
//! claims, at_hash, userinfo.

use crate::support::{PASSWORD, server_with_user};
use kunci_testkit::browser::Landing;
use kunci_testkit::server::{SPA, WEB};
use kunci_testkit::{Browser, TestClient};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthenticationMethodReference, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope,
    TokenResponse,
};

fn rp_http() -> reqwest::Client {
    // An RP must not follow redirects from the token or userinfo endpoints (SSRF hygiene).
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client")
}

async fn full_flow(client: &TestClient, alg: CoreJwsSigningAlgorithm) {
    let (server, email) = server_with_user().await;
    let http = rp_http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer.clone()).unwrap(), &http)
            .await
            .expect("discovery document is accepted by openidconnect");
    let rp = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client.id.into()),
        client.secret.map(|s| ClientSecret::new(s.into())),
    )
    .set_redirect_uri(RedirectUrl::new(client.redirect_uri.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = Browser::new(&server.issuer);
    let (status, _, login_page) = browser.open(auth_url.as_str()).await.page();
    assert_eq!(status, 200);
    assert!(
        login_page.contains("login-form"),
        "the sign-in page is shown:\n{login_page}"
    );
    let (_, _, consent_page) = browser.sign_in(&login_page, &email, PASSWORD).await.page();
    assert!(
        consent_page.contains(&format!("Test app {}", client.id)),
        "consent names the client"
    );
    let redirect = browser.consent(&consent_page, true, true).await.left();

    assert!(redirect.as_str().starts_with(client.redirect_uri));
    assert_eq!(
        Landing::param(&redirect, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(
        Landing::param(&redirect, "iss").as_deref(),
        Some(server.issuer.as_str()),
        "RFC 9207 iss"
    );
    let code = Landing::param(&redirect, "code").expect("code");

    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange succeeds");
    let id_token = tokens.id_token().expect("an ID token for the openid scope");
    let id_verifier = rp.id_token_verifier().set_allowed_algs(vec![alg.clone()]);
    let claims = id_token
        .claims(&id_verifier, &nonce)
        .expect("ID token signature, iss, aud, exp and nonce verify");
    assert_eq!(*id_token.signing_alg().unwrap(), alg);
    let expected_hash = claims.access_token_hash().expect("at_hash present");
    let actual_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(
        &actual_hash, expected_hash,
        "at_hash matches the access token"
    );
    assert!(claims.auth_time().is_some(), "auth_time present");
    assert_eq!(
        claims.auth_method_refs().map(|v| v.to_vec()),
        Some(vec![AuthenticationMethodReference::new("pwd".into())])
    );
    assert!(
        claims.email().is_none(),
        "profile claims come from userinfo, not the ID token"
    );

    let info: CoreUserInfoClaims = rp
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo answers");
    assert_eq!(
        info.subject(),
        claims.subject(),
        "userinfo sub equals ID token sub"
    );
    assert_eq!(info.email().map(|e| e.as_str()), Some(email.as_str()));
    assert_eq!(info.email_verified(), Some(true));
    assert_eq!(
        info.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
        Some("Ayu Lestari")
    );
}

kunci_testkit::on_every_backend! {
    async fn confidential_client_signs_in_with_rs256_id_token() {
        full_flow(&WEB, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256).await;
    }

    async fn public_client_signs_in_with_pkce_and_es256_id_token() {
        full_flow(&SPA, CoreJwsSigningAlgorithm::EcdsaP256Sha256).await;
    }
}
