//! DPoP (RFC 9449): proofs at `/token` bind access tokens (`cnf.jkt`, `token_type: DPoP`) and a
//! public client's refresh tokens to the client's key; `dpop_jkt` and proofs at `/par` bind
//! codes; `/userinfo` takes a bound token only with the DPoP scheme and a proof covering it;
//! proofs are single-use; server nonces when the operator asks for them. Proofs are built here
//! with ring alone, independently of Kunci's JOSE code.

use crate::client_jwt::{Key, now};
use crate::grants::{Answer, offline_tokens, str_of};
use crate::jwt::Jwt;
use crate::support::{
    Authz, PASSWORD, Reply, assert_oauth_error, assert_redirect_error, code_from, fresh_code, http,
    server_with_user, sign_in,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use kunci_core::ErrorCode;
use kunci_core::secret::random_token;
use kunci_testkit::server::{APP, OFFLINE, SERVICE, WEB};
use kunci_testkit::{Backends, Browser, TestClient, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A client's DPoP key pair and the proofs it signs.
pub struct Holder {
    key: Key,
}

impl Holder {
    pub fn new() -> Self {
        Self { key: Key::es256() }
    }

    /// The public key as it goes into the proof's header.
    fn jwk(&self) -> Value {
        let mut jwk = self.key.jwk("dpop");
        let o = jwk.as_object_mut().unwrap();
        o.remove("kid");
        o.remove("use");
        jwk
    }

    /// RFC 7638 §3: SHA-256 over the required members in lexicographic order.
    pub fn jkt(&self) -> String {
        let j = self.jwk();
        let canonical = format!(
            r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
            j["crv"].as_str().unwrap(),
            j["kty"].as_str().unwrap(),
            j["x"].as_str().unwrap(),
            j["y"].as_str().unwrap()
        );
        B64.encode(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref())
    }

    /// A fresh proof for `method url`, with `extra` claims merged over the defaults.
    pub fn proof_with(&self, method: &str, url: &str, extra: Value) -> String {
        let mut claims = json!({"jti": random_token(), "htm": method, "htu": url, "iat": now()});
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        self.key
            .sign(json!({"typ": "dpop+jwt", "jwk": self.jwk()}), &claims)
    }

    pub fn proof(&self, method: &str, url: &str) -> String {
        self.proof_with(method, url, json!({}))
    }

    /// A proof for a resource request presenting `token` (`ath`, RFC 9449 §4.2).
    pub fn proof_for(&self, method: &str, url: &str, token: &str) -> String {
        self.proof_with(method, url, json!({ "ath": ath(token) }))
    }
}

fn ath(token: &str) -> String {
    B64.encode(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref())
}

/// POSTs `fields` to `path` as `client` (its registered authentication), with these `DPoP`
/// headers.
pub async fn post_with_proofs(
    server: &TestServer,
    path: &str,
    client: &TestClient,
    fields: &[(&str, &str)],
    proofs: &[&str],
) -> Answer {
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    let mut req = http().post(server.url(path));
    match (client.id, client.secret) {
        (id, Some(secret)) => req = req.basic_auth(id, Some(secret)),
        (id, None) => form.push(("client_id", id)),
    }
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    let resp = req.form(&form).send().await.expect("POST");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

async fn token_with_proof(
    server: &TestServer,
    client: &TestClient,
    fields: &[(&str, &str)],
    proof: Option<&str>,
) -> Answer {
    let proofs: Vec<&str> = proof.into_iter().collect();
    post_with_proofs(server, "/token", client, fields, &proofs).await
}

/// The code exchange of `authz`, with an optional proof.
async fn exchange_with_proof(
    server: &TestServer,
    authz: &Authz,
    code: &str,
    proof: Option<&str>,
) -> Answer {
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", authz.client.redirect_uri),
        ("code_verifier", &authz.verifier),
    ];
    token_with_proof(server, &authz.client, &fields, proof).await
}

/// `/userinfo` with an `Authorization` header and these `DPoP` headers.
async fn userinfo_with(server: &TestServer, authorization: &str, proofs: &[&str]) -> Reply {
    let mut req = http()
        .get(server.url("/userinfo"))
        .header("Authorization", authorization);
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    Reply::read(req.send().await.expect("GET /userinfo")).await
}

/// A resource's RFC 6750 §3 / RFC 9449 §7.1 error: 401 and this scheme and code in the challenge.
fn assert_challenge(reply: &Reply, scheme: &str, code: ErrorCode) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with(&format!("{scheme} "))
            && challenge.contains(&format!(r#"error="{}""#, code.as_str())),
        "expected a {scheme} challenge with {code}: {challenge:?}"
    );
}

kunci_testkit::on_every_backend! {
    async fn a_proof_at_the_token_endpoint_binds_the_access_token_to_its_key() {
        let (server, email) = server_with_user().await;
        let discovery = crate::support::get(&server.url("/.well-known/openid-configuration"))
            .await
            .json();
        let algs = discovery["dpop_signing_alg_values_supported"].as_array().unwrap();
        assert!(algs.contains(&json!("ES256")) && !algs.iter().any(|a| a.as_str().unwrap().starts_with("HS")), "{discovery}");

        let holder = Holder::new();
        let (authz, code) = fresh_code(&server, &WEB, &email).await;
        let proof = holder.proof("POST", &server.url("/token"));
        let tokens = exchange_with_proof(&server, &authz, &code, Some(&proof)).await;
        assert_eq!(tokens.status, 200, "{}", tokens.body);
        assert_eq!(tokens.body["token_type"], "DPoP", "RFC 9449 §5: {}", tokens.body);
        let at = str_of(&tokens.body, "access_token");
        assert_eq!(Jwt::decode(at).claims["cnf"]["jkt"], holder.jkt(), "RFC 9449 §6.1");

        // §7.1: the bound token with the DPoP scheme and a proof covering it.
        let url = server.url("/userinfo");
        let ok = userinfo_with(&server, &format!("DPoP {at}"), &[&holder.proof_for("GET", &url, at)]).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert!(ok.json()["sub"].is_string(), "{}", ok.body);

        // §7.2: a bound token is not a bearer token.
        let bearer = userinfo_with(&server, &format!("Bearer {at}"), &[]).await;
        assert_challenge(&bearer, "Bearer", ErrorCode::InvalidToken);
        // The DPoP scheme without a proof, or with a proof that does not cover the token.
        let no_proof = userinfo_with(&server, &format!("DPoP {at}"), &[]).await;
        assert_challenge(&no_proof, "DPoP", ErrorCode::InvalidDpopProof);
        let no_ath = userinfo_with(&server, &format!("DPoP {at}"), &[&holder.proof("GET", &url)]).await;
        assert_challenge(&no_ath, "DPoP", ErrorCode::InvalidDpopProof);
        // A proof of another key.
        let thief = Holder::new();
        let stolen = userinfo_with(&server, &format!("DPoP {at}"), &[&thief.proof_for("GET", &url, at)]).await;
        assert_challenge(&stolen, "DPoP", ErrorCode::InvalidToken);
        // §11.1: a proof is used once.
        let once = holder.proof_for("GET", &url, at);
        assert_eq!(userinfo_with(&server, &format!("DPoP {at}"), &[&once]).await.status, 200);
        let again = userinfo_with(&server, &format!("DPoP {at}"), &[&once]).await;
        assert_challenge(&again, "DPoP", ErrorCode::InvalidDpopProof);

        // §6.2: introspection tells the resource server the key.
        let intro = crate::grants::introspect(&server, &WEB, at, None).await;
        assert_eq!(intro.body["active"], true, "{}", intro.body);
        assert_eq!(intro.body["token_type"], "DPoP");
        assert_eq!(intro.body["cnf"]["jkt"], holder.jkt());
    }

    async fn proofs_that_do_not_fit_the_request_are_refused() {
        let server = TestServer::start().await;
        let holder = Holder::new();
        let token_url = server.url("/token");
        let cc = [("grant_type", "client_credentials")];
        let bad = [
            ("another method", holder.proof("GET", &token_url)),
            ("another URL", holder.proof("POST", &server.url("/par"))),
            ("an old iat", holder.proof_with("POST", &token_url, json!({"iat": now() - 3600}))),
            ("an iat far ahead", holder.proof_with("POST", &token_url, json!({"iat": now() + 3600}))),
            ("no jti", holder.proof_with("POST", &token_url, json!({"jti": ""}))),
            ("not a JWT", "not-a-jwt".to_owned()),
            ("a stranger's signature", {
                let p = holder.proof("POST", &token_url);
                let other = Holder::new().proof("POST", &token_url);
                let sig = other.rsplit('.').next().unwrap().to_owned();
                format!("{}.{sig}", p.rsplit_once('.').unwrap().0)
            }),
        ];
        for (why, proof) in &bad {
            let a = token_with_proof(&server, &SERVICE, &cc, Some(proof)).await;
            assert_eq!(a.body["error"], "invalid_dpop_proof", "{why}: {}", a.body);
            assert_oauth_error(a.status, &a.body, ErrorCode::InvalidDpopProof);
        }
        // The wrong `typ`, and an HMAC "proof" keyed with anything: never a DPoP proof.
        let claims = json!({"jti": random_token(), "htm": "POST", "htu": token_url, "iat": now()});
        let wrong_typ = Key::es256().sign(json!({"typ": "JWT", "jwk": holder.jwk()}), &claims);
        let hmac = Key::Hs256(b"0123456789abcdef0123456789abcdef".to_vec())
            .sign(json!({"typ": "dpop+jwt", "jwk": holder.jwk()}), &claims);
        for proof in [wrong_typ, hmac] {
            let a = token_with_proof(&server, &SERVICE, &cc, Some(&proof)).await;
            assert_oauth_error(a.status, &a.body, ErrorCode::InvalidDpopProof);
        }
        // §4.3 item 7: a jwk carrying private key material is refused, whichever members: `d`,
        // or an RSA key's primes and CRT values.
        let rsa = crate::fapi2::RsaKey::new();
        for private in [json!({"d": "AQAB"}), json!({"p": "AQAB", "q": "AQAB"}), json!({"dp": "AQAB", "dq": "AQAB", "qi": "AQAB"})] {
            let mut jwk = rsa.jwk("dpop");
            for (k, v) in private.as_object().unwrap() {
                jwk[k] = v.clone();
            }
            let leaky = rsa.sign("PS256", json!({"typ": "dpop+jwt", "jwk": jwk}), &json!({"jti": random_token(), "htm": "POST", "htu": token_url, "iat": now()}));
            let a = token_with_proof(&server, &SERVICE, &cc, Some(&leaky)).await;
            assert_oauth_error(a.status, &a.body, ErrorCode::InvalidDpopProof);
        }
        // §4.3 item 1: one DPoP header.
        let (p1, p2) = (holder.proof("POST", &token_url), holder.proof("POST", &token_url));
        let two = post_with_proofs(&server, "/token", &SERVICE, &cc, &[&p1, &p2]).await;
        assert_oauth_error(two.status, &two.body, ErrorCode::InvalidDpopProof);
        // §11.1: the same proof twice.
        let proof = holder.proof("POST", &token_url);
        let first = token_with_proof(&server, &SERVICE, &cc, Some(&proof)).await;
        assert_eq!(first.status, 200, "{}", first.body);
        assert_eq!(first.body["token_type"], "DPoP");
        let replay = token_with_proof(&server, &SERVICE, &cc, Some(&proof)).await;
        assert_oauth_error(replay.status, &replay.body, ErrorCode::InvalidDpopProof);
    }

    async fn a_public_clients_refresh_tokens_are_bound_to_its_key() {
        let (server, email) = server_with_user().await;
        let holder = Holder::new();
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&APP).set("scope", "openid email offline_access");
        let redirect = sign_in(&server, &browser, &authz, &email).await;
        let code = code_from(&server, &authz, &redirect);
        let token_url = server.url("/token");
        let tokens = exchange_with_proof(&server, &authz, &code, Some(&holder.proof("POST", &token_url))).await;
        assert_eq!(tokens.status, 200, "{}", tokens.body);
        assert_eq!(tokens.body["token_type"], "DPoP");
        let rt = str_of(&tokens.body, "refresh_token").to_owned();
        // An opaque bound token works at /userinfo with its proof.
        let at = str_of(&tokens.body, "access_token");
        let url = server.url("/userinfo");
        let ok = userinfo_with(&server, &format!("DPoP {at}"), &[&holder.proof_for("GET", &url, at)]).await;
        assert_eq!(ok.status, 200, "{}", ok.body);

        let fields = [("grant_type", "refresh_token"), ("refresh_token", rt.as_str())];
        // RFC 9449 §5: without a proof, or with another key's, the token does not work...
        let none = token_with_proof(&server, &APP, &fields, None).await;
        assert_oauth_error(none.status, &none.body, ErrorCode::InvalidGrant);
        let other = Holder::new().proof("POST", &token_url);
        let stolen = token_with_proof(&server, &APP, &fields, Some(&other)).await;
        assert_oauth_error(stolen.status, &stolen.body, ErrorCode::InvalidGrant);
        // ...and those attempts revoked nothing: the holder of the key still refreshes.
        let fresh = token_with_proof(&server, &APP, &fields, Some(&holder.proof("POST", &token_url))).await;
        assert_eq!(fresh.status, 200, "{}", fresh.body);
        assert_eq!(fresh.body["token_type"], "DPoP");
        // The successor stays bound.
        let rt2 = str_of(&fresh.body, "refresh_token");
        let fields2 = [("grant_type", "refresh_token"), ("refresh_token", rt2)];
        let unbound = token_with_proof(&server, &APP, &fields2, None).await;
        assert_oauth_error(unbound.status, &unbound.body, ErrorCode::InvalidGrant);
    }

    /// RFC 9449 §5: a refresh token issued to a public client in answer to a DPoP request is
    /// bound to the key, even when the family began without one.
    async fn a_public_clients_unbound_family_is_bound_by_its_first_dpop_refresh() {
        let (server, email) = server_with_user().await;
        let holder = Holder::new();
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&APP).set("scope", "openid offline_access");
        let redirect = sign_in(&server, &browser, &authz, &email).await;
        let code = code_from(&server, &authz, &redirect);
        let tokens = exchange_with_proof(&server, &authz, &code, None).await;
        assert_eq!(tokens.status, 200, "{}", tokens.body);
        assert_eq!(tokens.body["token_type"], "Bearer");
        let rt = str_of(&tokens.body, "refresh_token");
        let token_url = server.url("/token");
        let fields = [("grant_type", "refresh_token"), ("refresh_token", rt)];
        let bound = token_with_proof(&server, &APP, &fields, Some(&holder.proof("POST", &token_url))).await;
        assert_eq!(bound.status, 200, "{}", bound.body);
        assert_eq!(bound.body["token_type"], "DPoP");
        let rt2 = str_of(&bound.body, "refresh_token");
        let fields2 = [("grant_type", "refresh_token"), ("refresh_token", rt2)];
        let stolen = token_with_proof(&server, &APP, &fields2, None).await;
        assert_oauth_error(stolen.status, &stolen.body, ErrorCode::InvalidGrant);
        let other = token_with_proof(&server, &APP, &fields2, Some(&Holder::new().proof("POST", &token_url))).await;
        assert_oauth_error(other.status, &other.body, ErrorCode::InvalidGrant);
        let ok = token_with_proof(&server, &APP, &fields2, Some(&holder.proof("POST", &token_url))).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
    }

    async fn a_confidential_clients_refresh_tokens_stay_bound_to_its_credentials_only() {
        let (server, email) = server_with_user().await;
        let first = offline_tokens(&server, &OFFLINE, &email).await;
        let rt = str_of(&first, "refresh_token");
        let fields = [("grant_type", "refresh_token"), ("refresh_token", rt)];
        let holder = Holder::new();
        let bound = token_with_proof(&server, &OFFLINE, &fields, Some(&holder.proof("POST", &server.url("/token")))).await;
        assert_eq!(bound.status, 200, "{}", bound.body);
        assert_eq!(bound.body["token_type"], "DPoP");
        let at = str_of(&bound.body, "access_token");
        assert_eq!(Jwt::decode(at).claims["cnf"]["jkt"], holder.jkt());
        let rt2 = str_of(&bound.body, "refresh_token");
        let plain = token_with_proof(&server, &OFFLINE, &[("grant_type", "refresh_token"), ("refresh_token", rt2)], None).await;
        assert_eq!(plain.status, 200, "{}", plain.body);
        assert_eq!(plain.body["token_type"], "Bearer");
        assert!(Jwt::decode(str_of(&plain.body, "access_token")).claims.get("cnf").is_none());
    }

    async fn dpop_jkt_binds_the_code_to_a_key() {
        let (server, email) = server_with_user().await;
        let holder = Holder::new();
        let token_url = server.url("/token");
        // RFC 9449 §10: redeemed without a proof, or with another key: invalid_grant.
        for proof in [None, Some(Holder::new().proof("POST", &token_url))] {
            let browser = Browser::new(&server.issuer);
            let authz = Authz::new(&WEB).set("dpop_jkt", &holder.jkt());
            let redirect = sign_in(&server, &browser, &authz, &email).await;
            let code = code_from(&server, &authz, &redirect);
            let a = exchange_with_proof(&server, &authz, &code, proof.as_deref()).await;
            assert_oauth_error(a.status, &a.body, ErrorCode::InvalidGrant);
        }
        let browser = Browser::new(&server.issuer);
        let authz = Authz::new(&WEB).set("dpop_jkt", &holder.jkt());
        let redirect = sign_in(&server, &browser, &authz, &email).await;
        let code = code_from(&server, &authz, &redirect);
        let a = exchange_with_proof(&server, &authz, &code, Some(&holder.proof("POST", &token_url))).await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["token_type"], "DPoP");

        // A malformed thumbprint goes back to the client as invalid_request.
        let authz = Authz::new(&WEB).set("dpop_jkt", "not-a-thumbprint");
        let redirect = browser.open(&authz.url(&server)).await.left();
        assert_redirect_error(&server, &authz, &redirect, ErrorCode::InvalidRequest);
    }

    async fn a_proof_at_par_binds_the_code_to_its_key() {
        let (server, email) = server_with_user().await;
        let holder = Holder::new();
        let par_url = server.url("/par");
        let authz = Authz::new(&WEB);
        let fields: Vec<(&str, &str)> = authz.params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        // RFC 9449 §10.1: dpop_jkt and the proof must name the same key.
        let mut mismatched = fields.clone();
        let other_jkt = Holder::new().jkt();
        mismatched.push(("dpop_jkt", &other_jkt));
        let a = post_with_proofs(&server, "/par", &WEB, &mismatched, &[&holder.proof("POST", &par_url)]).await;
        assert_oauth_error(a.status, &a.body, ErrorCode::InvalidDpopProof);

        let pushed = post_with_proofs(&server, "/par", &WEB, &fields, &[&holder.proof("POST", &par_url)]).await;
        assert_eq!(pushed.status, 201, "{}", pushed.body);
        let q = serde_urlencoded::to_string([("client_id", WEB.id), ("request_uri", str_of(&pushed.body, "request_uri"))]).unwrap();
        let browser = Browser::new(&server.issuer);
        let (_, _, page) = browser.open(&server.url(&format!("/authorize?{q}"))).await.page();
        let landing = browser.sign_in(&page, &email, PASSWORD).await;
        let redirect = crate::support::finish_consent(&browser, landing).await;
        let code = code_from(&server, &authz, &redirect);
        let stolen = exchange_with_proof(&server, &authz, &code, Some(&Holder::new().proof("POST", &server.url("/token")))).await;
        assert_oauth_error(stolen.status, &stolen.body, ErrorCode::InvalidGrant);
    }

    async fn a_client_registered_for_dpop_must_send_proofs() {
        let server = TestServer::start_with(Backends::current(), |c| {
            let service = c.clients.iter_mut().find(|c| c.client_id == SERVICE.id).unwrap();
            service.dpop_bound_access_tokens = true;
        })
        .await;
        let cc = [("grant_type", "client_credentials")];
        let a = token_with_proof(&server, &SERVICE, &cc, None).await;
        assert_oauth_error(a.status, &a.body, ErrorCode::InvalidDpopProof);
        let proof = Holder::new().proof("POST", &server.url("/token"));
        let b = token_with_proof(&server, &SERVICE, &cc, Some(&proof)).await;
        assert_eq!(b.status, 200, "{}", b.body);
        assert_eq!(b.body["token_type"], "DPoP");
    }

    async fn server_nonces_are_required_when_the_operator_asks() {
        let server = TestServer::start_with(Backends::current(), |c| c.tokens.dpop_require_nonce = true).await;
        let holder = Holder::new();
        let token_url = server.url("/token");
        let cc = [("grant_type", "client_credentials")];
        // RFC 9449 §8: no nonce, or one Kunci never gave: use_dpop_nonce with a fresh one.
        for extra in [json!({}), json!({"nonce": "made-up"})] {
            let a = token_with_proof(&server, &SERVICE, &cc, Some(&holder.proof_with("POST", &token_url, extra))).await;
            assert_oauth_error(a.status, &a.body, ErrorCode::UseDpopNonce);
            assert!(a.headers.get("dpop-nonce").is_some(), "a DPoP-Nonce header");
        }
        let a = token_with_proof(&server, &SERVICE, &cc, Some(&holder.proof("POST", &token_url))).await;
        let nonce = a.headers.get("dpop-nonce").unwrap().to_str().unwrap().to_owned();
        let ok = token_with_proof(&server, &SERVICE, &cc, Some(&holder.proof_with("POST", &token_url, json!({"nonce": nonce})))).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert_eq!(ok.body["token_type"], "DPoP");

        // §9: the same at a protected resource, as a 401 challenge.
        let (authz, code) = {
            server.add_user("ayu@example.com", "Ayu", PASSWORD, true).await;
            fresh_code(&server, &WEB, "ayu@example.com").await
        };
        let tokens = exchange_with_proof(&server, &authz, &code, Some(&holder.proof_with("POST", &token_url, json!({"nonce": nonce})))).await;
        assert_eq!(tokens.status, 200, "{}", tokens.body);
        let at = str_of(&tokens.body, "access_token");
        let url = server.url("/userinfo");
        let refused = userinfo_with(&server, &format!("DPoP {at}"), &[&holder.proof_for("GET", &url, at)]).await;
        assert_challenge(&refused, "DPoP", ErrorCode::UseDpopNonce);
        let fresh = refused.header("dpop-nonce").expect("DPoP-Nonce").to_owned();
        let with_nonce = holder.proof_with("GET", &url, json!({"ath": ath(at), "nonce": fresh}));
        let ok = userinfo_with(&server, &format!("DPoP {at}"), &[&with_nonce]).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
    }

    /// RFC 8693 with RFC 9449: a DPoP-bound user token may be exchanged only by a service whose
    /// policy names the token's client; the new token is bound to the service's own proof,
    /// never the user's key.
    async fn an_exchanged_token_is_bound_to_the_requesters_proof() {
        use crate::token_exchange::{ACCESS_TOKEN, GATEWAY, GRANT, exchanger};
        use kunci::config::TokenExchangeConfig;
        const WEB_GATEWAY: TestClient = TestClient {
            id: "web-gateway",
            secret: Some("web-gateway-secret-0123456789abcdef0123"),
            redirect_uri: "",
        };
        let server = TestServer::start_with(Backends::current(), |c| {
            for (client, subject_clients) in [(&GATEWAY, None), (&WEB_GATEWAY, Some(vec![WEB.id.into()]))] {
                c.clients.push(exchanger(
                    client,
                    TokenExchangeConfig {
                        audiences: vec![kunci_testkit::server::ORDERS_API.into()],
                        impersonation: true,
                        delegation: false,
                        subject_clients,
                    },
                ));
            }
        })
        .await;
        let email = "ayu@example.com";
        server.add_user(email, "Ayu", PASSWORD, true).await;
        let user_key = Holder::new();
        let (authz, code) = fresh_code(&server, &WEB, email).await;
        let token_url = server.url("/token");
        let user = exchange_with_proof(&server, &authz, &code, Some(&user_key.proof("POST", &token_url))).await;
        assert_eq!(user.body["token_type"], "DPoP", "{}", user.body);
        let subject = str_of(&user.body, "access_token");
        let fields = [
            ("grant_type", GRANT),
            ("subject_token", subject),
            ("subject_token_type", ACCESS_TOKEN),
            ("resource", kunci_testkit::server::ORDERS_API),
        ];
        // A service that accepts any client's tokens may not unbind a bound one.
        let any = token_with_proof(&server, &GATEWAY, &fields, None).await;
        assert_oauth_error(any.status, &any.body, ErrorCode::InvalidRequest);
        let service_key = Holder::new();
        let bound = token_with_proof(&server, &WEB_GATEWAY, &fields, Some(&service_key.proof("POST", &token_url))).await;
        assert_eq!(bound.status, 200, "{}", bound.body);
        assert_eq!(bound.body["token_type"], "DPoP");
        let at = Jwt::decode(str_of(&bound.body, "access_token"));
        assert_eq!(at.claims["cnf"]["jkt"], service_key.jkt());
        let plain = token_with_proof(&server, &WEB_GATEWAY, &fields, None).await;
        assert_eq!(plain.status, 200, "{}", plain.body);
        assert_eq!(plain.body["token_type"], "Bearer");
        assert!(Jwt::decode(str_of(&plain.body, "access_token")).claims.get("cnf").is_none());
    }
}

/// A request without credentials gets a challenge for each scheme (RFC 9449 §7.2).
#[tokio::test]
async fn userinfo_without_credentials_offers_both_schemes() {
    let server = TestServer::start().await;
    let reply = Reply::read(http().get(server.url("/userinfo")).send().await.unwrap()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let challenges: Vec<&str> = reply
        .headers
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        challenges.iter().any(|c| c.starts_with("Bearer ")),
        "{challenges:?}"
    );
    assert!(
        challenges
            .iter()
            .any(|c| c.starts_with("DPoP ") && c.contains("algs=")),
        "{challenges:?}"
    );
}
