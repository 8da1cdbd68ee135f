//! Dynamic Client Registration (RFC 7591): who may register, which metadata is refused and
//! with which code, that a registered client works like a configured one (with `openidconnect`
//! registering and signing in as the relying party; PAR, refresh, introspection, revocation,
//! logout) and that discovery lists the endpoint only when enabled. RFC 7592 management and
//! the two-node test are in `management`.

use crate::grants::client_post;
use crate::support::{
    Authz, PASSWORD, Reply, assert_error_page, assert_oauth_error, code_from, exchange, get, http,
    sign_in,
};
use kunci::config::Config;
use kunci_core::ErrorCode;
use kunci_core::secret::sha256_hex;
use kunci_testkit::browser::Landing;
use kunci_testkit::{Backends, Browser, TestClient, TestServer};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientRegistrationRequest, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRegisterErrorResponseType,
};
use openidconnect::registration::{ClientRegistrationError, EmptyAdditionalClientMetadata};
use openidconnect::{
    AccessToken, AuthorizationCode, ClientId, ClientName, ClientSecret, CsrfToken, IssuerUrl,
    LogoUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use serde_json::{Value, json};

mod management;

const INITIAL_TOKEN: &str = "initial-access-token-0123456789abcdef";
const EMAIL: &str = "ayu@example.com";

/// Registration on, with the test's initial access token, public clients and every grant.
fn enable(c: &mut Config) {
    c.registration.enabled = true;
    c.registration.initial_access_tokens =
        vec![format!("sha256:{}", sha256_hex(INITIAL_TOKEN.as_bytes()))];
    c.registration.allow_public_clients = true;
    c.registration.grant_types = vec![
        "authorization_code".into(),
        "refresh_token".into(),
        "client_credentials".into(),
    ];
}

async fn server() -> TestServer {
    let server = TestServer::start_with(Backends::current(), enable).await;
    server.add_user(EMAIL, "Ayu Lestari", PASSWORD, true).await;
    server
}

/// `POST /register` with a JSON body and, if given, `Authorization: Bearer token`.
async fn register_with(server: &TestServer, token: Option<&str>, body: &Value) -> Reply {
    let mut req = http().post(server.url("/connect/register")).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Reply::read(req.send().await.expect("POST /register")).await
}

/// Registers `body` with the initial access token; expects 201 and returns the response.
async fn register(server: &TestServer, body: Value) -> Value {
    let reply = register_with(server, Some(INITIAL_TOKEN), &body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    reply.json()
}

/// A method on the client configuration endpoint (RFC 7592) with a Bearer token.
async fn manage(method: reqwest::Method, uri: &str, token: &str, body: Option<&Value>) -> Reply {
    let mut req = http().request(method, uri).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    Reply::read(req.send().await.expect("client configuration endpoint")).await
}

fn leak(s: &str) -> &'static str {
    s.to_owned().leak()
}

/// The registered client as the test helpers know clients.
fn test_client(info: &Value) -> TestClient {
    TestClient {
        id: leak(info["client_id"].as_str().unwrap()),
        secret: info["client_secret"].as_str().map(leak),
        redirect_uri: leak(info["redirect_uris"][0].as_str().unwrap()),
    }
}

fn unique_redirect(name: &str) -> String {
    format!(
        "http://127.0.0.1:1/{name}/{}/cb",
        kunci_core::secret::random_token()
    )
}

fn assert_invalid_token(reply: &Reply) {
    assert_oauth_error(reply.status, &reply.json(), ErrorCode::InvalidToken);
    assert!(
        reply
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer ") && h.contains("invalid_token")),
        "{:?}",
        reply.header("www-authenticate")
    );
}

kunci_testkit::on_every_backend! {
    async fn registering_needs_a_valid_initial_access_token() {
        let server = server().await;
        let body = json!({"redirect_uris": [unique_redirect("rp")]});
        assert_invalid_token(&register_with(&server, None, &body).await);
        assert_invalid_token(&register_with(&server, Some("not-the-token"), &body).await);
        let basic = http()
            .post(server.url("/connect/register"))
            .basic_auth("x", Some(INITIAL_TOKEN))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_invalid_token(&Reply::read(basic).await);
    }

    async fn invalid_metadata_is_refused_with_the_rfc_7591_codes() {
        let server = server().await;
        let ok_uri = unique_redirect("rp");
        let cases = [
            (
                json!({"redirect_uris": ["http://rp.example/cb"]}),
                ErrorCode::InvalidRedirectUri,
            ),
            (
                json!({"redirect_uris": ["https://rp.example/cb#x"]}),
                ErrorCode::InvalidRedirectUri,
            ),
            (
                json!({"grant_types": ["authorization_code"]}),
                ErrorCode::InvalidRedirectUri,
            ),
            (
                json!({"redirect_uris": [ok_uri], "grant_types": ["password"]}),
                ErrorCode::InvalidClientMetadata,
            ),
            (
                json!({
                    "redirect_uris": [ok_uri],
                    "grant_types": ["implicit"],
                    "response_types": ["token"],
                }),
                ErrorCode::InvalidClientMetadata,
            ),
            (
                json!({
                    "redirect_uris": [ok_uri],
                    "token_endpoint_auth_method": "client_secret_jwt",
                }),
                ErrorCode::InvalidClientMetadata,
            ),
            (
                json!({"redirect_uris": [ok_uri], "token_endpoint_auth_method": "private_key_jwt"}),
                ErrorCode::InvalidClientMetadata,
            ),
            (
                json!({"redirect_uris": [ok_uri], "scope": "openid admin"}),
                ErrorCode::InvalidClientMetadata,
            ),
            (
                json!({"redirect_uris": [ok_uri], "subject_type": "pairwise"}),
                ErrorCode::InvalidClientMetadata,
            ),
            (
                json!({"redirect_uris": [ok_uri], "id_token_signed_response_alg": "none"}),
                ErrorCode::InvalidClientMetadata,
            ),
            (
                json!({"redirect_uris": ok_uri}),
                ErrorCode::InvalidClientMetadata,
            ),
            (
                json!(["not", "an", "object"]),
                ErrorCode::InvalidClientMetadata,
            ),
        ];
        for (body, code) in cases {
            let reply = register_with(&server, Some(INITIAL_TOKEN), &body).await;
            assert_oauth_error(reply.status, &reply.json(), code);
        }
    }

    /// Kunci itself calls a registered client's `jwks_uri` (GET) and `backchannel_logout_uri`
    /// (POST), from inside the operator's network: whoever holds an initial access token must
    /// not aim those requests at Kunci's own host or at private, link-local (cloud metadata)
    /// or other internal addresses. Redirect URIs, which only the user's browser follows, may
    /// still use loopback.
    async fn uris_kunci_calls_may_not_point_at_internal_addresses() {
        let server = server().await;
        let ok_uri = unique_redirect("rp");
        let internal = [
            "http://127.0.0.1:6379/",
            "https://127.0.0.1/keys",
            "https://localhost/keys",
            "https://[::1]/keys",
            "https://10.0.0.5/keys",
            "https://172.16.3.4/keys",
            "https://192.168.1.1/keys",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.64.0.1/keys",
            "https://0.0.0.0/keys",
            "https://[fd00::1]/keys",
            "https://[fe80::1]/keys",
            "https://[::ffff:10.0.0.1]/keys",
        ];
        for uri in internal {
            let keys = json!({
                "redirect_uris": [ok_uri],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks_uri": uri,
            });
            let reply = register_with(&server, Some(INITIAL_TOKEN), &keys).await;
            assert_oauth_error(reply.status, &reply.json(), ErrorCode::InvalidClientMetadata);
            let logout = json!({"redirect_uris": [ok_uri], "backchannel_logout_uri": uri});
            let reply = register_with(&server, Some(INITIAL_TOKEN), &logout).await;
            assert_oauth_error(reply.status, &reply.json(), ErrorCode::InvalidClientMetadata);
        }
        register(
            &server,
            json!({
                "redirect_uris": ["http://127.0.0.1:9/cb"],
                "token_endpoint_auth_method": "private_key_jwt",
                "jwks_uri": "https://keys.rp.example/jwks",
                "backchannel_logout_uri": "https://rp.example/logout",
            }),
        )
        .await;
    }

    async fn a_client_registered_by_openidconnect_signs_in_with_it() {
        let server = server().await;
        let redirect_uri = unique_redirect("shop");
        let http = http();
        let metadata = CoreProviderMetadata::discover_async(
            IssuerUrl::new(server.issuer.clone()).unwrap(),
            &http,
        )
        .await
        .expect("discovery");
        let endpoint = metadata
            .registration_endpoint()
            .expect("registration_endpoint")
            .clone();
        let request = CoreClientRegistrationRequest::new(
            vec![RedirectUrl::new(redirect_uri.clone()).unwrap()],
            EmptyAdditionalClientMetadata::default(),
        )
        .set_client_name(Some(ClientName::new("Toko Daring".into()).into()))
        .set_logo_uri(Some(
            LogoUrl::new("https://shop.example/logo.png".into())
                .unwrap()
                .into(),
        ))
        .set_id_token_signed_response_alg(Some(CoreJwsSigningAlgorithm::EcdsaP256Sha256));

        // Its own error handling reads our RFC 7591 §3.2.2 errors.
        let refused = request
            .clone()
            .set_redirect_uris(vec![
                RedirectUrl::new("http://rp.example/cb".into()).unwrap(),
            ])
            .set_initial_access_token(Some(AccessToken::new(INITIAL_TOKEN.into())))
            .register_async(&endpoint, &http)
            .await;
        match refused {
            Err(ClientRegistrationError::ServerResponse(e)) => {
                assert_eq!(
                    *e.error(),
                    CoreRegisterErrorResponseType::InvalidRedirectUri
                );
            }
            other => panic!("expected invalid_redirect_uri, got {other:?}"),
        }

        let registered = request
            .set_initial_access_token(Some(AccessToken::new(INITIAL_TOKEN.into())))
            .register_async(&endpoint, &http)
            .await
            .expect("openidconnect accepts the registration response");
        // RFC 7591 §3.2.1: the server's fields.
        let client_id = registered.client_id().as_str().to_owned();
        let secret = registered
            .client_secret()
            .expect("a secret for client_secret_basic");
        let secret = secret.secret().clone();
        assert!(secret.len() >= 43, "high-entropy secret");
        assert_eq!(
            registered.client_secret_expires_at().map(|t| t.timestamp()),
            Some(0)
        );
        assert!(
            registered
                .client_id_issued_at()
                .is_some_and(|t| t.timestamp() > 1_700_000_000)
        );
        let uri = registered
            .registration_client_uri()
            .expect("registration_client_uri");
        assert_eq!(uri.as_str(), server.url(&format!("/connect/register/{client_id}")));
        let token = registered
            .registration_access_token()
            .expect("registration_access_token");
        assert!(token.secret().len() >= 43);
        assert_eq!(
            registered
                .client_name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str()),
            Some("Toko Daring")
        );
        assert!(
            registered.logo_uri().is_none(),
            "unknown metadata is ignored (§2)"
        );
        // The defaults filled in, as the raw JSON shows them.
        let info = manage(reqwest::Method::GET, uri.as_str(), token.secret(), None)
            .await
            .json();
        assert_eq!(info["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(info["grant_types"], json!(["authorization_code"]));
        assert_eq!(info["response_types"], json!(["code"]));
        assert_eq!(info["scope"], "openid profile email");
        assert_eq!(info["id_token_signed_response_alg"], "ES256");

        let rp = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(client_id.clone()),
            Some(ClientSecret::new(secret.clone())),
        )
        .set_redirect_uri(RedirectUrl::new(redirect_uri.clone()).unwrap());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (auth_url, state, nonce) = rp
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        let browser = Browser::new(&server.issuer);
        let (_, _, login) = browser.open(auth_url.as_str()).await.page();
        let (_, _, consent) = browser.sign_in(&login, EMAIL, PASSWORD).await.page();
        assert!(
            consent.contains("Toko Daring"),
            "consent names the registered client:\n{consent}"
        );
        let redirect = browser.consent(&consent, true, false).await.left();
        assert!(redirect.as_str().starts_with(&redirect_uri));
        assert_eq!(
            Landing::param(&redirect, "state").as_deref(),
            Some(state.secret().as_str())
        );
        let code = Landing::param(&redirect, "code").expect("code");
        let tokens = rp
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .expect("the registered client redeems its code");
        let verifier = rp
            .id_token_verifier()
            .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
        let claims = tokens
            .id_token()
            .expect("ID token")
            .claims(&verifier, &nonce)
            .expect("ID token verifies");
        let info: openidconnect::core::CoreUserInfoClaims = rp
            .user_info(tokens.access_token().clone(), None)
            .unwrap()
            .request_async(&http)
            .await
            .expect("userinfo");
        assert_eq!(info.subject(), claims.subject());
        assert_eq!(info.email().map(|e| e.as_str()), Some(EMAIL));

        // Introspection and revocation authenticate the registered client too.
        let client = test_client(&json!({
            "client_id": client_id,
            "client_secret": secret,
            "redirect_uris": [redirect_uri],
        }));
        let token = tokens.access_token().secret().as_str();
        let intro = client_post(&server, "/introspect", Some(&client), &[("token", token)]).await;
        assert_eq!(intro.body["active"], true, "{}", intro.body);
        let revoked = client_post(&server, "/revoke", Some(&client), &[("token", token)]).await;
        assert_eq!(revoked.status, 200);
    }

    async fn a_registered_public_client_signs_in_with_pkce_and_refreshes() {
        let server = server().await;
        let info = register(
            &server,
            json!({
                "redirect_uris": [unique_redirect("spa")],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
            }),
        )
        .await;
        assert!(
            info.get("client_secret").is_none(),
            "public clients get no secret"
        );
        assert!(info.get("client_secret_expires_at").is_none());
        assert_eq!(info["scope"], "openid profile email offline_access");
        let client = test_client(&info);
        let authz = Authz::new(&client).set("scope", "openid offline_access");
        let redirect = sign_in(&server, &Browser::new(&server.issuer), &authz, EMAIL).await;
        let (status, tokens) =
            exchange(&server, &authz, &code_from(&server, &authz, &redirect)).await;
        assert_eq!(status, 200, "{tokens}");
        let refresh = tokens["refresh_token"].as_str().expect("a refresh token");
        let refreshed = client_post(
            &server,
            "/token",
            Some(&client),
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
        assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    }

    async fn a_registered_client_pushes_its_requests_and_logs_out() {
        let server = server().await;
        let redirect_uri = unique_redirect("par");
        let after = redirect_uri.replace("/cb", "/bye");
        let info = register(
            &server,
            json!({
                "redirect_uris": [redirect_uri],
                "post_logout_redirect_uris": [after],
                "require_pushed_authorization_requests": true,
            }),
        )
        .await;
        let client = test_client(&info);
        let authz = Authz::new(&client);
        // RFC 9126 §6: a direct request is refused; a pushed one signs in.
        assert_error_page(
            &get(&authz.url(&server)).await,
            400,
            Some(ErrorCode::InvalidRequest),
        );
        let mut form = authz.params.clone();
        form.retain(|(k, _)| k != "client_id");
        let pushed = http()
            .post(server.url("/par"))
            .basic_auth(client.id, client.secret)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(pushed.status(), 201);
        let pushed: Value = pushed.json().await.unwrap();
        let query = serde_urlencoded::to_string([
            ("client_id", client.id),
            ("request_uri", pushed["request_uri"].as_str().unwrap()),
        ])
        .unwrap();
        let browser = Browser::new(&server.issuer);
        let (_, _, login) = browser
            .open(&server.url(&format!("/authorize?{query}")))
            .await
            .page();
        let landing = browser.sign_in(&login, EMAIL, PASSWORD).await;
        let redirect = crate::support::finish_consent(&browser, landing).await;
        let (status, tokens) =
            exchange(&server, &authz, &code_from(&server, &authz, &redirect)).await;
        assert_eq!(status, 200, "{tokens}");

        // RP-Initiated Logout names the registered client by its ID token.
        let hint = tokens["id_token"].as_str().unwrap();
        let logout = |uri: &str| {
            server.url(&format!(
                "/logout?{}",
                serde_urlencoded::to_string([
                    ("id_token_hint", hint),
                    ("post_logout_redirect_uri", uri),
                    ("state", "s-1"),
                ])
                .unwrap()
            ))
        };
        assert_error_page(
            &get(&logout("https://elsewhere.example/bye")).await,
            400,
            Some(ErrorCode::InvalidRequest),
        );
        let (_, _, page) = browser.open(&logout(&after)).await.page();
        let back = crate::logout::confirm(&browser, &page).await.left();
        assert!(back.as_str().starts_with(&after), "{back}");
        assert_eq!(Landing::param(&back, "state").as_deref(), Some("s-1"));
    }

    async fn discovery_lists_the_registration_endpoint_only_when_enabled() {
        let plain = TestServer::start().await;
        let doc = get(&plain.url("/.well-known/openid-configuration"))
            .await
            .json();
        assert!(doc.get("registration_endpoint").is_none(), "{doc}");
        let off = register_with(
            &plain,
            Some(INITIAL_TOKEN),
            &json!({"redirect_uris": ["https://rp.example/cb"]}),
        )
        .await;
        assert_eq!(off.status, 404, "registration is off by default");

        let server = server().await;
        let doc = get(&server.url("/.well-known/openid-configuration"))
            .await
            .json();
        assert_eq!(doc["registration_endpoint"], server.url("/connect/register"));
        let methods = doc["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap();
        for m in [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ] {
            assert!(methods.contains(&json!(m)), "{m} in {methods:?}");
        }
        assert!(
            doc["grant_types_supported"]
                .as_array()
                .unwrap()
                .contains(&json!("client_credentials"))
        );
        // RFC 7591 §3.1: a registration request is JSON; a form is refused as a bad request.
        let form = http()
            .post(server.url("/connect/register"))
            .form(&[("redirect_uris", "https://x.example/cb")])
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 400);
        let body: Value = form.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{body}");
        // The people's sign-up page at /register is untouched by registration being on.
        let page = http().get(server.url("/register")).send().await.unwrap();
        assert_eq!(page.status(), 200);
    }
}
