//! The end-session checks, one spec sentence per test.

use super::*;
use crate::client::{AccessTokenFormat, AuthMethod, GrantType, RefreshPolicy};
use crate::jose::{Alg, SigningKey, generate_pkcs8};
use serde_json::json;

const ISS: &str = "https://id.example";
const BACK: &str = "https://rp.example/bye";

fn client(id: &str) -> Client {
    Client {
        id: id.into(),
        name: id.into(),
        secret_sha256: None,
        redirect_uris: vec![format!("https://{id}.example/cb")],
        grant_types: vec![GrantType::AuthorizationCode],
        scopes: vec!["openid".into()],
        auth_method: AuthMethod::None,
        first_party: false,
        id_token_alg: Alg::ES256,
        require_pkce: true,
        refresh: RefreshPolicy::default(),
        access_token_format: AccessTokenFormat::default(),
        audiences: Vec::new(),
        resource_server: false,
        post_logout_redirect_uris: vec![format!("https://{id}.example/bye")],
        backchannel_logout: None,
        frontchannel_logout: None,
        assertion_keys: None,
        require_par: false,
        subject_type: Default::default(),
        dpop_bound_access_tokens: false,
        token_exchange: Default::default(),
    }
}

struct Fixture {
    keys: KeySet,
    clients: ClientRegistry,
}

impl Fixture {
    fn new() -> Self {
        let der = generate_pkcs8(Alg::ES256).unwrap();
        Self {
            keys: KeySet::new(vec![SigningKey::from_pkcs8(Alg::ES256, &der).unwrap()]),
            clients: ClientRegistry::new([client("shop"), client("blog")]),
        }
    }
    fn sign(&self, typ: &str, claims: Value) -> String {
        self.keys
            .signing_key(Alg::ES256)
            .unwrap()
            .sign(typ, &claims)
    }
    fn id_token(&self, aud: &str) -> String {
        // Long expired: RP-Initiated Logout §4 accepts it anyway.
        self.sign(
            "JWT",
            json!({"iss": ISS, "aud": aud, "sub": "u1", "sid": "s1", "exp": 1, "iat": 0}),
        )
    }
    fn check(&self, p: EndSessionParams) -> Result<EndSession, OAuthError> {
        check_end_session(&p, ISS, &self.keys, &self.clients)
    }
}

fn params(hint: Option<String>, client_id: Option<&str>, uri: Option<&str>) -> EndSessionParams {
    EndSessionParams {
        id_token_hint: hint,
        client_id: client_id.map(Into::into),
        post_logout_redirect_uri: uri.map(Into::into),
        state: Some("st 1".into()),
        ..EndSessionParams::default()
    }
}

#[test]
fn no_parameters_is_a_plain_logout() {
    let f = Fixture::new();
    let ok = f.check(EndSessionParams::default()).unwrap();
    assert!(ok.client.is_none() && ok.redirect.is_none());
    assert!(EndSessionParams::default().is_empty());
}

#[test]
fn an_expired_hint_names_its_client_and_sid_and_allows_its_registered_uri() {
    let f = Fixture::new();
    let ok = f
        .check(params(
            Some(f.id_token("shop")),
            None,
            Some("https://shop.example/bye"),
        ))
        .unwrap();
    assert_eq!(ok.client.unwrap().id, "shop");
    assert_eq!(ok.hint_sid.as_deref(), Some("s1"));
    assert_eq!(
        ok.redirect.as_deref(),
        Some("https://shop.example/bye?state=st+1")
    );
}

#[test]
fn a_uri_registered_for_another_client_is_refused() {
    let f = Fixture::new();
    let e = f
        .check(params(
            Some(f.id_token("shop")),
            None,
            Some("https://blog.example/bye"),
        ))
        .unwrap_err();
    assert!(e.description.contains("not registered"), "{e}");
    let e = f
        .check(params(
            None,
            Some("shop"),
            Some("https://shop.example/bye/"),
        ))
        .unwrap_err();
    assert!(
        e.description.contains("not registered"),
        "exact match only: {e}"
    );
}

#[test]
fn a_redirect_uri_without_hint_or_client_id_is_refused() {
    let f = Fixture::new();
    let e = f
        .check(params(None, None, Some("https://shop.example/bye")))
        .unwrap_err();
    assert!(
        e.description.contains("needs id_token_hint or client_id"),
        "{e}"
    );
}

#[test]
fn client_id_must_be_registered_and_agree_with_the_hint() {
    let f = Fixture::new();
    assert!(f.check(params(None, Some("nobody"), None)).is_err());
    assert!(
        f.check(params(Some(f.id_token("shop")), Some("blog"), None))
            .is_err()
    );
    let ok = f.check(params(None, Some("blog"), None)).unwrap();
    assert_eq!(ok.client.unwrap().id, "blog");
}

#[test]
fn hints_not_issued_here_as_id_tokens_are_refused() {
    let f = Fixture::new();
    let other_iss = f.sign("JWT", json!({"iss": "https://evil.example", "aud": "shop"}));
    let unknown_aud = f.sign("JWT", json!({"iss": ISS, "aud": "nobody"}));
    let access_token = f.sign("at+jwt", json!({"iss": ISS, "aud": "shop"}));
    let logout_token = f.sign(LOGOUT_TOKEN_TYPE, json!({"iss": ISS, "aud": "shop"}));
    // Change one signature character for a different one. (Replacing the last character with a
    // fixed one is a no-op whenever it already was that one.)
    let tampered = {
        let token = f.id_token("shop");
        let at = token.len() - 10;
        let flipped = if &token[at..at + 1] == "A" { "B" } else { "A" };
        format!("{}{flipped}{}", &token[..at], &token[at + 1..])
    };
    let stranger = Fixture::new().id_token("shop");
    for hint in [
        other_iss,
        unknown_aud,
        access_token,
        logout_token,
        tampered,
        stranger,
    ] {
        assert!(f.check(params(Some(hint), None, None)).is_err());
    }
}

#[test]
fn logout_token_has_the_claims_of_back_channel_logout_2_4_and_no_nonce() {
    let f = Fixture::new();
    let claims = LogoutTokenClaims::new(ISS, "shop", "u1", "s1", 1000);
    let token = f.sign(LOGOUT_TOKEN_TYPE, serde_json::to_value(&claims).unwrap());
    let (header, c) = f.keys.verify(&token).unwrap();
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(c["events"], json!({ BACKCHANNEL_LOGOUT_EVENT: {} }));
    assert_eq!(
        (c["iss"].as_str(), c["aud"].as_str()),
        (Some(ISS), Some("shop"))
    );
    assert_eq!(
        (c["sub"].as_str(), c["sid"].as_str()),
        (Some("u1"), Some("s1"))
    );
    assert_eq!(c["exp"].as_i64(), Some(1000 + LOGOUT_TOKEN_TTL));
    assert!(c["jti"].as_str().is_some_and(|j| j.len() >= 32));
    assert!(c.get("nonce").is_none());
}

#[test]
fn front_channel_url_carries_iss_and_sid_only_when_required() {
    let mut ch = LogoutChannel {
        uri: "https://rp.example:8443/fc?x=1".into(),
        session_required: true,
    };
    let frame = frontchannel_frame("shop", &ch, ISS, "s 1").unwrap();
    assert_eq!(
        frame.url,
        "https://rp.example:8443/fc?x=1&iss=https%3A%2F%2Fid.example&sid=s+1"
    );
    assert_eq!(frame.origin, "https://rp.example:8443");
    ch.session_required = false;
    let frame = frontchannel_frame("shop", &ch, ISS, "s1").unwrap();
    assert_eq!(frame.url, "https://rp.example:8443/fc?x=1");
}

#[test]
fn debug_output_hides_the_hint_and_the_token() {
    let f = Fixture::new();
    let hint = f.id_token("shop");
    let p = params(Some(hint.clone()), None, None);
    assert!(!format!("{p:?}").contains(&hint));
    let n = BackChannelNotice {
        client_id: "shop".into(),
        uri: BACK.into(),
        logout_token: Secret::new(hint.clone()),
    };
    assert!(!format!("{n:?}").contains(&hint));
}
