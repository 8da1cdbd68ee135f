//! Dynamic Client Registration (RFC 7591, OIDC Dynamic Client Registration 1.0) and its
//! management protocol (RFC 7592), the pure part: the operator's policy, the metadata a client
//! may register, its checks (one small function per rule, run in the order of
//! [`RequestedMetadata::validate`]) and the [`Client`] a stored registration stands for.
//! Storing and the endpoints' decisions are in `flow/registration.rs`.
//!
//! Dynamic clients are deliberately plainer than configured ones: never first-party (consent
//! is always asked), PKCE always, JWT access tokens, default refresh lifetimes, public subject
//! identifiers, no front-channel logout and no `client_secret_jwt` (its HMAC needs the plain
//! secret, and Kunci keeps only secret digests).

use crate::client::{
    AccessTokenFormat, AuthMethod, Client, GrantType, LogoutChannel, RefreshPolicy,
};
use crate::client_assertion::AssertionKeys;
use crate::error::{ErrorCode, OAuthError};
use crate::foreign_jws::check_jwk_set;
use crate::jose::Alg;
use crate::secret::{constant_time_eq, sha256};
use crate::subject::SubjectType;
use crate::uri_rules::{check_redirect_uri, check_web_uri};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the operator lets dynamic clients do (the `[registration]` configuration section).
/// Registration is enabled exactly when the provider has a policy.
#[derive(Clone)]
pub struct RegistrationPolicy {
    /// SHA-256 digests of the initial access tokens (RFC 7591 §3) that may register.
    pub initial_access_tokens: Vec<[u8; 32]>,
    /// The scopes a dynamic client may register; also what it gets without a `scope`.
    /// `offline_access` comes with the `refresh_token` grant instead.
    pub scopes: Vec<String>,
    /// The grants a dynamic client may register.
    pub grant_types: Vec<GrantType>,
    /// Whether `token_endpoint_auth_method = "none"` (public clients) may register.
    pub allow_public_clients: bool,
    pub max_redirect_uris: usize,
}

impl std::fmt::Debug for RegistrationPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Digests of tokens are lookup keys: keep them out of logs, like the tokens.
        f.debug_struct("RegistrationPolicy")
            .field("initial_access_tokens", &self.initial_access_tokens.len())
            .field("scopes", &self.scopes)
            .field("grant_types", &self.grant_types)
            .field("allow_public_clients", &self.allow_public_clients)
            .field("max_redirect_uris", &self.max_redirect_uris)
            .finish()
    }
}

impl RegistrationPolicy {
    /// RFC 7591 §3: the initial access token, by digest and in constant time. Every configured
    /// digest is compared, so the time taken does not tell which one nearly matched.
    pub fn accepts_initial_access_token(&self, token: &str) -> bool {
        let digest = sha256(token.as_bytes());
        self.initial_access_tokens
            .iter()
            .fold(false, |ok, t| constant_time_eq(&digest, t) | ok)
    }
}

/// Client metadata as a registration request (RFC 7591 §2, OIDC Registration §2) sends it.
/// Unknown fields are ignored (§2); known ones with the wrong JSON type are refused.
/// No `Debug`: it may carry a `client_secret` (RFC 7592 §2.2).
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct RequestedMetadata {
    /// RFC 7592 §2.2: required in an update, and it must be the client's.
    pub client_id: Option<String>,
    /// RFC 7592 §2.2: if an update carries it, it must be the current secret.
    pub client_secret: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
    pub client_name: Option<String>,
    pub scope: Option<String>,
    pub id_token_signed_response_alg: Option<String>,
    pub subject_type: Option<String>,
    pub jwks: Option<Value>,
    pub jwks_uri: Option<String>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: Option<bool>,
    pub require_pushed_authorization_requests: Option<bool>,
}

/// The metadata as registered: checked, with every default filled in. It is what the store
/// keeps (as JSON) and what the registration responses echo (RFC 7591 §3.2.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientMetadata {
    pub redirect_uris: Vec<String>,
    pub response_types: Vec<String>,
    pub grant_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    pub scope: String,
    pub id_token_signed_response_alg: String,
    pub subject_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_session_required: Option<bool>,
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
}

fn metadata_error(d: impl Into<std::borrow::Cow<'static, str>>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClientMetadata, d)
}

fn redirect_error(d: impl Into<std::borrow::Cow<'static, str>>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRedirectUri, d)
}

/// The limits of what a client may write into free-text and list fields, so that one
/// registration cannot make every lookup of it expensive.
const MAX_NAME_CHARS: usize = 200;
const MAX_URI_CHARS: usize = 2000;
const MAX_LIST: usize = 20;

impl RequestedMetadata {
    /// Parses a request body; a body that is not a JSON object of metadata is
    /// `invalid_client_metadata` (RFC 7591 §3.2.2).
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(v @ Value::Object(_)) => serde_json::from_value(v).map_err(|e| {
                metadata_error(format!(
                    "a metadata field has the wrong type: {}",
                    e.to_string().split(" at line").next().unwrap_or_default()
                ))
            }),
            _ => Err(metadata_error(
                "the request body must be a JSON object of client metadata",
            )),
        }
    }

    /// RFC 7591 §2 and §3.2.2, in order: grants and response types → authentication method
    /// and keys → redirect URIs → scope → ID token algorithm → subject type → logout URIs →
    /// name. `id_token_algs` are the provider's signing algorithms.
    pub fn validate(
        self,
        policy: &RegistrationPolicy,
        id_token_algs: &[Alg],
    ) -> Result<ClientMetadata, OAuthError> {
        let (grants, response_types) = check_grants(&self, policy)?;
        let method = check_auth_method(&self, policy, &grants)?;
        let (jwks, jwks_uri) = check_keys(&self, method)?;
        let redirect_uris = check_redirect_uris(&self, policy, &grants)?;
        let scope = check_scope(&self, policy, &grants)?;
        let alg = check_id_token_alg(&self, id_token_algs)?;
        check_subject_type(&self)?;
        let post_logout_redirect_uris = check_post_logout_redirect_uris(&self)?;
        check_backchannel_logout_uri(&self)?;
        let client_name = check_client_name(&self)?;
        Ok(ClientMetadata {
            redirect_uris,
            response_types,
            grant_types: grants.iter().map(|g| g.as_str().to_owned()).collect(),
            token_endpoint_auth_method: method.as_str().to_owned(),
            client_name,
            scope,
            id_token_signed_response_alg: alg.as_str().to_owned(),
            subject_type: "public".to_owned(),
            jwks,
            jwks_uri,
            post_logout_redirect_uris,
            backchannel_logout_session_required: self
                .backchannel_logout_uri
                .as_ref()
                .map(|_| self.backchannel_logout_session_required.unwrap_or(false)),
            backchannel_logout_uri: self.backchannel_logout_uri,
            require_pushed_authorization_requests: self
                .require_pushed_authorization_requests
                .unwrap_or(false),
        })
    }
}

/// RFC 7591 §2 and §2.1: `grant_types` (default `authorization_code`) among the policy's,
/// `response_types` (default `code` with that grant, none without) consistent with them.
/// `refresh_token` needs `authorization_code`, as for configured clients.
fn check_grants(
    m: &RequestedMetadata,
    policy: &RegistrationPolicy,
) -> Result<(Vec<GrantType>, Vec<String>), OAuthError> {
    let mut grants = Vec::new();
    let requested = m
        .grant_types
        .clone()
        .unwrap_or_else(|| vec!["authorization_code".into()]);
    for g in &requested {
        let grant = GrantType::parse(g)
            .filter(|g| policy.grant_types.contains(g))
            .ok_or_else(|| {
                metadata_error(format!("the grant type {g:?} may not be registered here"))
            })?;
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    let code = grants.contains(&GrantType::AuthorizationCode);
    if grants.contains(&GrantType::RefreshToken) && !code {
        return Err(metadata_error(
            "refresh_token comes with the authorization_code grant; register both",
        ));
    }
    let response_types = match &m.response_types {
        None if code => vec!["code".to_owned()],
        None => Vec::new(),
        Some(list) => {
            if list.iter().any(|r| r != "code") {
                return Err(metadata_error(
                    "only the response type \"code\" is supported",
                ));
            }
            if list.is_empty() == code {
                return Err(metadata_error(
                    "response_types [\"code\"] and the authorization_code grant go together (RFC 7591 §2.1)",
                ));
            }
            list.iter().take(1).cloned().collect()
        }
    };
    Ok((grants, response_types))
}

/// RFC 7591 §2 `token_endpoint_auth_method` (default `client_secret_basic`): the methods
/// whose credentials Kunci can check with what it stores.
fn check_auth_method(
    m: &RequestedMetadata,
    policy: &RegistrationPolicy,
    grants: &[GrantType],
) -> Result<AuthMethod, OAuthError> {
    let method = match m
        .token_endpoint_auth_method
        .as_deref()
        .unwrap_or("client_secret_basic")
    {
        "client_secret_basic" => AuthMethod::ClientSecretBasic,
        "client_secret_post" => AuthMethod::ClientSecretPost,
        "private_key_jwt" => AuthMethod::PrivateKeyJwt,
        "none" if policy.allow_public_clients => AuthMethod::None,
        "none" => {
            return Err(metadata_error(
                "public clients (token_endpoint_auth_method \"none\") may not register here",
            ));
        }
        other => {
            return Err(metadata_error(format!(
                "token_endpoint_auth_method {other:?} is not supported for registered clients (client_secret_basic, client_secret_post, private_key_jwt, none)"
            )));
        }
    };
    if method == AuthMethod::None && grants.contains(&GrantType::ClientCredentials) {
        return Err(metadata_error(
            "client_credentials is for confidential clients only (RFC 6749 §4.4)",
        ));
    }
    Ok(method)
}

/// RFC 7591 §2 `jwks` / `jwks_uri`: never both; one of them for `private_key_jwt`. Other
/// clients may register keys too, to sign request objects (RFC 9101).
fn check_keys(
    m: &RequestedMetadata,
    method: AuthMethod,
) -> Result<(Option<Value>, Option<String>), OAuthError> {
    match (&m.jwks, &m.jwks_uri) {
        (Some(_), Some(_)) => Err(metadata_error(
            "jwks and jwks_uri must not both be present (RFC 7591 §2)",
        )),
        (None, None) if method == AuthMethod::PrivateKeyJwt => Err(metadata_error(
            "private_key_jwt needs the client's public keys in jwks or jwks_uri",
        )),
        (Some(set), None) => {
            check_jwk_set(set).map_err(|e| metadata_error(format!("jwks: {e}")))?;
            Ok((Some(set.clone()), None))
        }
        (None, Some(uri)) => {
            check_length(uri)?;
            check_web_uri(uri).map_err(|e| metadata_error(format!("jwks_uri: {e}")))?;
            Ok((None, Some(uri.clone())))
        }
        (None, None) => Ok((None, None)),
    }
}

/// RFC 7591 §2 `redirect_uris`, required for the code grant (OIDC Registration §2), each
/// under the rules of configured clients (RFC 9700 §2.1) and, since anyone holding an
/// initial access token may register, only https or http to loopback: a private-use scheme
/// proves nothing about which app receives the code (RFC 8252 §8.6).
fn check_redirect_uris(
    m: &RequestedMetadata,
    policy: &RegistrationPolicy,
    grants: &[GrantType],
) -> Result<Vec<String>, OAuthError> {
    let uris = m.redirect_uris.clone().unwrap_or_default();
    if uris.is_empty() && grants.contains(&GrantType::AuthorizationCode) {
        return Err(redirect_error(
            "redirect_uris is required for the authorization_code grant",
        ));
    }
    if uris.len() > policy.max_redirect_uris {
        return Err(redirect_error(format!(
            "at most {} redirect_uris may be registered",
            policy.max_redirect_uris
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for uri in uris {
        if uri.len() > MAX_URI_CHARS {
            return Err(redirect_error("a redirect URI is too long"));
        }
        check_redirect_uri(&uri)
            .and_then(|()| check_web_uri(&uri).map(|_| ()))
            .map_err(|e| redirect_error(format!("redirect_uris: {e}")))?;
        if !out.contains(&uri) {
            out.push(uri);
        }
    }
    Ok(out)
}

/// RFC 7591 §2 `scope`: names the policy allows (default: all of them); `offline_access`
/// only with, and always with, the `refresh_token` grant.
fn check_scope(
    m: &RequestedMetadata,
    policy: &RegistrationPolicy,
    grants: &[GrantType],
) -> Result<String, OAuthError> {
    let refresh = grants.contains(&GrantType::RefreshToken);
    let mut scopes = match &m.scope {
        Some(raw) => crate::scope::parse(raw)
            .ok_or_else(|| metadata_error("scope contains a character not allowed in scopes"))?,
        None => policy
            .scopes
            .iter()
            .filter(|s| *s != "offline_access")
            .cloned()
            .collect(),
    };
    for s in &scopes {
        if s == "offline_access" {
            if !refresh {
                return Err(metadata_error(
                    "the offline_access scope needs the refresh_token grant",
                ));
            }
        } else if !policy.scopes.contains(s) {
            return Err(metadata_error(format!(
                "the scope {s:?} may not be registered here"
            )));
        }
    }
    if refresh && !scopes.iter().any(|s| s == "offline_access") {
        scopes.push("offline_access".into());
    }
    Ok(crate::scope::join(&scopes))
}

/// OIDC Registration §2 `id_token_signed_response_alg` (default RS256): one this provider
/// signs with; never `none`.
fn check_id_token_alg(m: &RequestedMetadata, algs: &[Alg]) -> Result<Alg, OAuthError> {
    let name = m.id_token_signed_response_alg.as_deref().unwrap_or("RS256");
    Alg::parse(name)
        .filter(|a| algs.contains(a))
        .ok_or_else(|| {
            metadata_error(format!(
                "id_token_signed_response_alg {name:?} is not one this server signs with"
            ))
        })
}

/// OIDC Registration §2 `subject_type`: `public` only (pairwise needs a sector the operator
/// vouches for, so it stays with configured clients).
fn check_subject_type(m: &RequestedMetadata) -> Result<(), OAuthError> {
    match m.subject_type.as_deref() {
        None | Some("public") => Ok(()),
        Some(other) => Err(metadata_error(format!(
            "subject_type {other:?} is not available for registered clients; use \"public\""
        ))),
    }
}

/// RP-Initiated Logout §3.1: like redirect URIs.
fn check_post_logout_redirect_uris(m: &RequestedMetadata) -> Result<Vec<String>, OAuthError> {
    let uris = m.post_logout_redirect_uris.clone().unwrap_or_default();
    if uris.len() > MAX_LIST {
        return Err(metadata_error(format!(
            "at most {MAX_LIST} post_logout_redirect_uris may be registered"
        )));
    }
    for uri in &uris {
        check_length(uri)?;
        check_redirect_uri(uri)
            .and_then(|()| check_web_uri(uri).map(|_| ()))
            .map_err(|e| metadata_error(format!("post_logout_redirect_uris: {e}")))?;
    }
    Ok(uris)
}

/// Back-Channel Logout §2.2: absolute https (http to loopback), no fragment.
fn check_backchannel_logout_uri(m: &RequestedMetadata) -> Result<(), OAuthError> {
    if let Some(uri) = &m.backchannel_logout_uri {
        check_length(uri)?;
        check_web_uri(uri).map_err(|e| metadata_error(format!("backchannel_logout_uri: {e}")))?;
    }
    Ok(())
}

/// RFC 7591 §2 `client_name`, shown on the consent page: bounded, no control characters.
fn check_client_name(m: &RequestedMetadata) -> Result<Option<String>, OAuthError> {
    match m.client_name.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(name)
            if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) =>
        {
            Err(metadata_error(format!(
                "client_name must be at most {MAX_NAME_CHARS} characters without control characters"
            )))
        }
        Some(name) => Ok(Some(name.to_owned())),
    }
}

fn check_length(uri: &str) -> Result<(), OAuthError> {
    if uri.len() > MAX_URI_CHARS {
        return Err(metadata_error("a URI in the metadata is too long"));
    }
    Ok(())
}

impl ClientMetadata {
    /// Whether the method authenticates with a secret Kunci issues.
    pub fn needs_secret(&self) -> bool {
        matches!(
            self.token_endpoint_auth_method.as_str(),
            "client_secret_basic" | "client_secret_post"
        )
    }

    /// The client this registration stands for. Fails only for metadata that did not come
    /// from [`RequestedMetadata::validate`] (a corrupt row).
    pub fn to_client(
        &self,
        client_id: &str,
        secret_sha256: Option<[u8; 32]>,
    ) -> Result<Client, String> {
        let auth_method = match self.token_endpoint_auth_method.as_str() {
            "client_secret_basic" => AuthMethod::ClientSecretBasic,
            "client_secret_post" => AuthMethod::ClientSecretPost,
            "private_key_jwt" => AuthMethod::PrivateKeyJwt,
            "none" => AuthMethod::None,
            other => return Err(format!("unknown token_endpoint_auth_method {other:?}")),
        };
        let grant_types = self
            .grant_types
            .iter()
            .map(|g| GrantType::parse(g).ok_or_else(|| format!("unknown grant type {g:?}")))
            .collect::<Result<Vec<_>, _>>()?;
        let id_token_alg = Alg::parse(&self.id_token_signed_response_alg)
            .ok_or("unknown id_token_signed_response_alg")?;
        let assertion_keys = match (&self.jwks, &self.jwks_uri) {
            (Some(set), _) => Some(AssertionKeys::Jwks(check_jwk_set(set)?)),
            (None, Some(uri)) => Some(AssertionKeys::JwksUri(uri.clone())),
            (None, None) => None,
        };
        Ok(Client {
            id: client_id.to_owned(),
            name: self
                .client_name
                .clone()
                .unwrap_or_else(|| client_id.to_owned()),
            secret_sha256,
            redirect_uris: self.redirect_uris.clone(),
            grant_types,
            scopes: self
                .scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            auth_method,
            first_party: false,
            id_token_alg,
            require_pkce: true,
            refresh: RefreshPolicy::default(),
            access_token_format: AccessTokenFormat::Jwt,
            audiences: Vec::new(),
            resource_server: false,
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            backchannel_logout: self
                .backchannel_logout_uri
                .as_ref()
                .map(|uri| LogoutChannel {
                    uri: uri.clone(),
                    session_required: self.backchannel_logout_session_required.unwrap_or(false),
                }),
            frontchannel_logout: None,
            assertion_keys,
            require_par: self.require_pushed_authorization_requests,
            subject_type: SubjectType::Public,
        })
    }
}

/// Clients standing for what registration allows, so that discovery (which lists what some
/// client can use) also lists what a client could register: one per authentication method.
pub fn representative_clients(policy: &RegistrationPolicy) -> Vec<Client> {
    let mut methods = vec![
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ];
    if policy.allow_public_clients {
        methods.push("none");
    }
    methods
        .into_iter()
        .filter_map(|method| {
            let grant_types = policy
                .grant_types
                .iter()
                .filter(|g| method != "none" || **g != GrantType::ClientCredentials)
                .map(|g| g.as_str().to_owned())
                .collect();
            let metadata = ClientMetadata {
                redirect_uris: Vec::new(),
                response_types: Vec::new(),
                grant_types,
                token_endpoint_auth_method: method.to_owned(),
                client_name: None,
                scope: String::new(),
                id_token_signed_response_alg: "RS256".into(),
                subject_type: "public".into(),
                jwks: None,
                // Never fetched: these clients are never looked up, only counted.
                jwks_uri: (method == "private_key_jwt").then(|| "https://keys.invalid/".into()),
                post_logout_redirect_uris: Vec::new(),
                backchannel_logout_uri: None,
                backchannel_logout_session_required: None,
                require_pushed_authorization_requests: false,
            };
            metadata
                .to_client(&format!("registration:{method}"), None)
                .ok()
        })
        .collect()
}

#[cfg(test)]
mod tests;
