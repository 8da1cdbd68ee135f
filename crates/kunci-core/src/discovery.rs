//! The OpenID Provider metadata (OIDC Discovery 1.0 §3, RFC 8414). It lists only what works.

use crate::client::{AuthMethod, ClientRegistry};
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
    // offline_access needs refresh tokens, which are not offered yet.
    let scopes: Vec<&str> = KNOWN_SCOPES
        .iter()
        .copied()
        .filter(|s| *s != "offline_access")
        .collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": id_token_algs.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "token_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": claims,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "ui_locales_supported": ui_locales,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    })
}
