//! The refresh token grant (RFC 6749 §6, RFC 9700 §4.14.2, OIDC Core §12).
//! Reads top to bottom: find the token by its digest → bound to this client (and to the DPoP
//! key of a public client's family) → never used
//! before (a used one means the family leaked: revoke it all) → not expired → scopes no wider
//! than granted → the account still exists → rotate, atomically (or, for a client whose tokens
//! are sender-constrained and not rotated, restart the same token's idle lifetime) → issue
//! tokens, with a new ID token that keeps the original `auth_time`.
//!
//! Two requests racing with the same token are the same token presented twice: the store lets
//! exactly one rotate it, and the other is treated as a replay, which revokes the family
//! (including the winner's new tokens). A legitimate client never sends one token twice.

use super::TokenRequest;
use super::TokenResponse;
use super::issue::{UserGrant, idle_end, new_refresh_token, refresh_binding};
use crate::client::Client;
use crate::clock::UnixTime;
use crate::error::OAuthError;
use crate::flow::Provider;
use crate::ports::RefreshToken;
use crate::scope;
use crate::secret::token_key;

/// The one description for tokens that do not work, so it tells a thief nothing.
const UNUSABLE: &str = "the refresh token is invalid, expired or revoked";

impl Provider {
    pub(super) async fn refresh_token_grant(
        &self,
        client: &Client,
        req: &TokenRequest,
        dpop_jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<TokenResponse, OAuthError> {
        let presented = req
            .refresh_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
        let token_hash = token_key(presented);
        let stored = self
            .durable
            .find_refresh_token(&token_hash)
            .await?
            .ok_or_else(|| OAuthError::invalid_grant(UNUSABLE))?;
        check_bound_to_client(&stored, client)?;
        check_bound_to_dpop_key(&stored, dpop_jkt)?;
        if stored.used_at.is_some() {
            return Err(self.refresh_token_replayed(&stored).await);
        }
        check_not_expired(&stored, now)?;
        let scopes = narrowed_scopes(&stored.scopes, &client.scopes, req.scope.as_deref())?;
        let Some(account) = self.durable.find_by_id(&stored.account_id).await? else {
            self.revoke_grant(&stored.family_id).await?;
            return Err(OAuthError::invalid_grant("the account no longer exists"));
        };
        let token = if client.refresh.rotate {
            Some(
                self.rotate(&stored, &token_hash, client, dpop_jkt, now)
                    .await?,
            )
        } else {
            self.extend(&stored, &token_hash, client, now).await?;
            None
        };
        let user = UserGrant {
            client,
            grant_id: &stored.family_id,
            account_id: &account.id,
            session_id: &stored.session_id,
            auth_time: stored.auth_time,
            amr: &stored.amr,
            scopes: &scopes,
            nonce: None,
            account: &account,
            claims: stored.claims.as_ref(),
            dpop_jkt,
        };
        self.issue_user_tokens(&user, token, now).await
    }

    /// RFC 9700 §4.14.2: the token is exchanged for a successor, atomically; returns the
    /// successor's value. RFC 9449 §5: a successor issued to a public client in answer to a
    /// DPoP request is bound to the proof's key, even if the family began unbound.
    async fn rotate(
        &self,
        stored: &RefreshToken,
        token_hash: &str,
        client: &Client,
        dpop_jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<String, OAuthError> {
        let (token, successor_hash) = new_refresh_token();
        let successor = RefreshToken {
            token_hash: successor_hash,
            created_at: now,
            idle_expires_at: idle_end(&client.refresh, now, stored.absolute_expires_at),
            used_at: None,
            dpop_jkt: refresh_binding(client, stored.dpop_jkt.as_deref(), dpop_jkt),
            ..stored.clone()
        };
        if !self
            .durable
            .rotate_refresh_token(token_hash, &successor, now)
            .await?
        {
            // Another request rotated it between our read and our write.
            return Err(self.refresh_token_replayed(stored).await);
        }
        Ok(token)
    }

    /// Without rotation (FAPI 2.0 §5.3.2.1): the same token stays, its idle lifetime restarts;
    /// the response carries no refresh token, so the client keeps the one it has (RFC 6749
    /// §5.1).
    async fn extend(
        &self,
        stored: &RefreshToken,
        token_hash: &str,
        client: &Client,
        now: UnixTime,
    ) -> Result<(), OAuthError> {
        let idle = idle_end(&client.refresh, now, stored.absolute_expires_at);
        if !self.durable.extend_refresh_token(token_hash, idle).await? {
            return Err(OAuthError::invalid_grant(UNUSABLE));
        }
        Ok(())
    }

    /// RFC 9700 §4.14.2: a rotated token presented again means two parties hold the family,
    /// one of them an attacker. Everything of the grant is revoked: its refresh tokens and
    /// its access tokens.
    async fn refresh_token_replayed(&self, stored: &RefreshToken) -> OAuthError {
        if let Err(e) = self.revoke_grant(&stored.family_id).await {
            return e.into();
        }
        tracing::warn!(
            grant_id = %stored.family_id,
            client_id = %stored.client_id,
            "refresh token reused; its family and grant are revoked"
        );
        OAuthError::invalid_grant(UNUSABLE)
    }
}

/// RFC 6749 §6: the token is bound to the client it was issued to. The answer is the same as
/// for an unknown token, so another client learns nothing about it; nothing is revoked, since
/// presenting it proves nothing about its owner.
fn check_bound_to_client(stored: &RefreshToken, client: &Client) -> Result<(), OAuthError> {
    if stored.client_id != client.id {
        return Err(OAuthError::invalid_grant(UNUSABLE));
    }
    Ok(())
}

/// RFC 9449 §5: a bound family is used only with a proof of its key. Like the client check,
/// this comes before replay detection: presenting a bound token without its key proves
/// nothing about the family, so nothing is revoked.
fn check_bound_to_dpop_key(
    stored: &RefreshToken,
    dpop_jkt: Option<&str>,
) -> Result<(), OAuthError> {
    match &stored.dpop_jkt {
        Some(bound) if dpop_jkt != Some(bound.as_str()) => Err(OAuthError::invalid_grant(
            "the refresh token is bound to a DPoP key; send a proof signed with it",
        )),
        _ => Ok(()),
    }
}

/// RFC 9700 §4.14.2: idle and absolute lifetimes.
fn check_not_expired(stored: &RefreshToken, now: UnixTime) -> Result<(), OAuthError> {
    if now >= stored.absolute_expires_at || now >= stored.idle_expires_at {
        return Err(OAuthError::invalid_grant("the refresh token has expired"));
    }
    Ok(())
}

/// RFC 6749 §6: the requested scope must not include any scope not originally granted, and
/// an omitted scope means the granted one. Scopes the client may no longer request (its
/// configuration changed since) are left out. The successor refresh token keeps the granted
/// scopes: narrowing applies to this access token only.
fn narrowed_scopes(
    granted: &[String],
    client_scopes: &[String],
    requested: Option<&str>,
) -> Result<Vec<String>, OAuthError> {
    let wanted = match requested.filter(|s| !s.trim().is_empty()) {
        None => granted.to_vec(),
        Some(raw) => {
            let wanted = scope::parse(raw)
                .ok_or_else(|| OAuthError::invalid_scope("scope contains invalid characters"))?;
            if let Some(extra) = wanted.iter().find(|s| !granted.contains(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "scope {extra} was not granted to this refresh token"
                )));
            }
            wanted
        }
    };
    Ok(wanted
        .into_iter()
        .filter(|s| client_scopes.contains(s))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn an_omitted_scope_is_the_granted_scope() {
        let granted = list("openid email offline_access");
        assert_eq!(narrowed_scopes(&granted, &granted, None).unwrap(), granted);
        assert_eq!(
            narrowed_scopes(&granted, &granted, Some(" ")).unwrap(),
            granted
        );
    }

    #[test]
    fn a_narrower_scope_is_granted_and_a_wider_one_refused() {
        let granted = list("openid email offline_access");
        assert_eq!(
            narrowed_scopes(&granted, &granted, Some("email openid")).unwrap(),
            list("email openid")
        );
        let err = narrowed_scopes(&granted, &granted, Some("openid profile")).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidScope);
        let err = narrowed_scopes(&granted, &granted, Some("open\"id")).unwrap_err();
        assert_eq!(err.code, crate::ErrorCode::InvalidScope);
    }

    #[test]
    fn scopes_the_client_lost_since_are_left_out() {
        let granted = list("openid email offline_access");
        let now_allowed = list("openid offline_access");
        assert_eq!(
            narrowed_scopes(&granted, &now_allowed, None).unwrap(),
            list("openid offline_access")
        );
    }
}
