//! The token endpoint (RFC 6749 §3.2, §5; OIDC Core §3.1.3, §12): authenticate the client,
//! check it may use the grant it names, and hand over to that grant's module, one per grant:
//! `authorization_code`, `refresh`, `client_credentials`, `device_code`. What they mint is in
//! `issue`.

mod authorization_code;
mod client_credentials;
mod device_code;
mod issue;
mod refresh;

use super::Provider;
use crate::client::{GrantType, PresentedCredentials};
use crate::clock::UnixTime;
use crate::error::{ErrorCode, OAuthError};
use serde::Serialize;

/// The token request as parsed from the form body and headers.
#[derive(Debug, Default)]
pub struct TokenRequest {
    pub credentials: Option<PresentedCredentials>,
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    /// The refresh token grant's token (RFC 6749 §6).
    pub refresh_token: Option<String>,
    /// A narrower scope on refresh, or the wanted scope for client credentials.
    pub scope: Option<String>,
    /// RFC 8707 resource indicator (client credentials only).
    pub resource: Option<String>,
    /// RFC 8628 §3.4: the device code grant's code.
    pub device_code: Option<String>,
}

/// RFC 6749 §5.1 / OIDC Core §3.1.3.3.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

impl Provider {
    pub async fn token(
        &self,
        req: TokenRequest,
        now: UnixTime,
    ) -> Result<TokenResponse, OAuthError> {
        let presented = req
            .credentials
            .as_ref()
            .ok_or_else(|| OAuthError::invalid_client("client authentication is missing"))?;
        let client = self.authenticate_client(presented, now).await?;
        let grant = match req.grant_type.as_deref() {
            None => return Err(OAuthError::invalid_request("grant_type is missing")),
            Some(g) => GrantType::parse(g).ok_or_else(|| {
                OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    "this grant type is not supported",
                )
            })?,
        };
        if !client.allows_grant(grant) {
            return Err(OAuthError::unauthorized_client(format!(
                "this client may not use the {} grant",
                grant.as_str()
            )));
        }
        match grant {
            GrantType::AuthorizationCode => self.authorization_code_grant(&client, &req, now).await,
            GrantType::RefreshToken => self.refresh_token_grant(&client, &req, now).await,
            GrantType::ClientCredentials => self.client_credentials_grant(&client, &req, now).await,
            GrantType::DeviceCode => self.device_code_grant(&client, &req, now).await,
        }
    }
}
