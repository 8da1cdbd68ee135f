//! The `[[clients]]` tables: one relying party each, checked and turned into the core's `Client`.
//! Every rule names its key, so an operator sees exactly which line of the file to change.

use super::client_auth;
use anyhow::{Context, bail};
use kunci_core::client::{
    AccessTokenFormat, AuthMethod, Client, GrantType, LogoutChannel, RefreshPolicy,
};
use kunci_core::jose::Alg;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub client_id: String,
    pub name: String,
    /// `sha256:<64 hex>` (from `kunci client hash-secret`) or `env:VAR` (VAR holds the secret).
    #[serde(default)]
    pub secret: Option<String>,
    pub redirect_uris: Vec<String>,
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default = "default_auth_method")]
    pub token_endpoint_auth_method: String,
    #[serde(default)]
    pub first_party: bool,
    #[serde(default = "default_alg")]
    pub id_token_signed_response_alg: String,
    #[serde(default = "default_true")]
    pub require_pkce: bool,
    /// RP-Initiated Logout: where `/logout` may send the browser afterwards (exact match).
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Back-Channel Logout: where logout tokens are POSTed when a session ends.
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    #[serde(default = "default_true")]
    pub backchannel_logout_session_required: bool,
    /// Front-Channel Logout: loaded in an iframe of the logged-out page.
    #[serde(default)]
    pub frontchannel_logout_uri: Option<String>,
    #[serde(default = "default_true")]
    pub frontchannel_logout_session_required: bool,
    /// Refresh tokens (with `offline_access`); adds the `refresh_token` grant.
    #[serde(default)]
    pub refresh_tokens: bool,
    #[serde(default = "default_refresh_idle")]
    pub refresh_token_idle_ttl_secs: u64,
    #[serde(default = "default_refresh_absolute")]
    pub refresh_token_absolute_ttl_secs: u64,
    /// Every use returns a new refresh token (RFC 9700 §4.14.2); `false` only for
    /// sender-constrained tokens (confidential or DPoP-bound clients).
    #[serde(default = "default_true")]
    pub refresh_token_rotation: bool,
    /// `jwt` (RFC 9068) or `opaque`.
    #[serde(default = "default_access_token_format")]
    pub access_token_format: String,
    /// RFC 8707 resources this client may ask tokens for; for a resource server, the
    /// audiences whose tokens it may introspect.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// May introspect access tokens of other clients whose `aud` is one of `audiences`.
    #[serde(default)]
    pub resource_server: bool,
    /// `private_key_jwt`: the client's public keys, a JWK Set as JSON text.
    #[serde(default)]
    pub jwks: Option<String>,
    /// `private_key_jwt`: where the client publishes its JWK Set (fetched and cached).
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// RFC 9126 §6: authorization requests only through `/par`.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// OIDC Core §8: `public` (default) or `pairwise`.
    #[serde(default = "default_subject_type")]
    pub subject_type: String,
    /// For `pairwise`: the sector host, needed when `redirect_uris` have several hosts.
    #[serde(default)]
    pub sector_identifier: Option<String>,
    /// RFC 9449 §5.2: every token request must carry a DPoP proof.
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
    /// A security profile the client is held to: `fapi2` (FAPI 2.0 Security Profile, see
    /// `profile.rs`).
    #[serde(default)]
    pub profile: Option<String>,
    /// RFC 8693: what the client may exchange tokens into (`[clients.token_exchange]`).
    #[serde(default)]
    pub token_exchange: Option<super::TokenExchangeConfig>,
}

fn default_subject_type() -> String {
    "public".into()
}

fn default_grant_types() -> Vec<String> {
    vec!["authorization_code".into()]
}
fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into(), "email".into()]
}
fn default_auth_method() -> String {
    "client_secret_basic".into()
}
fn default_alg() -> String {
    "RS256".into()
}
fn default_true() -> bool {
    true
}
fn default_refresh_idle() -> u64 {
    RefreshPolicy::default().idle_ttl
}
fn default_refresh_absolute() -> u64 {
    RefreshPolicy::default().absolute_ttl
}
fn default_access_token_format() -> String {
    "jwt".into()
}

impl ClientConfig {
    pub fn to_client(&self) -> anyhow::Result<Client> {
        if self.client_id.is_empty()
            || self.client_id.len() > 128
            || self.client_id.chars().any(|c| c.is_control() || c == ':')
        {
            bail!("client_id: must be 1 to 128 characters without ':' or control characters");
        }
        let client_auth::ClientAuth {
            method: auth_method,
            secret_sha256,
            assertion_keys,
        } = self.client_auth()?;
        if self.redirect_uris.is_empty()
            && self.grant_types.iter().any(|g| g == "authorization_code")
        {
            bail!("redirect_uris: at least one is required for the authorization_code grant");
        }
        for (i, uri) in self.redirect_uris.iter().enumerate() {
            check_redirect_uri(uri).with_context(|| format!("redirect_uris[{i}]"))?;
        }
        let tokens = self.token_settings(auth_method)?;
        let id_token_alg = Alg::parse(&self.id_token_signed_response_alg).with_context(|| {
            format!(
                "id_token_signed_response_alg: {:?} must be RS256, ES256, PS256 or EdDSA",
                self.id_token_signed_response_alg
            )
        })?;
        if auth_method == AuthMethod::None && !self.require_pkce {
            bail!("require_pkce: public clients always use PKCE; remove require_pkce = false");
        }
        let (backchannel_logout, frontchannel_logout) = self.logout_channels()?;
        let token_exchange = self.token_exchange_policy(&tokens.grant_types, auth_method)?;
        let client = Client {
            id: self.client_id.clone(),
            name: self.name.clone(),
            secret_sha256,
            redirect_uris: self.redirect_uris.clone(),
            grant_types: tokens.grant_types,
            scopes: tokens.scopes,
            auth_method,
            first_party: self.first_party,
            id_token_alg,
            require_pkce: self.require_pkce,
            refresh: tokens.refresh,
            access_token_format: tokens.access_token_format,
            audiences: self.audiences.clone(),
            resource_server: self.resource_server,
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            backchannel_logout,
            frontchannel_logout,
            assertion_keys,
            require_par: self.require_pushed_authorization_requests,
            subject_type: self.subject()?,
            dpop_bound_access_tokens: self.dpop_bound_access_tokens,
            token_exchange,
        };
        self.apply_profile(client)
    }
}

impl ClientConfig {
    /// The logout settings, checked: post-logout redirect URIs like redirect URIs; the
    /// back- and front-channel URIs absolute https (http only to loopback) without fragment
    /// (Back-Channel Logout §2.2, Front-Channel Logout §2); the front-channel URI on the
    /// origin of a redirect URI, as Front-Channel Logout §2 requires.
    fn logout_channels(&self) -> anyhow::Result<(Option<LogoutChannel>, Option<LogoutChannel>)> {
        for (i, uri) in self.post_logout_redirect_uris.iter().enumerate() {
            check_redirect_uri(uri).with_context(|| format!("post_logout_redirect_uris[{i}]"))?;
        }
        let back = match &self.backchannel_logout_uri {
            Some(uri) => {
                check_logout_uri(uri).context("backchannel_logout_uri")?;
                Some(LogoutChannel {
                    uri: uri.clone(),
                    session_required: self.backchannel_logout_session_required,
                })
            }
            None => None,
        };
        let front = match &self.frontchannel_logout_uri {
            Some(uri) => {
                let origin = check_logout_uri(uri).context("frontchannel_logout_uri")?;
                let same_origin = self.redirect_uris.iter().any(|r| {
                    url::Url::parse(r).is_ok_and(|r| r.origin().ascii_serialization() == origin)
                });
                if !same_origin {
                    bail!(
                        "frontchannel_logout_uri: {uri:?} must have the scheme, host and port of one of redirect_uris"
                    );
                }
                Some(LogoutChannel {
                    uri: uri.clone(),
                    session_required: self.frontchannel_logout_session_required,
                })
            }
            None => None,
        };
        Ok((back, front))
    }
}

/// A back- or front-channel logout URI; returns its origin (`kunci_core::uri_rules`).
fn check_logout_uri(uri: &str) -> anyhow::Result<String> {
    kunci_core::uri_rules::check_web_uri(uri).map_err(anyhow::Error::msg)
}

/// A client's grants, scopes and token settings, checked together.
struct TokenSettings {
    grant_types: Vec<GrantType>,
    scopes: Vec<String>,
    refresh: RefreshPolicy,
    access_token_format: AccessTokenFormat,
}

impl ClientConfig {
    /// Grants, scopes, refresh tokens, access token format, audiences and the resource-server
    /// flag. `refresh_tokens = true` adds the `refresh_token` grant and the `offline_access`
    /// scope; listing either without it is an error, so the file says one thing only.
    fn token_settings(&self, auth_method: AuthMethod) -> anyhow::Result<TokenSettings> {
        let mut grant_types = Vec::new();
        for g in &self.grant_types {
            let grant = GrantType::parse(g).with_context(|| {
                format!(
                    "grant_types: {g:?} is not supported (supported: authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:token-exchange, urn:ietf:params:oauth:grant-type:device_code)"
                )
            })?;
            if !grant_types.contains(&grant) {
                grant_types.push(grant);
            }
        }
        if grant_types.contains(&GrantType::RefreshToken) && !self.refresh_tokens {
            bail!(
                "grant_types: \"refresh_token\" needs refresh_tokens = true (which also allows the offline_access scope)"
            );
        }
        let user_grant = grant_types.contains(&GrantType::AuthorizationCode)
            || grant_types.contains(&GrantType::DeviceCode);
        if self.refresh_tokens && !user_grant {
            bail!(
                "refresh_tokens: refresh tokens come with the authorization code flow or the device grant; add \"authorization_code\" or \"urn:ietf:params:oauth:grant-type:device_code\" to grant_types"
            );
        }
        if self.refresh_tokens && !grant_types.contains(&GrantType::RefreshToken) {
            grant_types.push(GrantType::RefreshToken);
        }
        if grant_types.contains(&GrantType::ClientCredentials) && auth_method == AuthMethod::None {
            bail!(
                "grant_types: client_credentials is for confidential clients only (RFC 6749 §4.4); give the client a secret and a token_endpoint_auth_method other than \"none\""
            );
        }
        let mut scopes = Vec::new();
        for s in &self.scopes {
            if kunci_core::scope::parse(s).as_deref() != Some(std::slice::from_ref(s)) {
                bail!(
                    "scopes: {s:?} is not a scope name (RFC 6749 §3.3: printable ASCII without spaces, quotes or backslashes)"
                );
            }
            if s == "offline_access" && !self.refresh_tokens {
                bail!("scopes: \"offline_access\" needs refresh_tokens = true");
            }
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        if self.refresh_tokens && !scopes.iter().any(|s| s == "offline_access") {
            scopes.push("offline_access".into());
        }
        let refresh = RefreshPolicy {
            idle_ttl: self.refresh_token_idle_ttl_secs,
            absolute_ttl: self.refresh_token_absolute_ttl_secs,
            rotate: self.refresh_token_rotation,
        };
        // RFC 9700 §4.14.2: a public client's refresh tokens are rotated or sender-constrained.
        if !refresh.rotate && auth_method == AuthMethod::None && !self.dpop_bound_access_tokens {
            bail!(
                "refresh_token_rotation: a public client's refresh tokens must be rotated unless they are bound to its DPoP key; set dpop_bound_access_tokens = true or remove refresh_token_rotation = false"
            );
        }
        if refresh.idle_ttl == 0 {
            bail!("refresh_token_idle_ttl_secs: must be at least 1 second");
        }
        if refresh.absolute_ttl < refresh.idle_ttl {
            bail!(
                "refresh_token_absolute_ttl_secs: must be at least refresh_token_idle_ttl_secs ({} < {})",
                refresh.absolute_ttl,
                refresh.idle_ttl
            );
        }
        let access_token_format = match self.access_token_format.as_str() {
            "jwt" => AccessTokenFormat::Jwt,
            "opaque" => AccessTokenFormat::Opaque,
            other => bail!("access_token_format: {other:?} must be \"jwt\" or \"opaque\""),
        };
        for (i, a) in self.audiences.iter().enumerate() {
            if !url::Url::parse(a).is_ok_and(|u| u.fragment().is_none()) {
                bail!(
                    "audiences[{i}]: {a:?} must be an absolute URI without a fragment (RFC 8707)"
                );
            }
        }
        if self.resource_server {
            if auth_method == AuthMethod::None {
                bail!(
                    "resource_server: a resource server authenticates to introspect tokens; give it a secret and a token_endpoint_auth_method other than \"none\""
                );
            }
            if self.audiences.is_empty() {
                bail!(
                    "audiences: a resource server (resource_server = true) needs the audiences whose tokens it may introspect"
                );
            }
        }
        Ok(TokenSettings {
            grant_types,
            scopes,
            refresh,
            access_token_format,
        })
    }
}

pub(super) fn parse_secret(s: &str) -> anyhow::Result<[u8; 32]> {
    if let Some(hex) = s.strip_prefix("sha256:") {
        let bytes = decode_hex(hex).context("secret: sha256: must be followed by 64 hex digits")?;
        return bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("secret: sha256: must be followed by 64 hex digits"));
    }
    if let Some(var) = s.strip_prefix("env:") {
        let value = std::env::var(var)
            .with_context(|| format!("secret: environment variable {var} is not set"))?;
        if value.len() < 32 {
            bail!(
                "secret: the secret in {var} is too short; use at least 32 random characters (`kunci client hash-secret --generate`)"
            );
        }
        return Ok(kunci_core::secret::sha256(value.as_bytes()));
    }
    bail!("secret: must start with sha256: or env: (a plain secret never goes into the file)")
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// RFC 9700 §2.1 and §4.1.3 (`kunci_core::uri_rules`, shared with dynamic registration).
fn check_redirect_uri(uri: &str) -> anyhow::Result<()> {
    kunci_core::uri_rules::check_redirect_uri(uri).map_err(anyhow::Error::msg)
}
