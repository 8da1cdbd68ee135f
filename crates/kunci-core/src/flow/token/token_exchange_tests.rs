//! The token exchange checks, one RFC 8693 sentence per test.

use super::*;
use crate::ErrorCode;

const API: &str = "https://api.example";

fn list(s: &str) -> Vec<String> {
    s.split(' ').map(str::to_owned).collect()
}

fn policy(impersonation: bool, delegation: bool) -> TokenExchangePolicy {
    TokenExchangePolicy {
        audiences: vec![API.into(), "orders".into()],
        impersonation,
        delegation,
        subject_clients: None,
    }
}

fn token(client_id: &str, sub: &str, act: Option<Actor>) -> AccessTokenClaims {
    AccessTokenClaims {
        iss: "https://id.example".into(),
        sub: sub.into(),
        aud: "https://id.example".into(),
        exp: 1_000,
        iat: 400,
        jti: "j".into(),
        client_id: client_id.into(),
        scope: "openid email".into(),
        auth_time: Some(390),
        sid: None,
        gid: "g".into(),
        acr: None,
        amr: Vec::new(),
        userinfo_claims: Vec::new(),
        uid: None,
        act,
        cnf: None,
    }
}

fn client(id: &str) -> Client {
    use crate::client::{AccessTokenFormat, AuthMethod, GrantType, RefreshPolicy};
    Client {
        id: id.into(),
        name: id.into(),
        secret_sha256: Some([0; 32]),
        redirect_uris: Vec::new(),
        grant_types: vec![GrantType::TokenExchange],
        scopes: list("openid email"),
        auth_method: AuthMethod::ClientSecretBasic,
        first_party: false,
        id_token_alg: crate::jose::Alg::RS256,
        require_pkce: true,
        refresh: RefreshPolicy::default(),
        access_token_format: AccessTokenFormat::Jwt,
        audiences: Vec::new(),
        resource_server: false,
        post_logout_redirect_uris: Vec::new(),
        backchannel_logout: None,
        frontchannel_logout: None,
        assertion_keys: None,
        require_par: false,
        subject_type: Default::default(),
        token_exchange: policy(true, true),
        dpop_bound_access_tokens: false,
    }
}

fn code(r: Result<impl std::fmt::Debug, OAuthError>) -> ErrorCode {
    r.unwrap_err().code
}

#[test]
fn subject_token_and_its_type_are_required_and_actor_token_comes_with_its_type() {
    let full = TokenRequest {
        subject_token: Some("s".into()),
        subject_token_type: Some(ACCESS_TOKEN.into()),
        ..Default::default()
    };
    assert!(presented_tokens(&full).unwrap().actor.is_none());
    for bend in [
        |r: &mut TokenRequest| r.subject_token = None,
        |r: &mut TokenRequest| r.subject_token_type = Some(String::new()),
        |r: &mut TokenRequest| r.actor_token = Some("a".into()),
        |r: &mut TokenRequest| r.actor_token_type = Some(ACCESS_TOKEN.into()),
    ] {
        let mut req = TokenRequest {
            subject_token: full.subject_token.clone(),
            subject_token_type: full.subject_token_type.clone(),
            ..Default::default()
        };
        bend(&mut req);
        assert_eq!(
            code(presented_tokens(&req).map(|_| ())),
            ErrorCode::InvalidRequest
        );
    }
}

#[test]
fn only_access_tokens_are_issued() {
    assert!(check_requested_token_type(None).is_ok());
    assert!(check_requested_token_type(Some(ACCESS_TOKEN)).is_ok());
    for other in [REFRESH_TOKEN, ID_TOKEN, JWT, "urn:x"] {
        assert_eq!(
            code(check_requested_token_type(Some(other))),
            ErrorCode::InvalidRequest
        );
    }
}

#[test]
fn only_our_access_tokens_are_exchangeable() {
    assert!(check_token_type("subject_token", ACCESS_TOKEN, "opaque").is_ok());
    assert!(check_token_type("subject_token", JWT, "a.b.c").is_ok());
    for (kind, token) in [
        (JWT, "opaque"),
        (REFRESH_TOKEN, "r"),
        (ID_TOKEN, "a.b.c"),
        ("urn:ietf:params:oauth:token-type:saml2", "x"),
    ] {
        let err = check_token_type("subject_token", kind, token).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest, "{kind}");
        assert!(err.description.starts_with("subject_token"), "{err:?}");
    }
}

#[test]
fn the_target_is_one_the_policy_names() {
    let p = policy(true, false);
    assert_eq!(check_target(&p, Some("orders"), None).unwrap(), "orders");
    assert_eq!(check_target(&p, None, Some(API)).unwrap(), API);
    assert_eq!(check_target(&p, Some(API), Some(API)).unwrap(), API);
    for (a, r) in [
        (None, None),
        (Some("payroll"), None),
        (None, Some("https://payroll.example")),
        (None, Some("orders")),
        (None, Some("https://api.example#f")),
        (Some("orders"), Some(API)),
    ] {
        assert_eq!(
            code(check_target(&p, a, r)),
            ErrorCode::InvalidTarget,
            "{a:?} {r:?}"
        );
    }
}

#[test]
fn impersonation_keeps_the_subject_and_any_delegation_chain() {
    let gateway = client("gateway");
    let plain = token("web", "u1", None);
    assert_eq!(
        check_mode(&policy(true, false), &gateway, &plain, None).unwrap(),
        None
    );
    assert_eq!(
        code(check_mode(&policy(false, true), &gateway, &plain, None)),
        ErrorCode::InvalidRequest
    );
    let earlier = Actor {
        sub: "svc".into(),
        client_id: "svc".into(),
        act: None,
    };
    let delegated = token("svc", "u1", Some(earlier.clone()));
    assert_eq!(
        check_mode(&policy(true, false), &gateway, &delegated, None).unwrap(),
        Some(earlier)
    );
}

#[test]
fn delegation_names_the_clients_own_actor_above_earlier_ones() {
    let gateway = client("gateway");
    let own = token("gateway", "gateway", None);
    let earlier = Actor {
        sub: "svc".into(),
        client_id: "svc".into(),
        act: None,
    };
    let subject = token("svc", "u1", Some(earlier.clone()));
    let act = check_mode(&policy(false, true), &gateway, &subject, Some(&own))
        .unwrap()
        .unwrap();
    assert_eq!(
        (act.sub.as_str(), act.client_id.as_str()),
        ("gateway", "gateway")
    );
    assert_eq!(act.act.as_deref(), Some(&earlier));
    assert_eq!(
        code(check_mode(
            &policy(true, false),
            &gateway,
            &subject,
            Some(&own)
        )),
        ErrorCode::InvalidRequest,
        "delegation not allowed"
    );
    let someone_elses = token("svc", "svc", None);
    assert_eq!(
        code(check_mode(
            &policy(true, true),
            &gateway,
            &subject,
            Some(&someone_elses)
        )),
        ErrorCode::InvalidRequest,
        "an actor token of another client"
    );
}

#[test]
fn the_policy_may_limit_whose_tokens_are_accepted() {
    let mut p = policy(true, false);
    p.subject_clients = Some(vec!["web".into()]);
    assert!(check_subject_client(&p, &token("web", "u1", None)).is_ok());
    assert_eq!(
        code(check_subject_client(&p, &token("spa", "u1", None))),
        ErrorCode::InvalidRequest
    );
}

#[test]
fn scopes_narrow_to_the_subjects_and_the_clients_and_never_widen() {
    let subject = list("openid email offline_access orders:read");
    let client = list("email orders:read orders:write offline_access");
    assert_eq!(
        exchanged_scopes(&subject, &client, None).unwrap(),
        list("email orders:read"),
        "omitted: the intersection, without offline_access"
    );
    assert_eq!(
        exchanged_scopes(&subject, &client, Some("orders:read")).unwrap(),
        list("orders:read")
    );
    for wider in [
        "orders:write",
        "openid",
        "offline_access",
        "email phone",
        "a\"b",
    ] {
        assert_eq!(
            code(exchanged_scopes(&subject, &client, Some(wider))),
            ErrorCode::InvalidScope,
            "{wider}"
        );
    }
    assert_eq!(
        code(exchanged_scopes(&list("profile"), &client, None)),
        ErrorCode::InvalidScope,
        "nothing in common"
    );
}

#[test]
fn the_new_token_never_outlives_the_subject_or_the_actor() {
    let subject = token("web", "u1", None);
    assert_eq!(expiry(500, 100, &subject, None), 600);
    assert_eq!(expiry(950, 100, &subject, None), 1_000);
    let mut actor = token("gateway", "gateway", None);
    actor.exp = 700;
    assert_eq!(expiry(650, 100, &subject, Some(&actor)), 700);
}
