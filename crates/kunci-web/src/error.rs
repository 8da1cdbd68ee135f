//! How errors leave the web crate: OAuth errors as RFC 6749 §5.2 / RFC 6750 §3 JSON, and
//! readable pages for people. The status comes from `ErrorCode::http_status`, decided once.

use crate::headers::CORS_ALLOW_ORIGIN;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, PRAGMA, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use kunci_core::{ErrorCode, OAuthError, PortError};
use serde_json::json;

/// An OAuth error rendered as JSON. `bearer` selects the RFC 6750 `WWW-Authenticate` form
/// (userinfo) instead of the RFC 6749 `Basic` one (token endpoint).
#[derive(Debug)]
pub struct JsonError {
    pub error: OAuthError,
    pub bearer: bool,
}

impl JsonError {
    pub fn client(error: OAuthError) -> Self {
        Self {
            error,
            bearer: false,
        }
    }
    pub fn bearer(error: OAuthError) -> Self {
        Self {
            error,
            bearer: true,
        }
    }
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
        StatusCode::from_u16(self.error.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status_code());
        // JSON errors come from the endpoints SPAs call cross-origin: they must be able to read
        // the error, not only the success.
        resp.insert_header((CACHE_CONTROL, "no-store"))
            .insert_header((PRAGMA, "no-cache"))
            .insert_header(CORS_ALLOW_ORIGIN);
        let code = self.error.code;
        if self.bearer
            && matches!(
                code,
                ErrorCode::InvalidToken | ErrorCode::InsufficientScope | ErrorCode::InvalidRequest
            )
        {
            let desc = self.error.description.replace(['"', '\\'], "'");
            resp.insert_header((
                WWW_AUTHENTICATE,
                format!(r#"Bearer realm="kunci", error="{code}", error_description="{desc}""#),
            ));
        } else if code == ErrorCode::InvalidClient {
            resp.insert_header((WWW_AUTHENTICATE, r#"Basic realm="kunci""#));
        }
        if code == ErrorCode::TemporarilyUnavailable {
            resp.insert_header(("Retry-After", "5"));
        }
        resp.json(json!({ "error": code.as_str(), "error_description": self.error.description }))
    }
}
