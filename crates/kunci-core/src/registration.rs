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
use crate::error::OAuthError;
use crate::foreign_jws::check_jwk_set;
use crate::jose::Alg;
use crate::secret::{constant_time_eq, sha256};
use crate::subject::SubjectType;
use checks::{
    check_auth_method, check_backchannel_logout_uri, check_client_name, check_grants,
    check_id_token_alg, check_keys, check_post_logout_redirect_uris, check_redirect_uris,
    check_scope, check_subject_type, metadata_error,
};
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
    /// RFC 9449 §5.2.
    pub dpop_bound_access_tokens: Option<bool>,
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
    /// RFC 9449 §5.2: every token request must carry a DPoP proof.
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
}

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
            dpop_bound_access_tokens: self.dpop_bound_access_tokens.unwrap_or(false),
        })
    }
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
            dpop_bound_access_tokens: self.dpop_bound_access_tokens,
            // RFC 8693 needs an operator's policy; registered clients get none.
            token_exchange: Default::default(),
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
                dpop_bound_access_tokens: false,
            };
            metadata
                .to_client(&format!("registration:{method}"), None)
                .ok()
        })
        .collect()
}

mod checks;
#[cfg(test)]
mod tests;
