//! The metadata checks, one RFC 7591 sentence per test.

use super::*;
use crate::client::ClientRegistry;
use crate::error::ErrorCode;
use serde_json::json;

fn policy() -> RegistrationPolicy {
    RegistrationPolicy {
        initial_access_tokens: vec![sha256(b"initial-token")],
        scopes: vec!["openid".into(), "profile".into(), "email".into()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        allow_public_clients: true,
        max_redirect_uris: 2,
    }
}

fn check(body: Value) -> Result<ClientMetadata, OAuthError> {
    RequestedMetadata::parse(body.to_string().as_bytes())?
        .validate(&policy(), &[Alg::RS256, Alg::ES256])
}

fn code_of(body: Value) -> ErrorCode {
    check(body).unwrap_err().code
}

#[test]
fn the_initial_access_token_is_compared_by_digest() {
    assert!(policy().accepts_initial_access_token("initial-token"));
    assert!(!policy().accepts_initial_access_token("initial-token "));
    assert!(!policy().accepts_initial_access_token(""));
}

#[test]
fn defaults_fill_in_what_the_client_left_out() {
    let m =
        check(json!({"redirect_uris": ["https://rp.example/cb"], "logo_uri": "ignored"})).unwrap();
    assert_eq!(m.grant_types, ["authorization_code"]);
    assert_eq!(m.response_types, ["code"]);
    assert_eq!(m.token_endpoint_auth_method, "client_secret_basic");
    assert_eq!(m.scope, "openid profile email");
    assert_eq!(m.id_token_signed_response_alg, "RS256");
    assert_eq!(m.subject_type, "public");
    assert!(m.needs_secret());
    let echoed = serde_json::to_value(&m).unwrap();
    assert!(
        echoed.get("logo_uri").is_none(),
        "unknown metadata is ignored (§2)"
    );
}

#[test]
fn redirect_uris_follow_the_rules_of_configured_clients() {
    for bad in [
        json!({}),
        json!({"redirect_uris": []}),
        json!({"redirect_uris": ["http://rp.example/cb"]}),
        json!({"redirect_uris": ["https://rp.example/cb#frag"]}),
        json!({"redirect_uris": ["/relative"]}),
        json!({"redirect_uris": ["com.example.app:/cb"]}),
        json!({"redirect_uris": ["https://a.example/1", "https://a.example/2", "https://a.example/3"]}),
    ] {
        assert_eq!(code_of(bad.clone()), ErrorCode::InvalidRedirectUri, "{bad}");
    }
    assert!(check(json!({"redirect_uris": ["http://127.0.0.1:9/cb"]})).is_ok());
}

#[test]
fn grants_and_response_types_must_agree_and_be_allowed() {
    let uris = json!(["https://rp.example/cb"]);
    for bad in [
        json!({"redirect_uris": uris, "grant_types": ["implicit"]}),
        json!({"redirect_uris": uris, "grant_types": ["client_credentials"]}),
        json!({"redirect_uris": uris, "grant_types": ["refresh_token"]}),
        json!({"redirect_uris": uris, "response_types": ["token"]}),
        json!({"redirect_uris": uris, "response_types": []}),
        json!({"redirect_uris": uris, "grant_types": "authorization_code"}),
    ] {
        assert_eq!(
            code_of(bad.clone()),
            ErrorCode::InvalidClientMetadata,
            "{bad}"
        );
    }
    let m = check(
        json!({"redirect_uris": uris, "grant_types": ["authorization_code", "refresh_token"]}),
    )
    .unwrap();
    assert_eq!(
        m.scope, "openid profile email offline_access",
        "refresh brings offline_access"
    );
}

#[test]
fn only_methods_kunci_can_check_are_accepted() {
    let uris = json!(["https://rp.example/cb"]);
    for bad in [
        json!({"redirect_uris": uris, "token_endpoint_auth_method": "client_secret_jwt"}),
        json!({"redirect_uris": uris, "token_endpoint_auth_method": "tls_client_auth"}),
        json!({"redirect_uris": uris, "token_endpoint_auth_method": "private_key_jwt"}),
        json!({"redirect_uris": uris, "jwks": {"keys": []}}),
        json!({"redirect_uris": uris, "jwks_uri": "http://rp.example/jwks"}),
        json!({"redirect_uris": uris, "jwks": {"keys": []}, "jwks_uri": "https://rp.example/jwks"}),
    ] {
        assert_eq!(
            code_of(bad.clone()),
            ErrorCode::InvalidClientMetadata,
            "{bad}"
        );
    }
    let public =
        check(json!({"redirect_uris": uris, "token_endpoint_auth_method": "none"})).unwrap();
    assert!(!public.needs_secret());
    let mut closed = policy();
    closed.allow_public_clients = false;
    let refused = RequestedMetadata::parse(
        json!({"redirect_uris": uris, "token_endpoint_auth_method": "none"})
            .to_string()
            .as_bytes(),
    )
    .unwrap()
    .validate(&closed, &[Alg::RS256]);
    assert_eq!(refused.unwrap_err().code, ErrorCode::InvalidClientMetadata);
}

#[test]
fn scope_alg_subject_type_and_logout_uris_are_checked() {
    let uris = json!(["https://rp.example/cb"]);
    for bad in [
        json!({"redirect_uris": uris, "scope": "openid admin"}),
        json!({"redirect_uris": uris, "scope": "openid offline_access"}),
        json!({"redirect_uris": uris, "id_token_signed_response_alg": "none"}),
        json!({"redirect_uris": uris, "id_token_signed_response_alg": "EdDSA"}),
        json!({"redirect_uris": uris, "subject_type": "pairwise"}),
        json!({"redirect_uris": uris, "post_logout_redirect_uris": ["http://rp.example/bye"]}),
        json!({"redirect_uris": uris, "backchannel_logout_uri": "https://rp.example/bc#x"}),
        json!({"redirect_uris": uris, "client_name": "a\u{0}b"}),
    ] {
        assert_eq!(
            code_of(bad.clone()),
            ErrorCode::InvalidClientMetadata,
            "{bad}"
        );
    }
    let m = check(json!({
        "redirect_uris": uris,
        "scope": "openid email",
        "id_token_signed_response_alg": "ES256",
        "client_name": "  Toko Kita  ",
        "backchannel_logout_uri": "https://rp.example/bc",
        "post_logout_redirect_uris": ["https://rp.example/bye"],
    }))
    .unwrap();
    let client = m.to_client("dyn-1", Some([7; 32])).unwrap();
    assert_eq!(client.name, "Toko Kita");
    assert_eq!(client.scopes, ["openid", "email"]);
    assert_eq!(client.id_token_alg, Alg::ES256);
    assert!(client.require_pkce && !client.first_party);
    assert_eq!(
        client.backchannel_logout.as_ref().unwrap().uri,
        "https://rp.example/bc"
    );
    assert!(client.has_post_logout_redirect_uri("https://rp.example/bye"));
}

#[test]
fn an_inline_jwk_set_is_bounded() {
    let key = json!({"kty": "EC", "crv": "P-256", "x": "x".repeat(200), "y": "y".repeat(200)});
    let set = json!({"keys": vec![key; 60]});
    let err = check(json!({"redirect_uris": ["https://rp.example/cb"], "jwks": set})).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidClientMetadata);
    assert!(err.description.contains("jwks_uri"), "{}", err.description);
}

#[test]
fn a_body_that_is_not_an_object_is_invalid_metadata() {
    for body in [&b"[]"[..], b"not json", b"\"x\""] {
        let err = RequestedMetadata::parse(body).err().unwrap();
        assert_eq!(err.code, ErrorCode::InvalidClientMetadata);
    }
}

#[test]
fn stored_metadata_round_trips_into_the_same_client() {
    let m = check(json!({"redirect_uris": ["https://rp.example/cb"], "token_endpoint_auth_method": "client_secret_post"}))
        .unwrap();
    let back: ClientMetadata = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(back, m);
    let c = back.to_client("dyn-2", Some([1; 32])).unwrap();
    assert_eq!(c.auth_method, AuthMethod::ClientSecretPost);
    assert!(c.has_redirect_uri("https://rp.example/cb"));
}

#[test]
fn discovery_stand_ins_cover_every_method_the_policy_allows() {
    let registry = ClientRegistry::new(representative_clients(&policy()));
    let methods: Vec<&str> = registry.all().map(|c| c.auth_method.as_str()).collect();
    for m in [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    ] {
        assert!(methods.contains(&m), "{m} in {methods:?}");
    }
    assert!(registry.all().any(|c| c.gets_refresh_tokens()));
}

#[test]
fn an_empty_grant_list_or_an_invisible_name_is_invalid_metadata() {
    let base = json!({"redirect_uris": ["https://app.example/cb"]});
    let mut empty = base.clone();
    empty["grant_types"] = json!([]);
    assert_eq!(code_of(empty), ErrorCode::InvalidClientMetadata);
    for name in [
        "Bank\u{202E}gnaB",
        "Ba\u{200B}nk",
        "\u{2066}Bank\u{2069}",
        "Bank\u{0007}",
    ] {
        let mut named = base.clone();
        named["client_name"] = json!(name);
        assert_eq!(code_of(named), ErrorCode::InvalidClientMetadata, "{name:?}");
    }
    let mut fine = base.clone();
    fine["client_name"] = json!("Toko Sari — Pesan Antar");
    assert_eq!(
        check(fine).unwrap().client_name.as_deref(),
        Some("Toko Sari — Pesan Antar")
    );
}
