//! The OAuth 2 / OIDC error vocabulary, and the error type of the storage ports.
//!
//! Wire strings come from one serde mapping (`ErrorCode`), and the HTTP status of every
//! code is decided once, in [`ErrorCode::http_status`], so no endpoint invents its own.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Every error code Kunci emits. RFC 6749 §4.1.2.1 / §5.2, RFC 6750 §3.1, OIDC Core §3.1.2.6,
/// RFC 8707 §2, RFC 7009 §2.2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    ServerError,
    TemporarilyUnavailable,
    InvalidToken,
    InsufficientScope,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    AccountSelectionRequired,
    InvalidRequestUri,
    InvalidRequestObject,
    RequestNotSupported,
    RequestUriNotSupported,
    RegistrationNotSupported,
    /// RFC 8707 §2: the `resource` is unknown or not allowed for this client.
    InvalidTarget,
    /// RFC 7009 §2.2.1: the server cannot revoke tokens of the presented type.
    UnsupportedTokenType,
    /// OpenID Connect Core Unmet Authentication Requirements 1.0 §2: an essential `acr`
    /// (OIDC Core §5.5.1.1) that the sign-in cannot reach.
    UnmetAuthenticationRequirements,
    /// RFC 9449 §5, §7.1: the DPoP proof is missing where required, malformed, or does not
    /// match the request, the key or the access token.
    InvalidDpopProof,
    /// RFC 9449 §8, §9: the proof must carry the server's nonce (sent in `DPoP-Nonce`).
    UseDpopNonce,
    /// RFC 7591 §3.2.2: a redirect URI in a registration request is not acceptable.
    InvalidRedirectUri,
    /// RFC 7591 §3.2.2: other client metadata in a registration request is not acceptable.
    InvalidClientMetadata,
    /// RFC 8628 §3.5: the user has not yet answered the device authorization request.
    AuthorizationPending,
    /// RFC 8628 §3.5: still pending, and the client polls too often (interval + 5 s).
    SlowDown,
    /// RFC 8628 §3.5: the `device_code` has expired.
    ExpiredToken,
}

impl ErrorCode {
    /// All variants, for exhaustive tests of the wire mapping.
    pub const ALL: [ErrorCode; 31] = [
        Self::InvalidRequest,
        Self::InvalidClient,
        Self::InvalidGrant,
        Self::UnauthorizedClient,
        Self::UnsupportedGrantType,
        Self::UnsupportedResponseType,
        Self::InvalidScope,
        Self::AccessDenied,
        Self::ServerError,
        Self::TemporarilyUnavailable,
        Self::InvalidToken,
        Self::InsufficientScope,
        Self::LoginRequired,
        Self::ConsentRequired,
        Self::InteractionRequired,
        Self::AccountSelectionRequired,
        Self::InvalidRequestUri,
        Self::InvalidRequestObject,
        Self::RequestNotSupported,
        Self::RequestUriNotSupported,
        Self::RegistrationNotSupported,
        Self::InvalidTarget,
        Self::UnsupportedTokenType,
        Self::UnmetAuthenticationRequirements,
        Self::InvalidDpopProof,
        Self::UseDpopNonce,
        Self::InvalidRedirectUri,
        Self::InvalidClientMetadata,
        Self::AuthorizationPending,
        Self::SlowDown,
        Self::ExpiredToken,
    ];

    /// The wire string, e.g. `invalid_request`. Derived from the serde mapping, never written twice.
    pub fn as_str(self) -> &'static str {
        // serde_json renders a unit variant as a quoted string; strip the quotes once and cache.
        static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        let names = NAMES.get_or_init(|| {
            Self::ALL
                .iter()
                .map(|c| {
                    serde_json::to_value(c)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                })
                .collect()
        });
        let idx = Self::ALL.iter().position(|c| *c == self).unwrap_or(0);
        names[idx].as_str()
    }

    /// HTTP status for a JSON error response from the token, userinfo and similar endpoints.
    /// RFC 6749 §5.2 (400, or 401 for `invalid_client`), RFC 6750 §3.1 (401 / 403).
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidClient | Self::InvalidToken => 401,
            Self::InsufficientScope => 403,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OAuth error as the client sees it: a code and a public description.
/// Internal detail never goes here; it is logged where the error is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
    /// RFC 9449 §8: with `use_dpop_nonce`, the nonce the client must put in its next proof
    /// (the `DPoP-Nonce` response header).
    pub dpop_nonce: Option<String>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
            dpop_nonce: None,
        }
    }
    pub fn invalid_dpop_proof(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidDpopProof, d)
    }
    /// RFC 9449 §8: ask for a new proof carrying `nonce`.
    pub fn use_dpop_nonce(nonce: String) -> Self {
        Self {
            dpop_nonce: Some(nonce),
            ..Self::new(
                ErrorCode::UseDpopNonce,
                "the DPoP proof must carry the nonce in the DPoP-Nonce header",
            )
        }
    }
    pub fn invalid_request(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }
    pub fn invalid_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }
    pub fn invalid_grant(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, d)
    }
    pub fn invalid_scope(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, d)
    }
    pub fn invalid_token(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidToken, d)
    }
    pub fn unauthorized_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, d)
    }
    pub fn invalid_target(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidTarget, d)
    }
    pub fn server_error() -> Self {
        Self::new(
            ErrorCode::ServerError,
            "the server could not complete the request",
        )
    }
    pub fn unavailable() -> Self {
        Self::new(
            ErrorCode::TemporarilyUnavailable,
            "a backend is unavailable; try again shortly",
        )
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for OAuthError {}

/// What a storage port (durable or ephemeral) can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// The backend cannot be reached or timed out. Callers answer 503 and retry later.
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule was violated (e.g. an email already registered).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data could not be decoded: a bug or tampering, never the user's fault.
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

impl From<PortError> for OAuthError {
    fn from(e: PortError) -> Self {
        match e {
            PortError::Unavailable(_) => OAuthError::unavailable(),
            PortError::Conflict(_) | PortError::Corrupt(_) => OAuthError::server_error(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_wire_string() {
        for code in ErrorCode::ALL {
            let wire = code.as_str();
            assert!(!wire.is_empty());
            assert!(
                wire.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{wire}"
            );
            let back: ErrorCode =
                serde_json::from_value(serde_json::Value::String(wire.into())).unwrap();
            assert_eq!(back, code);
        }
        assert_eq!(
            ErrorCode::InvalidRequestObject.as_str(),
            "invalid_request_object"
        );
        assert_eq!(ErrorCode::InvalidTarget.as_str(), "invalid_target");
        assert_eq!(
            ErrorCode::UnsupportedTokenType.as_str(),
            "unsupported_token_type"
        );
        assert_eq!(
            ErrorCode::UnmetAuthenticationRequirements.as_str(),
            "unmet_authentication_requirements"
        );
        assert_eq!(ErrorCode::InvalidDpopProof.as_str(), "invalid_dpop_proof");
        assert_eq!(ErrorCode::UseDpopNonce.as_str(), "use_dpop_nonce");
        assert_eq!(
            ErrorCode::InvalidRedirectUri.as_str(),
            "invalid_redirect_uri"
        );
        assert_eq!(
            ErrorCode::InvalidClientMetadata.as_str(),
            "invalid_client_metadata"
        );
        assert_eq!(ErrorCode::InvalidClientMetadata.http_status(), 400);
        assert_eq!(
            ErrorCode::AuthorizationPending.as_str(),
            "authorization_pending"
        );
        assert_eq!(ErrorCode::SlowDown.as_str(), "slow_down");
        assert_eq!(ErrorCode::ExpiredToken.as_str(), "expired_token");
        assert_eq!(ErrorCode::SlowDown.http_status(), 400);
        assert_eq!(ErrorCode::InvalidTarget.http_status(), 400);
        assert_eq!(ErrorCode::InvalidClient.http_status(), 401);
        assert_eq!(ErrorCode::InsufficientScope.http_status(), 403);
    }
}
