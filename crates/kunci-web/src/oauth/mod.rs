//! Protocol endpoints: JSON in, JSON or redirects out. Each handler parses, calls the core,
//! and maps the result.

pub mod authorize;
pub mod device_authorization;
pub(crate) mod dpop;
pub mod introspect;
pub mod metadata;
pub mod par;
pub mod registration;
pub mod revoke;
pub mod token;
pub mod userinfo;

use crate::error::JsonError;
use kunci_core::OAuthError;

/// Parses an `application/x-www-form-urlencoded` body into pairs, keeping duplicates so the
/// core can refuse them (RFC 6749 §3.1).
pub fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, JsonError> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .map_err(|_| OAuthError::invalid_request("the request body is not valid form data").into())
}
