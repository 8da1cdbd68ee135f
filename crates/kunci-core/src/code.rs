//! The authorization code grant record: everything the token endpoint needs to check the
//! redemption and mint tokens. Stored under a digest of the code, for 60 seconds, taken once.

use crate::claims_request::ClaimsRequest;
use crate::clock::UnixTime;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub account_id: String,
    /// The session's public id ([`crate::sso::SsoSession::public_sid`]), the tokens' `sid`.
    pub session_id: String,
    pub auth_time: UnixTime,
    pub amr: Vec<String>,
    pub issued_at: UnixTime,
    /// The grant this code starts; tokens carry it so a replayed code can revoke them.
    pub grant_id: String,
    /// The authorization request's `claims` parameter (OIDC Core §5.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<ClaimsRequest>,
    /// RFC 9449 §10: the DPoP key the code may only be redeemed with (`dpop_jkt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
}
