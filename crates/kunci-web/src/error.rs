//! How errors leave the web crate: OAuth errors as RFC 6749 §5.2 / RFC 6750 §3 JSON, and
//! readable pages for people. The status comes from `ErrorCode::http_status`, decided once.

use crate::headers::{CORS_ALLOW_ORIGIN, CORS_EXPOSE_HEADERS};
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, PRAGMA, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use kunci_core::{ErrorCode, OAuthError, PortError};
use serde_json::json;

/// An OAuth error rendered as JSON, with the `WWW-Authenticate` challenge of the endpoint:
/// RFC 6749 `Basic` at the client endpoints (token, PAR, …), RFC 6750 `Bearer` or RFC 9449
/// `DPoP` at a protected resource (userinfo), by the scheme the token was presented with.
#[derive(Debug)]
pub struct JsonError {
    pub error: OAuthError,
    pub challenge: Challenge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer,
    Dpop,
}

impl JsonError {
    pub fn client(error: OAuthError) -> Self {
        Self {
            error,
            challenge: Challenge::Basic,
        }
    }
    pub fn bearer(error: OAuthError) -> Self {
        Self {
            error,
            challenge: Challenge::Bearer,
        }
    }
    pub fn dpop(error: OAuthError) -> Self {
        Self {
            error,
            challenge: Challenge::Dpop,
        }
    }
    fn at_resource(&self) -> bool {
        self.challenge != Challenge::Basic
    }
}

/// RFC 9449 §7.1: the algorithms a resource accepts proofs in, named in its challenge.
pub(crate) fn dpop_algs_param() -> String {
    format!(r#"algs="{}""#, kunci_core::dpop::signing_algs().join(" "))
}

impl From<OAuthError> for JsonError {
    fn from(error: OAuthError) -> Self {
        Self::client(error)
    }
}

impl From<PortError> for JsonError {
    fn from(e: PortError) -> Self {
        tracing::error!(error = %e, "backend failure");
        Self::client(e.into())
    }
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl ResponseError for JsonError {
    fn status_code(&self) -> StatusCode {
        // RFC 9449 §7.1, §9: at a protected resource, proof errors are authentication errors.
        if self.at_resource()
            && matches!(
                self.error.code,
                ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce
            )
        {
            return StatusCode::UNAUTHORIZED;
        }
        StatusCode::from_u16(self.error.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status_code());
        // JSON errors come from the endpoints SPAs call cross-origin: they must be able to read
        // the error, not only the success.
        resp.insert_header((CACHE_CONTROL, "no-store"))
            .insert_header((PRAGMA, "no-cache"))
            .insert_header(CORS_ALLOW_ORIGIN)
            .insert_header(CORS_EXPOSE_HEADERS);
        let code = self.error.code;
        let resource_error = matches!(
            code,
            ErrorCode::InvalidToken
                | ErrorCode::InsufficientScope
                | ErrorCode::InvalidRequest
                | ErrorCode::InvalidDpopProof
                | ErrorCode::UseDpopNonce
        );
        if self.at_resource() && resource_error {
            let desc = self.error.description.replace(['"', '\\'], "'");
            let challenge = match self.challenge {
                Challenge::Dpop => format!(
                    r#"DPoP realm="kunci", error="{code}", error_description="{desc}", {}"#,
                    dpop_algs_param()
                ),
                _ => format!(r#"Bearer realm="kunci", error="{code}", error_description="{desc}""#),
            };
            resp.insert_header((WWW_AUTHENTICATE, challenge));
        } else if code == ErrorCode::InvalidClient {
            resp.insert_header((WWW_AUTHENTICATE, r#"Basic realm="kunci""#));
        }
        if let Some(nonce) = &self.error.dpop_nonce {
            resp.insert_header(("DPoP-Nonce", nonce.as_str()));
        }
        if code == ErrorCode::TemporarilyUnavailable {
            resp.insert_header(("Retry-After", "5"));
        }
        resp.json(json!({ "error": code.as_str(), "error_description": self.error.description }))
    }
}
