//! Minting what the token endpoint returns: access tokens in the client's format (a JWT per
//! RFC 9068, or an opaque reference whose claims live in the ephemeral store), ID tokens
//! (OIDC Core §2, §3.1.3.6, §12.2) and fresh refresh token values (RFC 9700 §4.14.2).

use super::TokenResponse;
use crate::claims::{
    AccessTokenClaims, Confirmation, IdTokenClaims, SignIn, add_requested, at_hash_for,
};
use crate::claims_request::{ClaimsRequest, acr_for};
use crate::client::{AccessTokenFormat, Client, RefreshPolicy};
use crate::clock::UnixTime;
use crate::error::{OAuthError, PortError};
use crate::flow::Provider;
use crate::ports::Account;
use crate::scope;
use crate::secret::{random_token, token_key};
use serde_json::{Map, Value};

/// Who a user's tokens are about and how the user signed in: taken from the authorization
/// code at first, and from the refresh token on every refresh.
pub(super) struct UserGrant<'a> {
    pub client: &'a Client,
    pub grant_id: &'a str,
    pub account_id: &'a str,
    pub session_id: &'a str,
    pub auth_time: UnixTime,
    pub amr: &'a [String],
    /// The scopes of the tokens being issued now.
    pub scopes: &'a [String],
    /// Only in the first ID token: a refreshed one SHOULD NOT carry it (OIDC Core §12.2).
    pub nonce: Option<&'a str>,
    pub account: &'a Account,
    /// The authorization request's `claims` parameter (OIDC Core §5.5), when known.
    pub claims: Option<&'a ClaimsRequest>,
    /// RFC 9449 §6: the DPoP key the access token is bound to, from this request's proof.
    pub dpop_jkt: Option<&'a str>,
}

impl Provider {
    /// An access token and, with the `openid` scope, an ID token for a user grant.
    pub(super) async fn issue_user_tokens(
        &self,
        g: &UserGrant<'_>,
        refresh_token: Option<String>,
        now: UnixTime,
    ) -> Result<TokenResponse, OAuthError> {
        let issuer = &self.settings.issuer;
        let sub = self.subject(g.client, g.account_id)?;
        let jti = random_token();
        // A pairwise `sub` cannot be turned back into the account: the token carries the
        // account id sealed for `/userinfo` (subject.rs).
        let uid = match &self.settings.pairwise_salt {
            Some(salt) if sub != g.account_id => salt.seal_uid(&jti, g.account_id),
            _ => None,
        };
        let claims = AccessTokenClaims {
            iss: issuer.clone(),
            sub: sub.clone(),
            aud: issuer.clone(),
            exp: now + self.settings.access_token_ttl as i64,
            iat: now,
            jti,
            client_id: g.client.id.clone(),
            scope: scope::join(g.scopes),
            auth_time: Some(g.auth_time),
            sid: Some(g.session_id.to_owned()),
            gid: g.grant_id.to_owned(),
            acr: acr_for(g.amr).map(str::to_owned),
            amr: g.amr.to_vec(),
            userinfo_claims: g
                .claims
                .map(ClaimsRequest::userinfo_names)
                .unwrap_or_default(),
            uid,
            act: None,
            cnf: g.dpop_jkt.map(|jkt| Confirmation {
                jkt: jkt.to_owned(),
            }),
        };
        let access_token = self.issue_access_token(g.client, &claims).await?;
        let id_token = g
            .scopes
            .iter()
            .any(|s| s == "openid")
            .then(|| self.id_token(g, &sub, &access_token, now));
        Ok(TokenResponse {
            access_token,
            token_type: claims.token_type(),
            expires_in: self.settings.access_token_ttl,
            refresh_token,
            id_token,
            scope: claims.scope,
            issued_token_type: None,
        })
    }

    /// Turns claims into an access token of the client's format.
    pub(super) async fn issue_access_token(
        &self,
        client: &Client,
        claims: &AccessTokenClaims,
    ) -> Result<String, PortError> {
        match client.access_token_format {
            AccessTokenFormat::Jwt => {
                // The key that signs now (`iat`): during a rotation, the old one until the new
                // one activates.
                let keys = self.keys.current();
                let key = keys
                    .signing_key_at(self.settings.access_token_alg, claims.iat)
                    .or_else(|| keys.signing_key_at(client.id_token_alg, claims.iat))
                    .expect("the composition root loads a key for every configured algorithm");
                Ok(key.sign("at+jwt", claims))
            }
            AccessTokenFormat::Opaque => {
                let token = random_token();
                let ttl = (claims.exp - claims.iat).max(1) as u64;
                self.records().put_access_token(&token, claims, ttl).await?;
                Ok(token)
            }
        }
    }

    /// OIDC Core §2 and §3.1.3.6 (`at_hash`); on refresh, §12.2: same `sub` and `aud`, the
    /// original `auth_time`, a new `iat`.
    fn id_token(&self, g: &UserGrant<'_>, sub: &str, access_token: &str, now: UnixTime) -> String {
        let keys = self.keys.current();
        let key = keys
            .signing_key_at(g.client.id_token_alg, now)
            .expect("config validation ensures the client's algorithm has a key");
        let claims = IdTokenClaims {
            iss: &self.settings.issuer,
            sub,
            aud: &g.client.id,
            exp: now + self.settings.id_token_ttl as i64,
            iat: now,
            auth_time: g.auth_time,
            nonce: g.nonce,
            at_hash: at_hash_for(key.alg(), access_token),
            amr: g.amr,
            acr: acr_for(g.amr),
            sid: g.session_id,
            requested: self.id_token_requested(g),
        };
        key.sign("JWT", &claims)
    }
}

impl Provider {
    /// OIDC Core §5.5: the user claims a `claims` request names for the ID token. `sub`,
    /// `auth_time`, `acr` and `amr` are in every ID token already.
    fn id_token_requested(&self, g: &UserGrant<'_>) -> Map<String, Value> {
        let mut m = Map::new();
        if let Some(c) = g.claims {
            let names: Vec<String> = c
                .id_token_names()
                .into_iter()
                .filter(|n| !matches!(n.as_str(), "sub" | "auth_time" | "acr" | "amr"))
                .collect();
            add_requested(&mut m, g.account, &names, &SignIn::default());
        }
        m
    }
}

/// A new refresh token: the value for the client (256 random bits) and the digest to store.
pub(super) fn new_refresh_token() -> (String, String) {
    let token = random_token();
    let hash = token_key(&token);
    (token, hash)
}

/// RFC 9449 §5: the DPoP key a refresh token issued now is bound to. A family stays bound to
/// the key it has; an unbound family of a public client takes the key of the request's proof.
/// A confidential client's tokens are bound to its credentials already, so never to a key.
pub(super) fn refresh_binding(
    client: &Client,
    family_key: Option<&str>,
    proof_key: Option<&str>,
) -> Option<String> {
    family_key
        .or(proof_key.filter(|_| client.is_public()))
        .map(str::to_owned)
}

/// When a token issued `now` idles out: the idle lifetime, cut at the family's absolute end.
pub(super) fn idle_end(policy: &RefreshPolicy, now: UnixTime, absolute_end: UnixTime) -> UnixTime {
    (now + policy.idle_ttl as i64).min(absolute_end)
}
