//! Reading the access tokens Kunci issued, in either form: a JWT it signed (RFC 9068 §4), or an
//! opaque reference to claims kept in the ephemeral store. Userinfo, introspection and
//! revocation all read tokens through here, so both forms follow the same rules.
//! [`Provider::resource_access`] is what a protected resource (`/userinfo`) runs: an active
//! token, presented by the scheme its binding asks for (RFC 6750 Bearer, RFC 9449 DPoP).

use super::{PresentedProof, Provider};
use crate::claims::AccessTokenClaims;
use crate::clock::UnixTime;
use crate::error::{OAuthError, PortError};
use serde_json::Value;

/// Opaque tokens are base64url, which has no dots; a compact JWS always has two.
pub(super) fn looks_like_jwt(token: &str) -> bool {
    token.contains('.')
}

/// How an access token was presented to a protected resource.
#[derive(Debug, Clone)]
pub enum TokenScheme {
    /// `Authorization: Bearer` (RFC 6750 §2.1).
    Bearer,
    /// `Authorization: DPoP` (RFC 9449 §7.1), with the `DPoP` header if there was one.
    Dpop(Option<PresentedProof>),
}

impl Provider {
    /// RFC 9449 §7: a bound token (`cnf.jkt`) only with the DPoP scheme and a proof of its key
    /// covering the token (`ath`); an unbound one only as a Bearer token. `path` is the
    /// resource's path under the issuer (the proof's `htu`).
    pub async fn resource_access(
        &self,
        token: &str,
        scheme: &TokenScheme,
        path: &str,
        now: UnixTime,
    ) -> Result<AccessTokenClaims, OAuthError> {
        let claims = self.active_access_token(token, now).await?;
        match (scheme, &claims.cnf) {
            (TokenScheme::Bearer, None) => Ok(claims),
            (TokenScheme::Bearer, Some(_)) => Err(OAuthError::invalid_token(
                "the access token is bound to a DPoP key; present it with the DPoP scheme and a proof",
            )),
            (TokenScheme::Dpop(None), _) => Err(OAuthError::invalid_dpop_proof(
                "the DPoP scheme needs a DPoP proof header",
            )),
            (TokenScheme::Dpop(Some(proof)), cnf) => {
                let jkt = self
                    .check_dpop(proof, &claims.client_id, path, Some(token), now)
                    .await?;
                match cnf {
                    Some(c)
                        if crate::secret::constant_time_eq(c.jkt.as_bytes(), jkt.as_bytes()) =>
                    {
                        Ok(claims)
                    }
                    _ => Err(OAuthError::invalid_token(
                        "the access token is not bound to the DPoP proof's key",
                    )),
                }
            }
        }
    }

    /// The claims of an access token that still works: ours, unexpired, and its grant not
    /// revoked. Every failure is the same `invalid_token` (RFC 6750 §3.1).
    pub async fn active_access_token(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Result<AccessTokenClaims, OAuthError> {
        let claims = self
            .read_access_token(token, now)
            .await?
            .ok_or_else(|| OAuthError::invalid_token("the access token is invalid or expired"))?;
        if self.records().is_grant_revoked(&claims.gid).await? {
            return Err(OAuthError::invalid_token(
                "the access token has been revoked",
            ));
        }
        Ok(claims)
    }

    /// The claims of one of our unexpired access tokens, revoked or not; `None` for anything
    /// else.
    pub(super) async fn read_access_token(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Result<Option<AccessTokenClaims>, PortError> {
        if looks_like_jwt(token) {
            return Ok(self.verify_jwt_access_token(token, now));
        }
        // The store expires the record with the token; `exp` makes expiry exact anyway.
        Ok(self
            .records()
            .access_token(token)
            .await?
            .filter(|c| c.exp > now))
    }

    /// RFC 9068 §4: signed by one of our keys, `typ` at+jwt, our issuer, not expired. Which
    /// audience is acceptable is the caller's decision.
    pub fn verify_jwt_access_token(&self, token: &str, now: UnixTime) -> Option<AccessTokenClaims> {
        let (header, claims) = self.keys.current().verify(token).ok()?;
        let claims: AccessTokenClaims = serde_json::from_value(claims).ok()?;
        let ok = header.get("typ").and_then(Value::as_str) == Some("at+jwt")
            && claims.iss == self.settings.issuer
            && claims.exp > now;
        ok.then_some(claims)
    }
}
