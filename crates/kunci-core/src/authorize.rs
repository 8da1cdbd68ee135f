//! Validation of authorization requests (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636,
//! RFC 9700), as one ordered list of small steps.
//!
//! Until the client and its redirect URI are trusted, an error must be shown to the user and
//! never redirected (RFC 6749 §4.1.2.1): that is [`AuthorizeError::Page`]. After that, errors go
//! back to the client: [`AuthorizeError::Redirect`].

use crate::claims_request::{ClaimsRequest, essential_acr_attainable};
use crate::client::{Client, ClientLookup, GrantType};
use crate::error::{ErrorCode, OAuthError};
use crate::{pkce, scope};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// Upper bound on any single parameter, so hostile input cannot bloat stored interactions.
const MAX_PARAM_LEN: usize = 2048;

/// The raw parameters of an authorization request, from the query string or form body.
#[derive(Debug, Default, Clone)]
pub struct AuthorizeParams {
    params: HashMap<String, String>,
    duplicated: Vec<String>,
}

impl AuthorizeParams {
    /// RFC 6749 §3.1: parameters must not be included more than once; duplicates are remembered
    /// and refused during validation (not silently resolved).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut out = Self::default();
        for (k, v) in pairs {
            match out.params.entry(k) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    out.duplicated.push(e.key().clone())
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(v);
                }
            }
        }
        out
    }
    /// A parameter's value, if present and not empty.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name)
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// `prompt` values (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

/// A validated authorization request. Everything here has been checked against the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// S256 challenge; `None` only for confidential clients that opted out of PKCE.
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
    pub ui_locales: Vec<String>,
    pub acr_values: Vec<String>,
    /// The `claims` parameter (OIDC Core §5.5), limited to the claims Kunci has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<ClaimsRequest>,
    /// RFC 9449 §10: the thumbprint of the DPoP key the code will be bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
}

impl AuthorizationRequest {
    pub fn is_openid(&self) -> bool {
        self.scopes.iter().any(|s| s == "openid")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Render to the user; the redirect URI is not trusted.
    Page(OAuthError),
    /// Send the user agent back to the client with the error (and `state`, `iss`).
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}

impl AuthorizeError {
    pub fn oauth(&self) -> &OAuthError {
        match self {
            Self::Page(e) | Self::Redirect { error: e, .. } => e,
        }
    }
}

/// Validates `params` against the registered clients. The order of the steps is the order the
/// specs imply: identify the client, trust its redirect URI, then check everything else.
pub fn validate(
    params: &AuthorizeParams,
    clients: &dyn ClientLookup,
) -> Result<(Arc<Client>, AuthorizationRequest), AuthorizeError> {
    let client = check_client(params, clients).map_err(AuthorizeError::Page)?;
    let redirect_uri = check_redirect_uri(params, &client).map_err(AuthorizeError::Page)?;

    // From here on the redirect URI is trusted.
    // RFC 6749 §4.1.2.1: an error carries the exact `state` the client sent, even one refused
    // as too long (its size is already bounded by the HTTP request limits).
    let state = params.get("state").map(str::to_owned);
    let back = |error: OAuthError| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error,
    };
    check_no_duplicates(params).map_err(back)?;
    check_lengths(params).map_err(back)?;
    check_no_request_objects(params).map_err(back)?;
    check_response_type(params, &client).map_err(back)?;
    check_response_mode(params).map_err(back)?;
    let scopes = check_scope(params, &client).map_err(back)?;
    let code_challenge = check_pkce(params, &client).map_err(back)?;
    let prompt = check_prompt(params).map_err(back)?;
    let max_age = check_max_age(params).map_err(back)?;
    let claims = check_claims(params).map_err(back)?;
    let dpop_jkt = check_dpop_jkt(params).map_err(back)?;

    let list = |name: &str| -> Vec<String> {
        params
            .get(name)
            .map(|v| {
                v.split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok((
        client.clone(),
        AuthorizationRequest {
            client_id: client.id.clone(),
            redirect_uri,
            scopes,
            state,
            nonce: params.get("nonce").map(str::to_owned),
            code_challenge,
            prompt,
            max_age,
            login_hint: params.get("login_hint").map(str::to_owned),
            ui_locales: list("ui_locales"),
            acr_values: list("acr_values"),
            claims,
            dpop_jkt,
        },
    ))
}

/// RFC 9449 §10: `dpop_jkt` is an RFC 7638 SHA-256 thumbprint, base64url without padding.
fn check_dpop_jkt(params: &AuthorizeParams) -> Result<Option<String>, OAuthError> {
    let Some(jkt) = params.get("dpop_jkt") else {
        return Ok(None);
    };
    let well_formed = jkt.len() == 43
        && jkt
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(OAuthError::invalid_request(
            "dpop_jkt must be a base64url SHA-256 JWK thumbprint",
        ));
    }
    Ok(Some(jkt.to_owned()))
}

/// RFC 6749 §4.1.1: `client_id` is required and must identify a registered client.
fn check_client(
    params: &AuthorizeParams,
    clients: &dyn ClientLookup,
) -> Result<Arc<Client>, OAuthError> {
    if params.duplicated.iter().any(|k| k == "client_id") {
        return Err(OAuthError::invalid_request(
            "client_id was given more than once",
        ));
    }
    let id = params
        .get("client_id")
        .ok_or_else(|| OAuthError::invalid_request("client_id is missing"))?;
    clients.get(id).ok_or_else(|| {
        OAuthError::new(
            ErrorCode::InvalidClient,
            "this application is not registered",
        )
    })
}

/// OIDC Core §3.1.2.1 (redirect_uri REQUIRED) and RFC 9700 §2.1: exact string match.
fn check_redirect_uri(params: &AuthorizeParams, client: &Client) -> Result<String, OAuthError> {
    if params.duplicated.iter().any(|k| k == "redirect_uri") {
        return Err(OAuthError::invalid_request(
            "redirect_uri was given more than once",
        ));
    }
    let uri = params
        .get("redirect_uri")
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is missing"))?;
    if !client.has_redirect_uri(uri) {
        return Err(OAuthError::invalid_request(
            "redirect_uri is not registered for this application",
        ));
    }
    Ok(uri.to_owned())
}

/// RFC 6749 §3.1: no parameter may appear twice.
fn check_no_duplicates(params: &AuthorizeParams) -> Result<(), OAuthError> {
    match params.duplicated.first() {
        Some(k) => Err(OAuthError::invalid_request(format!(
            "parameter {k} was given more than once"
        ))),
        None => Ok(()),
    }
}

fn check_lengths(params: &AuthorizeParams) -> Result<(), OAuthError> {
    match params.params.iter().find(|(_, v)| v.len() > MAX_PARAM_LEN) {
        Some((k, _)) => Err(OAuthError::invalid_request(format!(
            "parameter {k} is too long"
        ))),
        None => Ok(()),
    }
}

/// OIDC Core §6: request objects are not supported (yet), and discovery says so.
fn check_no_request_objects(params: &AuthorizeParams) -> Result<(), OAuthError> {
    if params.get("request").is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        ));
    }
    if params.get("request_uri").is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        ));
    }
    Ok(())
}

/// RFC 6749 §4.1.1 and RFC 9700 §2.1.2: only the authorization code flow.
fn check_response_type(params: &AuthorizeParams, client: &Client) -> Result<(), OAuthError> {
    match params.get("response_type") {
        None => Err(OAuthError::invalid_request("response_type is missing")),
        Some("code") if client.allows_grant(GrantType::AuthorizationCode) => Ok(()),
        Some("code") => Err(OAuthError::unauthorized_client(
            "this application may not use the authorization code flow",
        )),
        Some(_) => Err(OAuthError::new(
            ErrorCode::UnsupportedResponseType,
            "only response_type=code is supported",
        )),
    }
}

/// OAuth 2.0 Multiple Response Types §2.1: only `query` is offered for `code`.
fn check_response_mode(params: &AuthorizeParams) -> Result<(), OAuthError> {
    match params.get("response_mode") {
        None | Some("query") => Ok(()),
        Some(_) => Err(OAuthError::invalid_request(
            "only response_mode=query is supported",
        )),
    }
}

/// RFC 6749 §3.3: every requested scope must be allowed for the client.
///
/// OIDC Core §11: `offline_access` from a client that may not hold refresh tokens is ignored
/// (dropped), not refused. For the others it stays and is consented like any scope: the
/// consent page names it unless the client is first-party or a remembered consent already
/// includes it, so a code carries it only with the user's consent.
pub(crate) fn check_scope(
    params: &AuthorizeParams,
    client: &Client,
) -> Result<Vec<String>, OAuthError> {
    let raw = params
        .get("scope")
        .ok_or_else(|| OAuthError::invalid_scope("scope is missing"))?;
    let mut scopes = scope::parse(raw)
        .ok_or_else(|| OAuthError::invalid_scope("scope contains invalid characters"))?;
    if scopes.is_empty() {
        return Err(OAuthError::invalid_scope("scope is missing"));
    }
    if !client.gets_refresh_tokens() {
        scopes.retain(|s| s != "offline_access");
        if scopes.is_empty() {
            return Err(OAuthError::invalid_scope(
                "offline_access is not available to this application, and no other scope was requested",
            ));
        }
    }
    if let Some(bad) = scopes.iter().find(|s| !client.scopes.contains(s)) {
        return Err(OAuthError::invalid_scope(format!(
            "scope {bad} is not allowed for this application"
        )));
    }
    Ok(scopes)
}

/// RFC 7636 §4.3, RFC 9700 §2.1.1: S256 only; required for public clients and, by default, all.
fn check_pkce(params: &AuthorizeParams, client: &Client) -> Result<Option<String>, OAuthError> {
    let challenge = params.get("code_challenge");
    let method = params.get("code_challenge_method");
    match (challenge, method) {
        (None, Some(_)) => Err(OAuthError::invalid_request(
            "code_challenge_method given without code_challenge",
        )),
        (None, None) if client.is_public() || client.require_pkce => Err(
            OAuthError::invalid_request("code_challenge is required (PKCE with S256)"),
        ),
        (None, None) => Ok(None),
        // A missing method means `plain` (RFC 7636 §4.3), which is refused like an explicit one.
        (Some(_), None | Some("plain")) => Err(OAuthError::invalid_request(
            "code_challenge_method must be S256",
        )),
        (Some(_), Some(m)) if m != "S256" => Err(OAuthError::invalid_request(
            "code_challenge_method must be S256",
        )),
        (Some(c), Some(_)) if !pkce::is_valid_challenge(c) => Err(OAuthError::invalid_request(
            "code_challenge is not a valid S256 challenge",
        )),
        (Some(c), Some(_)) => Ok(Some(c.to_owned())),
    }
}

/// OIDC Core §3.1.2.1: `none` must stand alone.
fn check_prompt(params: &AuthorizeParams) -> Result<Prompt, OAuthError> {
    let mut p = Prompt::default();
    let mut count = 0;
    for v in params
        .get("prompt")
        .unwrap_or("")
        .split(' ')
        .filter(|v| !v.is_empty())
    {
        count += 1;
        match v {
            "none" => p.none = true,
            "login" => p.login = true,
            "consent" => p.consent = true,
            "select_account" => p.select_account = true,
            other => {
                return Err(OAuthError::invalid_request(format!(
                    "prompt value {other} is not supported"
                )));
            }
        }
    }
    if p.none && count > 1 {
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(p)
}

/// OIDC Core §3.1.2.1: a non-negative integer number of seconds.
fn check_max_age(params: &AuthorizeParams) -> Result<Option<u64>, OAuthError> {
    params
        .get("max_age")
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| OAuthError::invalid_request("max_age must be a non-negative integer"))
        })
        .transpose()
}

/// OIDC Core §5.5: `claims` is a JSON object (invalid → `invalid_request`). An essential `acr`
/// that no sign-in Kunci offers can reach fails at once (§5.5.1.1, OpenID Connect Core Unmet
/// Authentication Requirements 1.0 §2).
fn check_claims(params: &AuthorizeParams) -> Result<Option<ClaimsRequest>, OAuthError> {
    let Some(raw) = params.get("claims") else {
        return Ok(None);
    };
    let claims = ClaimsRequest::parse(raw).map_err(OAuthError::invalid_request)?;
    if !essential_acr_attainable(&claims) {
        return Err(OAuthError::new(
            ErrorCode::UnmetAuthenticationRequirements,
            "no sign-in method reaches the essential acr requested",
        ));
    }
    Ok(Some(claims))
}
