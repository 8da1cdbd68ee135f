//! The userinfo endpoint (OIDC Core §5.3): check the access token (JWT or opaque, Bearer or
//! DPoP-bound, see `access_token`), release claims by scope and by the `claims` request (OIDC Core §5.5).

use super::Provider;
use super::access_token::TokenScheme;
use crate::claims::{SignIn, add_requested, user_claims};
use crate::clock::UnixTime;
use crate::error::{ErrorCode, OAuthError};
use serde_json::{Map, Value};

impl Provider {
    pub async fn userinfo(
        &self,
        token: &str,
        scheme: &TokenScheme,
        now: UnixTime,
    ) -> Result<Map<String, Value>, OAuthError> {
        let claims = self
            .resource_access(token, scheme, "/userinfo", now)
            .await?;
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
        // A pairwise `sub` (OIDC Core §8.1) names the account only through the sealed `uid`.
        let account_id = match (&claims.uid, &self.settings.pairwise_salt) {
            (None, _) => claims.sub.clone(),
            (Some(uid), Some(salt)) => salt
                .open_uid(&claims.jti, uid)
                .ok_or_else(|| OAuthError::invalid_token("the access token is not valid"))?,
            (Some(_), None) => {
                return Err(OAuthError::invalid_token("the access token is not valid"));
            }
        };
        let account = self
            .durable
            .find_by_id(&account_id)
            .await?
            .ok_or_else(|| OAuthError::invalid_token("the account no longer exists"))?;
        let mut released = user_claims(&account, &scopes);
        // The client's own `sub`: the account id, or its pairwise value.
        released.insert("sub".into(), Value::String(claims.sub.clone()));
        // OIDC Core §5.5: claims the `claims` parameter named for userinfo, whatever the scopes.
        let sign_in = SignIn {
            auth_time: claims.auth_time,
            acr: claims.acr.as_deref(),
            amr: &claims.amr,
        };
        add_requested(&mut released, &account, &claims.userinfo_claims, &sign_in);
        Ok(released)
    }
}
