//! Token introspection (RFC 7662): an authenticated client asks whether a token is active and
//! what it carries.
//!
//! Who sees what (RFC 7662 §2.1 requires authorizing the caller; §4 warns of token scanning):
//! - the client a token was issued to sees its access and refresh tokens;
//! - a resource server (`resource_server = true`) sees access tokens whose `aud` is one of its
//!   `audiences`, whoever they were issued to;
//! - for everything else the answer is `{"active": false}`, exactly as for an unknown token.
//!
//! Public clients have no credentials, so they cannot introspect (`invalid_client`).

use super::Provider;
use super::revoke::{TokenKind, search_order};
use crate::claims::AccessTokenClaims;
use crate::client::{Client, PresentedCredentials};
use crate::clock::UnixTime;
use crate::error::{OAuthError, PortError};
use crate::ports::RefreshToken;
use crate::scope;
use crate::secret::token_key;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The introspection request as parsed from the form body and headers.
#[derive(Debug, Default)]
pub struct IntrospectionRequest {
    pub credentials: Option<PresentedCredentials>,
    pub token: Option<String>,
    pub token_type_hint: Option<String>,
}

impl Provider {
    /// RFC 7662 §2.2: `{"active": true, …claims}` or `{"active": false}`.
    pub async fn introspect(
        &self,
        req: IntrospectionRequest,
        now: UnixTime,
    ) -> Result<Map<String, Value>, OAuthError> {
        let caller = self
            .authenticate_confidential(req.credentials.as_ref(), now)
            .await?;
        let token = req
            .token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
        for kind in search_order(req.token_type_hint.as_deref()) {
            let answer = match kind {
                TokenKind::Access => self.introspect_access_token(&caller, token, now).await?,
                TokenKind::Refresh => self.introspect_refresh_token(&caller, token, now).await?,
            };
            if let Some(answer) = answer {
                return Ok(answer);
            }
        }
        Ok(inactive())
    }

    /// RFC 7662 §2.1: the caller must authenticate; a public client cannot.
    async fn authenticate_confidential(
        &self,
        presented: Option<&PresentedCredentials>,
        now: UnixTime,
    ) -> Result<Arc<Client>, OAuthError> {
        let presented = presented
            .ok_or_else(|| OAuthError::invalid_client("client authentication is missing"))?;
        let client = self.authenticate_client(presented, now).await?;
        if client.is_public() {
            return Err(OAuthError::invalid_client(
                "introspection needs client authentication, which a public client cannot give",
            ));
        }
        Ok(client)
    }

    async fn introspect_access_token(
        &self,
        caller: &Client,
        token: &str,
        now: UnixTime,
    ) -> Result<Option<Map<String, Value>>, PortError> {
        let Some(claims) = self.read_access_token(token, now).await? else {
            return Ok(None);
        };
        if !may_see_access_token(caller, &claims)
            || self.records().is_grant_revoked(&claims.gid).await?
        {
            return Ok(None);
        }
        Ok(Some(access_token_answer(&claims)))
    }

    async fn introspect_refresh_token(
        &self,
        caller: &Client,
        token: &str,
        now: UnixTime,
    ) -> Result<Option<Map<String, Value>>, PortError> {
        let Some(stored) = self.durable.find_refresh_token(&token_key(token)).await? else {
            return Ok(None);
        };
        let usable = stored.client_id == caller.id
            && stored.used_at.is_none()
            && now < stored.idle_expires_at
            && now < stored.absolute_expires_at
            && self.durable.find_by_id(&stored.account_id).await?.is_some();
        if !usable {
            return Ok(None);
        }
        // The caller is the token's client: it sees its own `sub` (public or pairwise).
        let Ok(sub) = self.subject(caller, &stored.account_id) else {
            return Ok(None);
        };
        Ok(Some(refresh_token_answer(
            &stored,
            &self.settings.issuer,
            &sub,
        )))
    }
}

/// The token's own client, or a resource server it is meant for.
fn may_see_access_token(caller: &Client, claims: &AccessTokenClaims) -> bool {
    caller.id == claims.client_id
        || (caller.resource_server && caller.audiences.contains(&claims.aud))
}

fn inactive() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("active".into(), Value::Bool(false));
    m
}

/// RFC 7662 §2.2 members. The session and grant ids stay inside Kunci.
fn access_token_answer(c: &AccessTokenClaims) -> Map<String, Value> {
    let mut m = object(json!({
        "active": true,
        "token_type": c.token_type(),
        "scope": c.scope,
        "client_id": c.client_id,
        "sub": c.sub,
        "aud": c.aud,
        "iss": c.iss,
        "exp": c.exp,
        "iat": c.iat,
        "jti": c.jti,
    }));
    if let Some(t) = c.auth_time {
        m.insert("auth_time".into(), Value::from(t));
    }
    // RFC 9449 §6.2: a resource server learns the key the token is bound to.
    if let Some(cnf) = &c.cnf {
        m.insert("cnf".into(), json!({ "jkt": cnf.jkt }));
    }
    // RFC 8693 §4.1: a delegated token says who acts for the subject.
    if let Some(act) = &c.act {
        m.insert(
            "act".into(),
            serde_json::to_value(act).unwrap_or(Value::Null),
        );
    }
    m
}

/// A refresh token ends at whichever comes first, its idle or its absolute expiry.
fn refresh_token_answer(t: &RefreshToken, issuer: &str, sub: &str) -> Map<String, Value> {
    object(json!({
        "active": true,
        "scope": scope::join(&t.scopes),
        "client_id": t.client_id,
        "sub": sub,
        "iss": issuer,
        "exp": t.idle_expires_at.min(t.absolute_expires_at),
        "iat": t.created_at,
        "auth_time": t.auth_time,
    }))
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
