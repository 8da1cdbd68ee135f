//! Registered clients (relying parties) and client authentication at the token endpoint
//! (RFC 6749 §2.3, OIDC Core §9). Clients come from the operator's config file.

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
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
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.auth_method == AuthMethod::None
    }
    pub fn allows_grant(&self, g: GrantType) -> bool {
        self.grant_types.contains(&g)
    }
    /// Exact string match, as RFC 9700 §2.1 requires: no prefix, wildcard or normalisation.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
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
}

impl PresentedCredentials {
    pub fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::None { client_id } => client_id,
        }
    }
}

/// Authenticates a client. Every failure is the same `invalid_client` so that the response
/// does not tell an attacker which part was wrong (RFC 6749 §5.2).
pub fn authenticate(
    registry: &ClientRegistry,
    presented: &PresentedCredentials,
) -> Result<Arc<Client>, OAuthError> {
    let fail = || OAuthError::invalid_client("client authentication failed");
    let client = registry.get(presented.client_id()).ok_or_else(fail)?;
    let (method, secret) = match presented {
        PresentedCredentials::Basic { secret, .. } => (AuthMethod::ClientSecretBasic, Some(secret)),
        PresentedCredentials::Post { secret, .. } => (AuthMethod::ClientSecretPost, Some(secret)),
        PresentedCredentials::None { .. } => (AuthMethod::None, None),
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
