//! The OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414). It lists only what works.

use crate::client::{AuthMethod, ClientRegistry, GrantType};
use crate::jose::Alg;
use crate::scope::{KNOWN_SCOPES, claims_for_scope};
use serde_json::{Value, json};

pub fn metadata(
    issuer: &str,
    clients: &ClientRegistry,
    id_token_algs: &[Alg],
    ui_locales: &[String],
) -> Value {
    let mut auth_methods: Vec<&str> = Vec::new();
    for c in clients.all() {
        let m = match c.auth_method {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
        };
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
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": id_token_algs.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint": format!("{issuer}/revoke"),
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": claims,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "ui_locales_supported": ui_locales,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        // RP-Initiated, Back-Channel and Front-Channel Logout 1.0 (flow/logout.rs). Every ID
        // token carries `sid`, and every logout token and front-channel URL can carry it.
        "end_session_endpoint": format!("{issuer}/logout"),
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": true,
        "frontchannel_logout_session_supported": true,
    });
    if !introspection_methods.is_empty() {
        doc["introspection_endpoint"] = json!(format!("{issuer}/introspect"));
        doc["introspection_endpoint_auth_methods_supported"] = json!(introspection_methods);
    }
    doc
}
