//! The authorization code grant (RFC 6749 §4.1.3, OIDC Core §3.1.3, RFC 7636 §4.6).
//! Reads top to bottom: take the code once → check it belongs to this client and redirect URI
//! and DPoP key → still fresh → PKCE → the account still exists → start a refresh token family when
//! `offline_access` was granted → issue tokens.

use super::TokenRequest;
use super::TokenResponse;
use super::issue::{UserGrant, idle_end, new_refresh_token, refresh_binding};
use crate::client::Client;
use crate::clock::UnixTime;
use crate::code::CodeGrant;
use crate::error::OAuthError;
use crate::flow::Provider;
use crate::pkce;
use crate::ports::RefreshToken;

impl Provider {
    pub(super) async fn authorization_code_grant(
        &self,
        client: &Client,
        req: &TokenRequest,
        dpop_jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<TokenResponse, OAuthError> {
        let code = req
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
        let redirect_uri = req
            .redirect_uri
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("redirect_uri is missing"))?;
        let grant = self.take_code_once(code).await?;
        check_code_binding(&grant, client, redirect_uri)?;
        check_dpop_binding(&grant, dpop_jkt)?;
        check_code_fresh(&grant, self.settings.code_ttl, now)?;
        check_pkce(&grant, req.code_verifier.as_deref())?;
        let account = self
            .durable
            .find_by_id(&grant.account_id)
            .await?
            .ok_or_else(|| OAuthError::invalid_grant("the account no longer exists"))?;
        let user = UserGrant {
            client,
            grant_id: &grant.grant_id,
            account_id: &account.id,
            session_id: &grant.session_id,
            auth_time: grant.auth_time,
            amr: &grant.amr,
            scopes: &grant.scopes,
            nonce: grant.nonce.as_deref(),
            account: &account,
            claims: grant.claims.as_ref(),
            dpop_jkt,
        };
        let refresh_token = self.start_refresh_family(&user, now).await?;
        self.issue_user_tokens(&user, refresh_token, now).await
    }

    /// RFC 6749 §4.1.2: a code is used once. A second use fails, and everything the first
    /// use produced is revoked, because one of the two parties holding the code is an attacker.
    async fn take_code_once(&self, code: &str) -> Result<CodeGrant, OAuthError> {
        let records = self.records();
        if let Some(grant) = records.take_code(code).await? {
            records
                .mark_code_redeemed(
                    code,
                    &grant.grant_id,
                    self.settings.access_token_ttl.max(self.settings.code_ttl),
                )
                .await?;
            return Ok(grant);
        }
        if let Some(used) = records.redeemed_code(code).await? {
            self.revoke_grant(&used.grant_id).await?;
            tracing::warn!(grant_id = %used.grant_id, "authorization code replayed; its grant is revoked");
        }
        Err(OAuthError::invalid_grant(
            "the code is invalid, expired or already used",
        ))
    }

    /// OIDC Core §11: a refresh token only when the client may hold refresh tokens and the
    /// code carries `offline_access`. The scope reaches a code only with the user's consent:
    /// `authorize::check_scope` drops it for clients without refresh tokens, and consent is
    /// skipped only for first-party clients or when a remembered consent names it. The device
    /// grant starts its family here too (its confirmation page is the consent).
    pub(super) async fn start_refresh_family(
        &self,
        grant: &UserGrant<'_>,
        now: UnixTime,
    ) -> Result<Option<String>, OAuthError> {
        let client = grant.client;
        if !client.gets_refresh_tokens() || !grant.scopes.iter().any(|s| s == "offline_access") {
            return Ok(None);
        }
        let (token, token_hash) = new_refresh_token();
        let absolute_expires_at = now + client.refresh.absolute_ttl as i64;
        let first = RefreshToken {
            token_hash,
            family_id: grant.grant_id.to_owned(),
            client_id: client.id.clone(),
            account_id: grant.account_id.to_owned(),
            scopes: grant.scopes.to_vec(),
            session_id: grant.session_id.to_owned(),
            auth_time: grant.auth_time,
            amr: grant.amr.to_vec(),
            created_at: now,
            absolute_expires_at,
            idle_expires_at: idle_end(&client.refresh, now, absolute_expires_at),
            used_at: None,
            claims: grant.claims.cloned(),
            dpop_jkt: refresh_binding(client, None, grant.dpop_jkt),
        };
        self.durable.insert_refresh_token(&first).await?;
        // A replay of the code between taking it and here revoked the grant before this
        // family existed; the marker it left is still there, so finish its work.
        if self.records().is_grant_revoked(grant.grant_id).await? {
            self.durable.revoke_refresh_family(grant.grant_id).await?;
            return Err(OAuthError::invalid_grant(
                "the code is invalid, expired or already used",
            ));
        }
        Ok(Some(token))
    }
}

/// Codes are bound to the client they were issued to and the exact redirect URI (RFC 6749 §4.1.3).
fn check_code_binding(
    grant: &CodeGrant,
    client: &Client,
    redirect_uri: &str,
) -> Result<(), OAuthError> {
    if grant.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    Ok(())
}

/// RFC 9449 §10: a code requested with `dpop_jkt` is redeemed only with a proof of that key.
fn check_dpop_binding(grant: &CodeGrant, dpop_jkt: Option<&str>) -> Result<(), OAuthError> {
    match &grant.dpop_jkt {
        Some(bound) if dpop_jkt != Some(bound.as_str()) => Err(OAuthError::invalid_grant(
            "the code is bound to another DPoP key",
        )),
        _ => Ok(()),
    }
}

/// The store expires codes by TTL; this check makes expiry exact even if a backend purges late.
fn check_code_fresh(grant: &CodeGrant, ttl: u64, now: UnixTime) -> Result<(), OAuthError> {
    if now - grant.issued_at > ttl as i64 {
        return Err(OAuthError::invalid_grant("the code has expired"));
    }
    Ok(())
}

/// RFC 7636 §4.6, and RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
fn check_pkce(grant: &CodeGrant, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (&grant.code_challenge, verifier) {
        (Some(challenge), Some(v)) if pkce::verify_s256(challenge, v) => Ok(()),
        (Some(_), Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        )),
        (Some(_), None) => Err(OAuthError::invalid_grant("code_verifier is missing")),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier given but no code_challenge was sent",
        )),
        (None, None) => Ok(()),
    }
}
