//! The userinfo endpoint (OIDC Core §5.3): verify the bearer access token, release claims by scope.

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
        let claims = self.verify_access_token(bearer, now)?;
        let scopes: Vec<String> = claims
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or("")
            .split(' ')
            .map(str::to_owned)
            .collect();
        if !scopes.iter().any(|s| s == "openid") {
            return Err(OAuthError::new(
                ErrorCode::InsufficientScope,
                "the openid scope is required",
            ));
        }
        if let Some(gid) = claims.get("gid").and_then(Value::as_str)
            && self.records().is_grant_revoked(gid).await?
        {
            return Err(OAuthError::invalid_token(
                "the access token has been revoked",
            ));
        }
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let account = self
            .durable
            .find_by_id(sub)
            .await?
            .ok_or_else(|| OAuthError::invalid_token("the account no longer exists"))?;
        Ok(user_claims(&account, &scopes))
    }

    /// Checks a JWT access token we issued (RFC 9068 §4): signature by one of our keys,
    /// `typ` at+jwt, our issuer, our audience, not expired.
    pub fn verify_access_token(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Result<Map<String, Value>, OAuthError> {
        let invalid = || OAuthError::invalid_token("the access token is invalid or expired");
        let (header, claims) = self.keys.verify(token).map_err(|_| invalid())?;
        let Value::Object(claims) = claims else {
            return Err(invalid());
        };
        let issuer = self.settings.issuer.as_str();
        let ok = header.get("typ").and_then(Value::as_str) == Some("at+jwt")
            && claims.get("iss").and_then(Value::as_str) == Some(issuer)
            && claims.get("aud").and_then(Value::as_str) == Some(issuer)
            && claims
                .get("exp")
                .and_then(Value::as_i64)
                .is_some_and(|exp| exp > now);
        if ok { Ok(claims) } else { Err(invalid()) }
    }
}
