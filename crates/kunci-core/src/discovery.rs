//! The OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414). It lists only what works.

use crate::claims_request::ACR_VALUES;
use crate::client::{AuthMethod, ClientRegistry, GrantType};
use crate::client_assertion::{CLIENT_SECRET_JWT_ALGS, PRIVATE_KEY_JWT_ALGS};
use crate::flow::REQUEST_OBJECT_ALGS;
use crate::jose::Alg;
use crate::scope::{KNOWN_SCOPES, claims_for_scope};
use crate::subject::SubjectType;
use serde_json::{Value, json};

pub fn metadata(
    issuer: &str,
    clients: &ClientRegistry,
    id_token_algs: &[Alg],
    ui_locales: &[String],
) -> Value {
    let mut auth_methods: Vec<&str> = Vec::new();
    for c in clients.all() {
        let m = c.auth_method.as_str();
        if !auth_methods.contains(&m) {
            auth_methods.push(m);
        }
    }
    auth_methods.sort_unstable();
    if auth_methods.is_empty() {
        auth_methods.push("client_secret_basic");
    }
    // RFC 7662 §2.1: introspection needs a client that can authenticate.
    let introspection_methods: Vec<&str> = auth_methods
        .iter()
        .copied()
        .filter(|m| *m != "none")
        .collect();
    // Only the grants some client may use; the code flow is always listed (OIDC Discovery §3).
    let grant_types: Vec<&str> = GrantType::ALL
        .into_iter()
        .filter(|g| *g == GrantType::AuthorizationCode || clients.all().any(|c| c.allows_grant(*g)))
        .map(GrantType::as_str)
        .collect();
    let refresh_tokens = clients.all().any(|c| c.gets_refresh_tokens());
    let mut claims: Vec<&str> = vec![
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "amr",
        "acr",
        "sid",
    ];
    for s in ["email", "profile"] {
        // Only the claims Kunci actually has data for.
        claims.extend(claims_for_scope(s).iter().filter(|c| {
            matches!(
                **c,
                "email" | "email_verified" | "name" | "locale" | "updated_at"
            )
        }));
    }
    // offline_access only means something when some client may hold refresh tokens.
    let scopes: Vec<&str> = KNOWN_SCOPES
        .iter()
        .copied()
        .filter(|s| *s != "offline_access" || refresh_tokens)
        .collect();
    // OIDC Core §8: `pairwise` only when some client uses it.
    let mut subject_types = vec!["public"];
    if clients
        .all()
        .any(|c| matches!(c.subject_type, SubjectType::Pairwise { .. }))
    {
        subject_types.push("pairwise");
    }
    let mut doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": grant_types,
        "subject_types_supported": subject_types,
        "id_token_signing_alg_values_supported": id_token_algs.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint": format!("{issuer}/revoke"),
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": claims,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "ui_locales_supported": ui_locales,
        // OIDC Core §5.5 (claims_request.rs): honoured for the claims listed above.
        "claims_parameter_supported": true,
        "acr_values_supported": ACR_VALUES,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        // RFC 9126 §5 (flow/par.rs); a client may still be required to push
        // (`require_pushed_authorization_requests` in its configuration).
        "pushed_authorization_request_endpoint": format!("{issuer}/par"),
        "require_pushed_authorization_requests": false,
        // RP-Initiated, Back-Channel and Front-Channel Logout 1.0 (flow/logout.rs). Every ID
        // token carries `sid`, and every logout token and front-channel URL can carry it.
        "end_session_endpoint": format!("{issuer}/logout"),
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": true,
        "frontchannel_logout_session_supported": true,
    });
    // RFC 8414 §2: the JWS algorithms for `client_secret_jwt` / `private_key_jwt`, when some
    // client uses them (flow/client_auth.rs).
    let mut assertion_algs: Vec<&str> = Vec::new();
    if clients
        .all()
        .any(|c| c.auth_method == AuthMethod::ClientSecretJwt)
    {
        assertion_algs.extend(CLIENT_SECRET_JWT_ALGS.iter().map(|a| a.as_str()));
    }
    if clients
        .all()
        .any(|c| c.auth_method == AuthMethod::PrivateKeyJwt)
    {
        assertion_algs.extend(PRIVATE_KEY_JWT_ALGS.iter().map(|a| a.as_str()));
    }
    if !assertion_algs.is_empty() {
        for endpoint in ["token", "revocation", "introspection"] {
            doc[format!("{endpoint}_endpoint_auth_signing_alg_values_supported")] =
                json!(assertion_algs);
        }
    }
    // RFC 9101 (flow/request_object.rs): request objects need a client with public keys.
    if clients.all().any(|c| c.has_public_keys()) {
        doc["request_parameter_supported"] = json!(true);
        doc["request_object_signing_alg_values_supported"] = json!(
            REQUEST_OBJECT_ALGS
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
        );
    }
    // RFC 9449 §5.1: any client may send DPoP proofs, signed with these.
    doc["dpop_signing_alg_values_supported"] = json!(crate::dpop::signing_algs());
    // RFC 8628 §4 (flow/device.rs): only when some client may use the device grant.
    if clients.all().any(|c| c.allows_grant(GrantType::DeviceCode)) {
        doc["device_authorization_endpoint"] = json!(format!("{issuer}/device_authorization"));
    }
    if !introspection_methods.is_empty() {
        doc["introspection_endpoint"] = json!(format!("{issuer}/introspect"));
        doc["introspection_endpoint_auth_methods_supported"] = json!(introspection_methods);
    }
    doc
}
