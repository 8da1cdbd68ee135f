//! The token endpoint (RFC 6749 §3.2, §4.1.3; OIDC Core §3.1.3): authorization code grant.
//! Reads top to bottom: authenticate the client → check the grant type → take the code once →
//! check it belongs to this client and redirect URI → verify PKCE → issue tokens.

use super::Provider;
use crate::claims::{AccessTokenClaims, IdTokenClaims, at_hash};
use crate::client::{Client, GrantType, PresentedCredentials, authenticate};
use crate::clock::UnixTime;
use crate::code::CodeGrant;
use crate::error::{ErrorCode, OAuthError};
use crate::pkce;
use crate::scope;
use crate::secret::random_token;
use serde::Serialize;

/// The token request as parsed from the form body and headers.
#[derive(Debug, Default)]
pub struct TokenRequest {
    pub credentials: Option<PresentedCredentials>,
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
}

/// RFC 6749 §5.1 / OIDC Core §3.1.3.3.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
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
        let client = authenticate(&self.clients, presented)?;
        match req.grant_type.as_deref() {
            None => Err(OAuthError::invalid_request("grant_type is missing")),
            Some("authorization_code") if client.allows_grant(GrantType::AuthorizationCode) => {
                self.authorization_code_grant(&client, &req, now).await
            }
            Some("authorization_code") => Err(OAuthError::unauthorized_client(
                "this client may not use the authorization_code grant",
            )),
            Some(_) => Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                "this grant type is not supported",
            )),
        }
    }

    async fn authorization_code_grant(
        &self,
        client: &Client,
        req: &TokenRequest,
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
        check_code_fresh(&grant, self.settings.code_ttl, now)?;
        check_pkce(&grant, req.code_verifier.as_deref())?;
        let account = self
            .durable
            .find_by_id(&grant.account_id)
            .await?
            .ok_or_else(|| OAuthError::invalid_grant("the account no longer exists"))?;
        Ok(self.mint(client, &grant, &account.id, now))
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
            records
                .revoke_grant(&used.grant_id, self.settings.access_token_ttl)
                .await?;
            tracing::warn!(grant_id = %used.grant_id, "authorization code replayed; its grant is revoked");
        }
        Err(OAuthError::invalid_grant(
            "the code is invalid, expired or already used",
        ))
    }

    fn mint(&self, client: &Client, grant: &CodeGrant, sub: &str, now: UnixTime) -> TokenResponse {
        let issuer = self.settings.issuer.as_str();
        let scope = scope::join(&grant.scopes);
        let at_claims = AccessTokenClaims {
            iss: issuer,
            sub,
            aud: issuer,
            exp: now + self.settings.access_token_ttl as i64,
            iat: now,
            jti: random_token(),
            client_id: &client.id,
            scope: scope.clone(),
            auth_time: grant.auth_time,
            sid: &grant.session_id,
            gid: &grant.grant_id,
        };
        let at_key = self
            .keys
            .signing_key(self.settings.access_token_alg)
            .or_else(|| self.keys.signing_key(client.id_token_alg))
            .expect("the composition root loads a key for every configured algorithm");
        let access_token = at_key.sign("at+jwt", &at_claims);
        let id_token = grant.scopes.iter().any(|s| s == "openid").then(|| {
            let claims = IdTokenClaims {
                iss: issuer,
                sub,
                aud: &client.id,
                exp: now + self.settings.id_token_ttl as i64,
                iat: now,
                auth_time: grant.auth_time,
                nonce: grant.nonce.as_deref(),
                at_hash: at_hash(&access_token),
                amr: &grant.amr,
                sid: &grant.session_id,
            };
            let key = self
                .keys
                .signing_key(client.id_token_alg)
                .expect("config validation ensures the client's algorithm has a key");
            key.sign("JWT", &claims)
        });
        TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: self.settings.access_token_ttl,
            id_token,
            scope,
        }
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
