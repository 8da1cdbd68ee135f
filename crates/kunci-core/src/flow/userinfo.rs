//! The userinfo endpoint (OIDC Core §5.3): check the bearer access token (JWT or opaque, see
//! `access_token`), release claims by scope.

use super::Provider;
use crate::claims::user_claims;
use crate::clock::UnixTime;
use crate::error::{ErrorCode, OAuthError};
use serde_json::{Map, Value};

impl Provider {
    pub async fn userinfo(
        &self,
        bearer: &str,
        now: UnixTime,
    ) -> Result<Map<String, Value>, OAuthError> {
        let claims = self.active_access_token(bearer, now).await?;
        // A token minted for another resource (RFC 8707) is not for this endpoint.
        if claims.aud != self.settings.issuer {
            return Err(OAuthError::invalid_token(
                "the access token is not meant for this endpoint",
            ));
        }
        let scopes = claims.scopes();
        if !scopes.iter().any(|s| s == "openid") {
            return Err(OAuthError::new(
                ErrorCode::InsufficientScope,
                "the openid scope is required",
            ));
        }
        let account = self
            .durable
            .find_by_id(&claims.sub)
            .await?
            .ok_or_else(|| OAuthError::invalid_token("the account no longer exists"))?;
        Ok(user_claims(&account, &scopes))
    }
}
