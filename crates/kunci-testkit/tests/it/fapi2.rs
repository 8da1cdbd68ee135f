//! The FAPI 2.0 Security Profile (client `profile = "fapi2"`): requests only by PAR, the client
//! authenticating with `private_key_jwt`, PKCE S256, and every access token bound to a DPoP
//! key. One complete flow, and each rule the profile adds refusing what breaks it.

use crate::client_jwt::{Key, now};
use crate::dpop::{Holder, post_with_proofs};
use crate::jwt::Jwt;
use crate::support::{
    Authz, PASSWORD, assert_error_page, assert_oauth_error, code_from, get, http,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use kunci_core::ErrorCode;
use kunci_core::pkce::challenge_for;
use kunci_core::secret::random_token;
use kunci_testkit::server::client_config;
use kunci_testkit::{Backends, Browser, TestClient, TestServer};
use serde_json::{Value, json};

const BANK: TestClient = TestClient {
    id: "bank",
    secret: None,
    redirect_uri: "https://bank.example.test/callback",
};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async fn server(key: &Key) -> TestServer {
    let jwks = json!({"keys": [key.jwk("bank-1")]}).to_string();
    let server = TestServer::start_with(Backends::current(), |c| {
        let mut bank = client_config(&BANK, "private_key_jwt", "ES256", true);
        bank.secret = None;
        bank.jwks = Some(jwks);
        bank.profile = Some("fapi2".into());
        bank.refresh_tokens = true;
        c.clients.push(bank);
    })
    .await;
    server
        .add_user("ayu@example.com", "Ayu", PASSWORD, true)
        .await;
    server
}

/// A `private_key_jwt` assertion whose audience is the issuer (FAPI 2.0 §5.3.2.1).
fn assertion(server: &TestServer, key: &Key) -> String {
    key.sign(
        json!({"kid": "bank-1", "typ": "JWT"}),
        &json!({"iss": BANK.id, "sub": BANK.id, "aud": server.issuer,
                "exp": now() + 60, "iat": now(), "jti": random_token()}),
    )
}

/// An RSA key of the client, which could sign RS256 or PS256 (built with ring; the key
/// material comes from `kunci_core::jose`, since ring cannot generate RSA keys).
pub struct RsaKey(ring::signature::RsaKeyPair);

impl RsaKey {
    pub fn new() -> Self {
        use kunci_core::jose::{Alg, generate_pkcs8};
        let der = generate_pkcs8(Alg::RS256).unwrap();
        Self(ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap())
    }

    pub fn jwk(&self, kid: &str) -> Value {
        let p = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(self.0.public());
        json!({"kty": "RSA", "kid": kid, "n": B64.encode(&p.n), "e": B64.encode(&p.e)})
    }

    /// A compact JWS with `alg` (RS256 or PS256) added to `header`.
    pub fn sign(&self, alg: &str, mut header: Value, claims: &Value) -> String {
        header["alg"] = json!(alg);
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let padding: &dyn ring::signature::RsaEncoding = match alg {
            "PS256" => &ring::signature::RSA_PSS_SHA256,
            _ => &ring::signature::RSA_PKCS1_SHA256,
        };
        let mut sig = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(
                padding,
                &ring::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .unwrap();
        format!("{input}.{}", B64.encode(sig))
    }
}

kunci_testkit::on_every_backend! {
    async fn a_fapi2_client_gets_dpop_bound_tokens_through_par_and_private_key_jwt() {
        let key = Key::es256();
        let server = server(&key).await;
        let holder = Holder::new();
        let discovery = get(&server.url("/.well-known/openid-configuration")).await.json();
        assert!(discovery["dpop_signing_alg_values_supported"].is_array(), "{discovery}");

        // §5.3.2.2: a request sent straight to /authorize is refused, on a page.
        let direct = Authz::new(&BANK);
        let page = get(&direct.url(&server)).await;
        assert_error_page(&page, 400, Some(ErrorCode::InvalidRequest));

        // PAR, authenticated with private_key_jwt (`client_id` is added by the helper), PKCE.
        let verifier = format!("{}{}", random_token(), random_token());
        let state = random_token();
        let challenge = challenge_for(&verifier);
        let assertion_par = assertion(&server, &key);
        let par_fields = [
            ("response_type", "code"),
            ("redirect_uri", BANK.redirect_uri),
            ("scope", "openid email offline_access"),
            ("state", state.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion_par.as_str()),
        ];
        let pushed = post_with_proofs(&server, "/par", &BANK, &par_fields, &[]).await;
        assert_eq!(pushed.status, 201, "{}", pushed.body);
        let request_uri = pushed.body["request_uri"].as_str().unwrap().to_owned();

        let browser = Browser::new(&server.issuer);
        let q = serde_urlencoded::to_string([("client_id", BANK.id), ("request_uri", &request_uri)]).unwrap();
        let (_, _, page) = browser.open(&server.url(&format!("/authorize?{q}"))).await.page();
        let redirect = browser.sign_in(&page, "ayu@example.com", PASSWORD).await.left();
        let authz = Authz::new(&BANK).set("state", &state);
        let code = code_from(&server, &authz, &redirect);

        let token = |proof: Option<String>| {
            let server = &server;
            let key = &key;
            let code = code.clone();
            let verifier = verifier.clone();
            async move {
                let assertion = assertion(server, key);
                let form = [
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", BANK.redirect_uri),
                    ("code_verifier", verifier.as_str()),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", assertion.as_str()),
                ];
                let mut req = http().post(server.url("/token"));
                if let Some(p) = proof {
                    req = req.header("DPoP", p);
                }
                let resp = req.form(&form).send().await.unwrap();
                let status = resp.status();
                (status, resp.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        // §5.3.2.1: sender-constrained tokens only; without a proof nothing is issued (and
        // the code is not spent).
        let (status, body) = token(None).await;
        assert_oauth_error(status, &body, ErrorCode::InvalidDpopProof);
        let (status, body) = token(Some(holder.proof("POST", &server.url("/token")))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "DPoP");
        let at = Jwt::decode(body["access_token"].as_str().unwrap());
        assert_eq!(at.claims["cnf"]["jkt"], holder.jkt());
        let id = Jwt::decode(body["id_token"].as_str().unwrap());
        assert_eq!(id.header["alg"], "ES256", "§5.4.1");

        // §5.3.2.1: the refresh token is not rotated; each refresh needs the client's
        // authentication and a DPoP proof, and the same token keeps working.
        let rt = body["refresh_token"].as_str().expect("a refresh token").to_owned();
        for _ in 0..2 {
            let assertion = assertion(&server, &key);
            let form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", rt.as_str()),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", assertion.as_str()),
            ];
            let resp = http()
                .post(server.url("/token"))
                .header("DPoP", holder.proof("POST", &server.url("/token")))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            let refreshed: Value = resp.json().await.unwrap();
            assert_eq!(refreshed["token_type"], "DPoP", "{refreshed}");
            assert!(refreshed.get("refresh_token").is_none(), "not rotated: {refreshed}");
        }
    }

    /// FAPI 2.0 §5.3.2.1: a client assertion is accepted only with the issuer, as a string,
    /// as its `aud` (not the token endpoint URL, not in an array: audience injection).
    async fn a_fapi2_clients_assertion_names_only_the_issuer_as_a_string() {
        let key = Key::es256();
        let server = server(&key).await;
        let par = |aud: Value| {
            let server = &server;
            let key = &key;
            async move {
                let assertion = key.sign(
                    json!({"kid": "bank-1", "typ": "JWT"}),
                    &json!({"iss": BANK.id, "sub": BANK.id, "aud": aud,
                            "exp": now() + 60, "iat": now(), "jti": random_token()}),
                );
                let challenge = challenge_for(&format!("{}{}", random_token(), random_token()));
                let fields = [
                    ("response_type", "code"),
                    ("redirect_uri", BANK.redirect_uri),
                    ("scope", "openid"),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", assertion.as_str()),
                ];
                post_with_proofs(server, "/par", &BANK, &fields, &[]).await
            }
        };
        for aud in [json!(server.url("/token")), json!([server.issuer]), json!([server.issuer, "https://other.example"])] {
            let a = par(aud.clone()).await;
            assert_oauth_error(a.status, &a.body, ErrorCode::InvalidClient);
        }
        let ok = par(json!(server.issuer)).await;
        assert_eq!(ok.status, 201, "{}", ok.body);
    }

    /// FAPI 2.0 §5.4.1: what a fapi2 client signs (client assertions, request objects, DPoP
    /// proofs) is PS256, ES256 or EdDSA; RS256 (RSASSA-PKCS1-v1_5) is refused, even with a key
    /// that could sign PS256.
    async fn a_fapi2_client_never_signs_with_rs256() {
        let key = Key::es256();
        let rsa = RsaKey::new();
        let jwks = json!({"keys": [key.jwk("bank-1"), rsa.jwk("bank-rsa")]}).to_string();
        let server = TestServer::start_with(Backends::current(), |c| {
            let mut bank = client_config(&BANK, "private_key_jwt", "ES256", true);
            bank.secret = None;
            bank.jwks = Some(jwks);
            bank.profile = Some("fapi2".into());
            c.clients.push(bank);
        })
        .await;
        let challenge = challenge_for(&format!("{}{}", random_token(), random_token()));
        let params = [
            ("response_type", "code"),
            ("redirect_uri", BANK.redirect_uri),
            ("scope", "openid"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        let claims = || json!({"iss": BANK.id, "sub": BANK.id, "aud": server.issuer,
                               "exp": now() + 60, "iat": now(), "jti": random_token()});
        let push = |assertion: String, extra: Vec<(&'static str, String)>, proof: Option<String>| {
            let server = &server;
            async move {
                let mut fields: Vec<(&str, &str)> = params.to_vec();
                fields.push(("client_assertion_type", JWT_BEARER));
                fields.push(("client_assertion", &assertion));
                for (k, v) in &extra {
                    fields.push((k, v));
                }
                let proofs: Vec<&str> = proof.iter().map(String::as_str).collect();
                post_with_proofs(server, "/par", &BANK, &fields, &proofs).await
            }
        };
        let es256 = || assertion(&server, &key);
        // Client assertions.
        let a = push(rsa.sign("RS256", json!({"kid": "bank-rsa", "typ": "JWT"}), &claims()), vec![], None).await;
        assert_oauth_error(a.status, &a.body, ErrorCode::InvalidClient);
        let a = push(rsa.sign("PS256", json!({"kid": "bank-rsa", "typ": "JWT"}), &claims()), vec![], None).await;
        assert_eq!(a.status, 201, "{}", a.body);
        // DPoP proofs.
        let par_url = server.url("/par");
        let proof = |alg: &str| {
            rsa.sign(alg, json!({"typ": "dpop+jwt", "jwk": rsa.jwk("dpop")}),
                     &json!({"jti": random_token(), "htm": "POST", "htu": par_url, "iat": now()}))
        };
        let a = push(es256(), vec![], Some(proof("RS256"))).await;
        assert_oauth_error(a.status, &a.body, ErrorCode::InvalidDpopProof);
        let a = push(es256(), vec![], Some(proof("PS256"))).await;
        assert_eq!(a.status, 201, "{}", a.body);
        // Request objects.
        let object = |alg: &str| {
            let mut c = json!({"iss": BANK.id, "aud": server.issuer, "client_id": BANK.id,
                               "exp": now() + 60, "nbf": now()});
            for (k, v) in params {
                c[k] = json!(v);
            }
            rsa.sign(alg, json!({"kid": "bank-rsa", "typ": "oauth-authz-req+jwt"}), &c)
        };
        let a = push(es256(), vec![("request", object("RS256"))], None).await;
        assert_oauth_error(a.status, &a.body, ErrorCode::InvalidRequestObject);
        let a = push(es256(), vec![("request", object("PS256"))], None).await;
        assert_eq!(a.status, 201, "{}", a.body);
    }
}
