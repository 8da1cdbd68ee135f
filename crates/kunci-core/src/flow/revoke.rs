//! Token revocation (RFC 7009), and what revoking a grant means.
//!
//! A grant is one authorization of one client by one user: its refresh token family (durable,
//! family id = grant id) and its access tokens (which carry the grant id as `gid`). Revoking
//! the grant deletes the family and leaves a revoked-grant marker in the ephemeral store for
//! as long as any of its access tokens can live. Revoking either kind of token revokes its
//! whole grant (RFC 7009 §2.1 allows this for access tokens).

use super::Provider;
use super::access_token::looks_like_jwt;
use crate::client::{Client, PresentedCredentials};
use crate::clock::UnixTime;
use crate::error::{OAuthError, PortError};
use crate::secret::token_key;

/// The revocation request as parsed from the form body and headers.
#[derive(Debug, Default)]
pub struct RevocationRequest {
    pub credentials: Option<PresentedCredentials>,
    pub token: Option<String>,
    pub token_type_hint: Option<String>,
}

/// The kinds of token a client can present for introspection or revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenKind {
    Access,
    Refresh,
}

/// RFC 7009 §2.1, RFC 7662 §2.1: the hint says where to look first; the other kind is searched
/// too if the token is not found there. An unknown hint is ignored, which RFC 7009 allows, so
/// `unsupported_token_type` is never needed: both kinds can be revoked.
pub(super) fn search_order(hint: Option<&str>) -> [TokenKind; 2] {
    match hint {
        Some("refresh_token") => [TokenKind::Refresh, TokenKind::Access],
        _ => [TokenKind::Access, TokenKind::Refresh],
    }
}

impl Provider {
    /// RFC 7009 §2. Unknown tokens, expired tokens and tokens of other clients are answered
    /// like a success with nothing done (§2.2): the caller learns nothing about them.
    /// Public clients may revoke their own tokens (§2.1 authenticates them by `client_id`).
    pub async fn revoke(&self, req: RevocationRequest, now: UnixTime) -> Result<(), OAuthError> {
        let presented = req
            .credentials
            .as_ref()
            .ok_or_else(|| OAuthError::invalid_client("client authentication is missing"))?;
        let client = self.authenticate_client(presented, now).await?;
        let token = req
            .token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
        for kind in search_order(req.token_type_hint.as_deref()) {
            let found = match kind {
                TokenKind::Refresh => self.revoke_refresh_token(&client, token).await?,
                TokenKind::Access => self.revoke_access_token(&client, token, now).await?,
            };
            if found {
                break;
            }
        }
        Ok(())
    }

    /// Returns whether the token is a refresh token we know (whoever it belongs to).
    async fn revoke_refresh_token(&self, client: &Client, token: &str) -> Result<bool, PortError> {
        let Some(stored) = self.durable.find_refresh_token(&token_key(token)).await? else {
            return Ok(false);
        };
        if stored.client_id == client.id {
            self.revoke_grant(&stored.family_id).await?;
        }
        Ok(true)
    }

    /// Returns whether the token is a live access token of ours (whoever it belongs to).
    async fn revoke_access_token(
        &self,
        client: &Client,
        token: &str,
        now: UnixTime,
    ) -> Result<bool, PortError> {
        let Some(claims) = self.read_access_token(token, now).await? else {
            return Ok(false);
        };
        if claims.client_id == client.id {
            if !looks_like_jwt(token) {
                self.records().delete_access_token(token).await?;
            }
            self.revoke_grant(&claims.gid).await?;
        }
        Ok(true)
    }

    /// Revokes everything of a grant. The marker goes first: a code exchange racing with a
    /// code replay inserts its family and then checks the marker, so with this order either
    /// the exchange sees the marker or this deletion sees the family.
    pub(super) async fn revoke_grant(&self, grant_id: &str) -> Result<(), PortError> {
        self.records()
            .revoke_grant(grant_id, self.settings.access_token_ttl)
            .await?;
        self.durable.revoke_refresh_family(grant_id).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_only_orders_the_search() {
        use TokenKind::{Access, Refresh};
        assert_eq!(search_order(Some("refresh_token")), [Refresh, Access]);
        assert_eq!(search_order(Some("access_token")), [Access, Refresh]);
        assert_eq!(search_order(None), [Access, Refresh]);
        assert_eq!(search_order(Some("bogus")), [Access, Refresh], "ignored");
    }
}
