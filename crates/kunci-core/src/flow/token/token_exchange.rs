//! The token exchange grant (RFC 8693): a backend service trades an access token it was given
//! for one meant for another service, as the same subject (impersonation) or with itself
//! named as the actor (delegation, `act`).
//!
//! Reads top to bottom: a confidential client (already authenticated) → the parameters
//! (§2.1) → only an access token can be requested → the one target, which the client's policy
//! names → the subject token: ours, active, from a client the policy accepts → the actor
//! token, if any: ours, active, the client's own; and the mode the policy allows → the subject
//! as the client may see it → scopes no wider than the subject token's nor the client's → one
//! access token in the client's format that keeps the subject's grant (`gid`), so revoking the
//! original grant revokes it too, and never outlives the subject or actor token. No refresh
//! token, no ID token. A DPoP-bound subject token may be exchanged (the requesting client is
//! authenticated and named by the policy); the new token is bound to the requester's own proof.
//!
//! Errors follow §2.2.2: a request that is not valid, or a subject or actor token that is
//! invalid or unacceptable by policy, is `invalid_request`; a target that may not be served
//! is `invalid_target`.
//!
//! Subjects: a user's token keeps its `sub` only if the requesting client would see the same
//! `sub` for that user (both public, or pairwise in one sector, OIDC Core §8). Otherwise the
//! exchange would hand the client a link between two identifiers of one user, and is refused.
//! `may_act` (§4.4) is never put in Kunci's tokens, so the policy alone decides who may act.

use super::TokenRequest;
use super::TokenResponse;
use crate::claims::{AccessTokenClaims, Confirmation};
use crate::client::Client;
use crate::clock::UnixTime;
use crate::error::OAuthError;
use crate::flow::Provider;
use crate::flow::access_token::looks_like_jwt;
use crate::scope;
use crate::secret::random_token;
use crate::token_exchange::{
    ACCESS_TOKEN, Actor, ID_TOKEN, JWT, REFRESH_TOKEN, TokenExchangePolicy,
};

/// A parameter that was sent with a value.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// The §2.1 parameters that name tokens, checked for presence.
struct Presented<'a> {
    subject_token: &'a str,
    subject_token_type: &'a str,
    actor: Option<(&'a str, &'a str)>,
}

impl Provider {
    pub(super) async fn token_exchange_grant(
        &self,
        client: &Client,
        req: &TokenRequest,
        dpop_jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<TokenResponse, OAuthError> {
        check_confidential(client)?;
        let presented = presented_tokens(req)?;
        check_requested_token_type(req.requested_token_type.as_deref())?;
        let policy = &client.token_exchange;
        let aud = check_target(policy, req.audience.as_deref(), req.resource.as_deref())?;
        let subject = self
            .exchangeable_token(
                "subject_token",
                presented.subject_token,
                presented.subject_token_type,
                now,
            )
            .await?;
        check_subject_client(policy, &subject)?;
        let actor = match presented.actor {
            Some((token, kind)) => Some(
                self.exchangeable_token("actor_token", token, kind, now)
                    .await?,
            ),
            None => None,
        };
        let act = check_mode(policy, client, &subject, actor.as_ref())?;
        let jti = random_token();
        let (sub, uid) = self.exchanged_subject(client, &subject, &jti).await?;
        let scopes = exchanged_scopes(&subject.scopes(), &client.scopes, req.scope.as_deref())?;
        let exp = expiry(
            now,
            self.settings.access_token_ttl,
            &subject,
            actor.as_ref(),
        );
        let claims = AccessTokenClaims {
            iss: self.settings.issuer.clone(),
            sub,
            aud,
            exp,
            iat: now,
            jti,
            client_id: client.id.clone(),
            scope: scope::join(&scopes),
            auth_time: subject.auth_time,
            sid: subject.sid.clone(),
            // The subject's grant: revoking it (logout, revocation, refresh token reuse)
            // revokes this token too. Its marker outlives this token, which ends no later
            // than the subject token.
            gid: subject.gid.clone(),
            acr: subject.acr.clone(),
            amr: subject.amr.clone(),
            // A `claims` request was the subject client's, made to the user for that client.
            userinfo_claims: Vec::new(),
            uid,
            act,
            // The new token is the requesting client's: bound to the key of its own proof, if
            // it sent one (RFC 9449 §5), never to the subject token's key, which it lacks.
            cnf: dpop_jkt.map(|jkt| Confirmation {
                jkt: jkt.to_owned(),
            }),
        };
        let access_token = self.issue_access_token(client, &claims).await?;
        Ok(TokenResponse {
            access_token,
            token_type: claims.token_type(),
            expires_in: (claims.exp - now).max(0) as u64,
            refresh_token: None,
            id_token: None,
            scope: claims.scope,
            issued_token_type: Some(ACCESS_TOKEN),
        })
    }

    /// RFC 8693 §3: the token types Kunci accepts are its own access tokens, either as
    /// `access_token` (JWT or opaque) or as `jwt` (a JWT access token). Active means
    /// unexpired and its grant not revoked (`Provider::active_access_token`'s rule).
    async fn exchangeable_token(
        &self,
        name: &str,
        token: &str,
        token_type: &str,
        now: UnixTime,
    ) -> Result<AccessTokenClaims, OAuthError> {
        check_token_type(name, token_type, token)?;
        let claims = self.read_access_token(token, now).await?.ok_or_else(|| {
            OAuthError::invalid_request(format!(
                "{name} is invalid, expired or not an access token issued by this server"
            ))
        })?;
        if self.records().is_grant_revoked(&claims.gid).await? {
            return Err(OAuthError::invalid_request(format!(
                "{name} has been revoked"
            )));
        }
        Ok(claims)
    }

    /// The new token's `sub` and sealed account id. A client's own token (client
    /// credentials, no `auth_time`) keeps its subject, the client. A user's token keeps its
    /// `sub` only if the requesting client sees the user by that same `sub` (OIDC Core §8):
    /// a pairwise identifier is never traded for another one, or for the account id.
    async fn exchanged_subject(
        &self,
        client: &Client,
        subject: &AccessTokenClaims,
        jti: &str,
    ) -> Result<(String, Option<String>), OAuthError> {
        if subject.auth_time.is_none() {
            return Ok((subject.sub.clone(), None));
        }
        let salt = self.settings.pairwise_salt.as_deref();
        let account_id = match (&subject.uid, salt) {
            (None, _) => subject.sub.clone(),
            (Some(sealed), Some(salt)) => salt
                .open_uid(&subject.jti, sealed)
                .ok_or_else(|| OAuthError::invalid_request("subject_token is invalid"))?,
            (Some(_), None) => return Err(OAuthError::invalid_request("subject_token is invalid")),
        };
        if self.durable.find_by_id(&account_id).await?.is_none() {
            return Err(OAuthError::invalid_request(
                "the subject token's account no longer exists",
            ));
        }
        let sub = self.subject(client, &account_id)?;
        if sub != subject.sub {
            return Err(OAuthError::invalid_request(
                "this client knows the subject token's user by another subject identifier (pairwise, OIDC Core §8); the exchange would link the two",
            ));
        }
        let uid = match salt {
            Some(salt) if sub != account_id => salt.seal_uid(jti, &account_id),
            _ => None,
        };
        Ok((sub, uid))
    }
}

/// Configuration refuses the grant for public clients; this keeps the rule in the core. A
/// public client cannot prove who is asking, and the exchange is all about who asks.
fn check_confidential(client: &Client) -> Result<(), OAuthError> {
    if client.is_public() {
        return Err(OAuthError::unauthorized_client(
            "a public client cannot use the token exchange grant",
        ));
    }
    Ok(())
}

/// RFC 8693 §2.1: `subject_token` and `subject_token_type` are required; `actor_token_type`
/// is required with `actor_token` and must not be sent without it.
fn presented_tokens(req: &TokenRequest) -> Result<Presented<'_>, OAuthError> {
    let subject_token = given(&req.subject_token)
        .ok_or_else(|| OAuthError::invalid_request("subject_token is missing"))?;
    let subject_token_type = given(&req.subject_token_type)
        .ok_or_else(|| OAuthError::invalid_request("subject_token_type is missing"))?;
    let actor = match (given(&req.actor_token), given(&req.actor_token_type)) {
        (Some(t), Some(k)) => Some((t, k)),
        (Some(_), None) => {
            return Err(OAuthError::invalid_request(
                "actor_token_type is required with actor_token",
            ));
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_request(
                "actor_token_type must not be sent without actor_token",
            ));
        }
        (None, None) => None,
    };
    Ok(Presented {
        subject_token,
        subject_token_type,
        actor,
    })
}

/// RFC 8693 §2.1 `requested_token_type`: Kunci issues access tokens only (no refresh token,
/// no ID token), so any other type is a request it cannot honour (§2.2.2).
fn check_requested_token_type(requested: Option<&str>) -> Result<(), OAuthError> {
    match requested {
        None | Some(ACCESS_TOKEN) => Ok(()),
        Some(_) => Err(OAuthError::invalid_request(format!(
            "requested_token_type: only {ACCESS_TOKEN} can be issued"
        ))),
    }
}

/// RFC 8693 §3: which presented token types are accepted, with the reason for the others.
fn check_token_type(name: &str, token_type: &str, token: &str) -> Result<(), OAuthError> {
    let refusal = match token_type {
        ACCESS_TOKEN => return Ok(()),
        JWT if looks_like_jwt(token) => return Ok(()),
        JWT => format!("{name} is not a JWT"),
        REFRESH_TOKEN => format!("{name}: refresh tokens cannot be exchanged"),
        ID_TOKEN => {
            format!("{name}: ID tokens cannot be exchanged; present the access token instead")
        }
        other => format!(
            "{name}_type {other} is not supported; present an access token issued by this server ({ACCESS_TOKEN})"
        ),
    };
    Err(OAuthError::invalid_request(refusal))
}

/// RFC 8693 §2.1 and RFC 8707 §2: the target service, named by `audience` (a logical name)
/// or `resource` (an absolute URI without a fragment), or both naming the same one. Kunci
/// issues a token for one target, which must be in the client's policy. It becomes `aud`.
fn check_target(
    policy: &TokenExchangePolicy,
    audience: Option<&str>,
    resource: Option<&str>,
) -> Result<String, OAuthError> {
    if let Some(r) = resource
        && !url::Url::parse(r).is_ok_and(|u| u.fragment().is_none())
    {
        return Err(OAuthError::invalid_target(
            "resource must be an absolute URI without a fragment",
        ));
    }
    let target = match (audience, resource) {
        (Some(a), Some(r)) if a != r => {
            return Err(OAuthError::invalid_target(
                "audience and resource name different targets; a token is issued for one",
            ));
        }
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => {
            return Err(OAuthError::invalid_target(
                "name the target service with audience or resource",
            ));
        }
    };
    if !policy.allows_target(target) {
        return Err(OAuthError::invalid_target(
            "this client may not exchange tokens for that target",
        ));
    }
    Ok(target.to_owned())
}

/// The policy may limit whose tokens the client can present as subject tokens.
fn check_subject_client(
    policy: &TokenExchangePolicy,
    subject: &AccessTokenClaims,
) -> Result<(), OAuthError> {
    if !policy.accepts_subject_from(&subject.client_id) {
        return Err(OAuthError::invalid_request(
            "this client may not exchange tokens issued to that client",
        ));
    }
    // RFC 9449 §7: a DPoP-bound token is only usable with its key, which the exchanging
    // service lacks. It may still vouch for such a token (it received it with a proof), but
    // only for a client the policy names itself: "any client" would let a service turn a
    // stolen bound token of any application into an unbound one.
    let named = policy
        .subject_clients
        .as_ref()
        .is_some_and(|ids| ids.contains(&subject.client_id));
    if subject.cnf.is_some() && !named {
        return Err(OAuthError::invalid_request(
            "subject_token is bound to a DPoP key; only clients named in subject_clients may have theirs exchanged",
        ));
    }
    Ok(())
}

/// RFC 8693 §1.1 and §4.1: without an actor token the client impersonates the subject; with
/// one, it delegates and the new token names the actor in `act`, above any actor the subject
/// token already named. The actor token must be the requesting client's own, so a client
/// can only name itself. A delegation chain is never dropped: impersonating a delegated
/// token keeps its `act`.
fn check_mode(
    policy: &TokenExchangePolicy,
    client: &Client,
    subject: &AccessTokenClaims,
    actor: Option<&AccessTokenClaims>,
) -> Result<Option<Actor>, OAuthError> {
    let Some(actor) = actor else {
        if !policy.impersonation {
            return Err(OAuthError::invalid_request(
                "this client may not impersonate; present its own access token as actor_token",
            ));
        }
        return Ok(subject.act.clone());
    };
    if !policy.delegation {
        return Err(OAuthError::invalid_request(
            "this client may not act for others; omit actor_token",
        ));
    }
    if actor.client_id != client.id {
        return Err(OAuthError::invalid_request(
            "actor_token must be an access token issued to this client",
        ));
    }
    Ok(Some(Actor {
        sub: actor.sub.clone(),
        client_id: actor.client_id.clone(),
        act: subject.act.clone().map(Box::new),
    }))
}

/// RFC 8693 §2.1 `scope` and RFC 6749 §3.3: the subject token's scopes that the client may
/// have, or a subset of them; anything wider is `invalid_scope`. `offline_access` is left out:
/// no refresh token comes from an exchange.
fn exchanged_scopes(
    subject_scopes: &[String],
    client_scopes: &[String],
    requested: Option<&str>,
) -> Result<Vec<String>, OAuthError> {
    let allowed: Vec<String> = subject_scopes
        .iter()
        .filter(|s| *s != "offline_access" && client_scopes.contains(s))
        .cloned()
        .collect();
    let Some(raw) = requested.filter(|s| !s.trim().is_empty()) else {
        if allowed.is_empty() {
            return Err(OAuthError::invalid_scope(
                "none of the subject token's scopes is allowed for this client",
            ));
        }
        return Ok(allowed);
    };
    let wanted = scope::parse(raw)
        .ok_or_else(|| OAuthError::invalid_scope("scope contains invalid characters"))?;
    for s in &wanted {
        if !subject_scopes.contains(s) {
            return Err(OAuthError::invalid_scope(format!(
                "scope {s} is wider than the subject token's"
            )));
        }
        if !allowed.contains(s) {
            return Err(OAuthError::invalid_scope(format!(
                "scope {s} is not allowed for this client in a token exchange"
            )));
        }
    }
    Ok(wanted)
}

/// The new token lives the usual access token lifetime, cut at the end of the subject token
/// and of the actor token: an exchange never extends a credential.
fn expiry(
    now: UnixTime,
    ttl: u64,
    subject: &AccessTokenClaims,
    actor: Option<&AccessTokenClaims>,
) -> UnixTime {
    let end = (now + ttl as i64).min(subject.exp);
    actor.map_or(end, |a| end.min(a.exp))
}

#[cfg(test)]
#[path = "token_exchange_tests.rs"]
mod tests;
