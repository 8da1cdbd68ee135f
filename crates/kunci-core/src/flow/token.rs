//! The token endpoint (RFC 6749 §3.2, §5; OIDC Core §3.1.3, §12): authenticate the client,
//! check it may use the grant it names, and hand over to that grant's module, one per grant:
//! `authorization_code`, `refresh`, `client_credentials`, `token_exchange`, `device_code`. What
//! they mint is in `issue`. A DPoP proof (RFC 9449 §5) is checked here, once, and its key handed to the grant, which
//! binds what it issues to that key.

mod authorization_code;
mod client_credentials;
mod device_code;
mod issue;
mod refresh;
mod token_exchange;

use super::{PresentedProof, Provider};
use crate::client::{Client, GrantType, PresentedCredentials};
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
    /// RFC 8707 resource indicator (client credentials and token exchange).
    pub resource: Option<String>,
    /// The `DPoP` header (RFC 9449 §5), when the client sent one.
    pub dpop: Option<PresentedProof>,
    /// RFC 8693 §2.1: the token exchange parameters.
    pub subject_token: Option<String>,
    pub subject_token_type: Option<String>,
    pub actor_token: Option<String>,
    pub actor_token_type: Option<String>,
    pub requested_token_type: Option<String>,
    pub audience: Option<String>,
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
    /// RFC 8693 §2.2.1: the type of the issued token (token exchange only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
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
        let jkt = self.token_dpop_key(&client, req.dpop.as_ref(), now).await?;
        let jkt = jkt.as_deref();
        match grant {
            GrantType::AuthorizationCode => {
                self.authorization_code_grant(&client, &req, jkt, now).await
            }
            GrantType::RefreshToken => self.refresh_token_grant(&client, &req, jkt, now).await,
            GrantType::ClientCredentials => {
                self.client_credentials_grant(&client, &req, jkt, now).await
            }
            GrantType::TokenExchange => self.token_exchange_grant(&client, &req, jkt, now).await,
            GrantType::DeviceCode => self.device_code_grant(&client, &req, jkt, now).await,
        }
    }

    /// RFC 9449 §5: a proof binds what is issued to its key; a client registered with
    /// `dpop_bound_access_tokens` (§5.2) must send one with every token request.
    async fn token_dpop_key(
        &self,
        client: &Client,
        proof: Option<&PresentedProof>,
        now: UnixTime,
    ) -> Result<Option<String>, OAuthError> {
        match proof {
            Some(p) => Ok(Some(
                self.check_dpop(p, &client.id, "/token", None, now).await?,
            )),
            None if client.dpop_bound_access_tokens => Err(OAuthError::invalid_dpop_proof(
                "this client must send a DPoP proof with its token requests",
            )),
            None => Ok(None),
        }
    }
}
