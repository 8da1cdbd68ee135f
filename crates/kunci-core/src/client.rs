//! Registered clients (relying parties) and client authentication at the token endpoint
//! (RFC 6749 §2.3, OIDC Core §9). Clients come from the operator's config file.

use crate::client_assertion::AssertionKeys;
use crate::error::OAuthError;
use crate::jose::Alg;
use crate::secret::{Secret, constant_time_eq, sha256};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// A public client (SPA, mobile app): no secret, PKCE mandatory.
    None,
    /// RFC 7523 / OIDC Core §9: a JWT signed with HS256 under the client's secret.
    ClientSecretJwt,
    /// RFC 7523 / OIDC Core §9: a JWT signed with one of the client's registered keys.
    PrivateKeyJwt,
}

impl AuthMethod {
    /// The wire name (`token_endpoint_auth_method`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::None => "none",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// RFC 6749 §4.1 with PKCE (RFC 7636).
    AuthorizationCode,
    /// RFC 6749 §6: only for clients whose policy allows refresh tokens.
    RefreshToken,
    /// RFC 6749 §4.4: confidential clients acting on their own behalf.
    ClientCredentials,
    /// RFC 8693: confidential clients exchanging a token for one meant for another target.
    TokenExchange,
    /// RFC 8628: devices without a browser (TVs, kiosks, chat bots); public or confidential.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
}

impl GrantType {
    /// Every grant, in the order discovery lists them.
    pub const ALL: [GrantType; 5] = [
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::ClientCredentials,
        Self::TokenExchange,
        Self::DeviceCode,
    ];

    /// The `grant_type` wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::TokenExchange => crate::token_exchange::GRANT_TYPE,
            Self::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// How a client's access tokens look (DESIGN.md, "Tokens and keys").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessTokenFormat {
    /// A signed JWT (RFC 9068): resource servers can check it offline.
    #[default]
    Jwt,
    /// A random reference whose claims live in the ephemeral store: revocation takes effect
    /// at once everywhere, and resource servers read it through introspection (RFC 7662).
    Opaque,
}

/// Lifetimes of a client's refresh tokens (RFC 9700 §4.14.2). Every use restarts the idle
/// lifetime; none outlives the absolute one, counted from the authorization that started it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    pub idle_ttl: u64,
    pub absolute_ttl: u64,
    /// Every use returns a new refresh token and retires the old one, so a replay is seen
    /// (RFC 9700 §4.14.2). Off only for sender-constrained tokens (a confidential client's, or
    /// a DPoP-bound one's), as FAPI 2.0 §5.3.2.1 asks: the same token then stays until it
    /// idles or ages out.
    pub rotate: bool,
}

impl Default for RefreshPolicy {
    /// 30 days idle, 90 days in all.
    fn default() -> Self {
        Self {
            idle_ttl: 30 * 24 * 3600,
            absolute_ttl: 90 * 24 * 3600,
            rotate: true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub name: String,
    /// SHA-256 of the secret. Secrets are generated with high entropy, so a fast digest is
    /// enough and keeps the token endpoint fast (DESIGN.md, "Tokens and keys").
    pub secret_sha256: Option<[u8; 32]>,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub auth_method: AuthMethod,
    /// Skip the consent page: the operator vouches for this app.
    pub first_party: bool,
    pub id_token_alg: Alg,
    /// PKCE required even for confidential clients (default true, RFC 9700 §2.1.1).
    pub require_pkce: bool,
    /// Refresh token lifetimes; used only when `grant_types` has `RefreshToken`.
    pub refresh: RefreshPolicy,
    pub access_token_format: AccessTokenFormat,
    /// Resource indicators (RFC 8707) this client may name in `resource` at the token
    /// endpoint; for a resource server, also the audiences whose tokens it may introspect.
    pub audiences: Vec<String>,
    /// A resource server may introspect access tokens issued to other clients whose `aud` is
    /// one of its `audiences` (RFC 7662 §4).
    pub resource_server: bool,
    /// Where RP-Initiated Logout may send the browser afterwards (exact match).
    pub post_logout_redirect_uris: Vec<String>,
    /// Back-Channel Logout 1.0: where logout tokens are POSTed.
    pub backchannel_logout: Option<LogoutChannel>,
    /// Front-Channel Logout 1.0: what the logged-out page loads in an iframe.
    pub frontchannel_logout: Option<LogoutChannel>,
    /// What `client_secret_jwt` / `private_key_jwt` assertions are verified with.
    pub assertion_keys: Option<AssertionKeys>,
    /// RFC 9126 §6: authorization requests only through `/par`.
    pub require_par: bool,
    /// OIDC Core §8: `public` or `pairwise` (with its sector) subject identifiers.
    pub subject_type: crate::subject::SubjectType,
    /// RFC 9449 §5.2: every token request must carry a DPoP proof, so every access token is
    /// sender-constrained (set by the FAPI 2.0 profile).
    pub dpop_bound_access_tokens: bool,
    /// RFC 8693: what the client may exchange tokens into; used only with `TokenExchange`.
    pub token_exchange: crate::token_exchange::TokenExchangePolicy,
}

/// A client's logout endpoint (Back-Channel Logout §2.2, Front-Channel Logout §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutChannel {
    pub uri: String,
    /// The client needs `sid` (back-channel: in the token, which always has it; front-channel:
    /// `iss` and `sid` as query parameters of the iframe URL).
    pub session_required: bool,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.auth_method == AuthMethod::None
    }
    pub fn allows_grant(&self, g: GrantType) -> bool {
        self.grant_types.contains(&g)
    }
    /// Whether this client may be given refresh tokens (with `offline_access`).
    pub fn gets_refresh_tokens(&self) -> bool {
        self.allows_grant(GrantType::RefreshToken)
    }
    /// Whether the client registered public keys (`jwks` or `jwks_uri`): needed for
    /// `private_key_jwt` and for request objects (RFC 9101).
    pub fn has_public_keys(&self) -> bool {
        matches!(
            self.assertion_keys,
            Some(AssertionKeys::Jwks(_) | AssertionKeys::JwksUri(_))
        )
    }
    /// Exact string match, as RFC 9700 §2.1 requires: no prefix, wildcard or normalisation.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }
    /// Exact string match, as for redirect URIs (RP-Initiated Logout §3).
    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|r| r == uri)
    }
}

/// The clients known to this provider, by id.
#[derive(Debug, Default, Clone)]
pub struct ClientRegistry {
    by_id: HashMap<String, Arc<Client>>,
}

impl ClientRegistry {
    pub fn new(clients: impl IntoIterator<Item = Client>) -> Self {
        Self {
            by_id: clients
                .into_iter()
                .map(|c| (c.id.clone(), Arc::new(c)))
                .collect(),
        }
    }
    pub fn get(&self, id: &str) -> Option<Arc<Client>> {
        self.by_id.get(id).cloned()
    }
    pub fn all(&self) -> impl Iterator<Item = &Arc<Client>> {
        self.by_id.values()
    }
}

/// Where the synchronous checks (`authorize::validate`, `logout::check_end_session`,
/// [`authenticate`]) look clients up: the configured [`ClientRegistry`], or
/// [`LoadedClients`], what a flow loaded beforehand (registered clients come from the store,
/// which is async: `Provider::client`).
pub trait ClientLookup: Sync {
    fn get(&self, id: &str) -> Option<Arc<Client>>;
}

impl ClientLookup for ClientRegistry {
    fn get(&self, id: &str) -> Option<Arc<Client>> {
        self.by_id.get(id).cloned()
    }
}

/// Clients a flow has already looked up, configured or registered.
#[derive(Debug, Default, Clone)]
pub struct LoadedClients(pub Vec<Arc<Client>>);

impl ClientLookup for LoadedClients {
    fn get(&self, id: &str) -> Option<Arc<Client>> {
        self.0.iter().find(|c| c.id == id).cloned()
    }
}

/// How the client presented itself at the token endpoint, as parsed from the HTTP request.
#[derive(Debug, Clone)]
pub enum PresentedCredentials {
    /// `Authorization: Basic` (already URL-decoded per RFC 6749 §2.3.1).
    Basic {
        client_id: String,
        secret: Secret<String>,
    },
    /// `client_id` and `client_secret` in the form body.
    Post {
        client_id: String,
        secret: Secret<String>,
    },
    /// Only `client_id` in the form body: a public client.
    None { client_id: String },
    /// `client_assertion` with the JWT bearer type (RFC 7523 §2.2). `client_id` is the form's
    /// or, without one, the assertion's unverified `sub` (verified later).
    Assertion {
        client_id: String,
        assertion: Secret<String>,
    },
}

impl PresentedCredentials {
    pub fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::None { client_id }
            | Self::Assertion { client_id, .. } => client_id,
        }
    }
}

/// Authenticates a client by secret or as a public client. Every failure is the same
/// `invalid_client` so that the response does not tell an attacker which part was wrong
/// (RFC 6749 §5.2). Assertions need keys and the replay store: `Provider::authenticate_client`.
pub fn authenticate(
    registry: &dyn ClientLookup,
    presented: &PresentedCredentials,
) -> Result<Arc<Client>, OAuthError> {
    let fail = || OAuthError::invalid_client("client authentication failed");
    let client = registry.get(presented.client_id()).ok_or_else(fail)?;
    let (method, secret) = match presented {
        PresentedCredentials::Basic { secret, .. } => (AuthMethod::ClientSecretBasic, Some(secret)),
        PresentedCredentials::Post { secret, .. } => (AuthMethod::ClientSecretPost, Some(secret)),
        PresentedCredentials::None { .. } => (AuthMethod::None, None),
        PresentedCredentials::Assertion { .. } => return Err(fail()),
    };
    if method != client.auth_method {
        return Err(fail());
    }
    match (secret, client.secret_sha256) {
        (None, _) => Ok(client),
        (Some(s), Some(expected))
            if constant_time_eq(&sha256(s.expose().as_bytes()), &expected) =>
        {
            Ok(client)
        }
        _ => Err(fail()),
    }
}
