//! The client credentials grant (RFC 6749 §4.4), with one RFC 8707 resource indicator.
//! Reads top to bottom: a confidential client (already authenticated) → the scopes it may have
//! for itself → the resource it names, if any → one access token whose subject is the client
//! (bound to the DPoP key of the request's proof, if any).
//! No refresh token (RFC 6749 §4.4.3) and no ID token: there is no user.

use super::TokenRequest;
use super::TokenResponse;
use crate::claims::{AccessTokenClaims, Confirmation};
use crate::client::Client;
use crate::clock::UnixTime;
use crate::error::OAuthError;
use crate::flow::Provider;
use crate::scope::{self, KNOWN_SCOPES};
use crate::secret::{random_token, random_uuid};

impl Provider {
    pub(super) async fn client_credentials_grant(
        &self,
        client: &Client,
        req: &TokenRequest,
        dpop_jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<TokenResponse, OAuthError> {
        check_confidential(client)?;
        let scopes = service_scopes(&client.scopes, req.scope.as_deref())?;
        let aud = check_resource(
            &client.audiences,
            req.resource.as_deref(),
            &self.settings.issuer,
        )?;
        let claims = AccessTokenClaims {
            iss: self.settings.issuer.clone(),
            sub: client.id.clone(),
            aud,
            exp: now + self.settings.access_token_ttl as i64,
            iat: now,
            jti: random_token(),
            client_id: client.id.clone(),
            scope: scope::join(&scopes),
            auth_time: None,
            sid: None,
            // Each token is its own grant, so revoking it touches nothing else.
            gid: random_uuid(),
            acr: None,
            amr: Vec::new(),
            userinfo_claims: Vec::new(),
            uid: None,
            act: None,
            cnf: dpop_jkt.map(|jkt| Confirmation {
                jkt: jkt.to_owned(),
            }),
        };
        let access_token = self.issue_access_token(client, &claims).await?;
        Ok(TokenResponse {
            access_token,
            token_type: claims.token_type(),
            expires_in: self.settings.access_token_ttl,
            refresh_token: None,
            id_token: None,
            scope: claims.scope,
            issued_token_type: None,
        })
    }
}

/// RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential
/// clients." Configuration refuses the combination already; this keeps the rule in the core.
fn check_confidential(client: &Client) -> Result<(), OAuthError> {
    if client.is_public() {
        return Err(OAuthError::unauthorized_client(
            "a public client cannot use the client_credentials grant",
        ));
    }
    Ok(())
}

/// RFC 6749 §3.3: the client's own scopes. The OpenID scopes (`openid`, `profile`, …,
/// `offline_access`) are about a user and never granted here; an omitted scope means every
/// other scope the client is allowed.
fn service_scopes(
    client_scopes: &[String],
    requested: Option<&str>,
) -> Result<Vec<String>, OAuthError> {
    let allowed: Vec<String> = client_scopes
        .iter()
        .filter(|s| !KNOWN_SCOPES.contains(&s.as_str()))
        .cloned()
        .collect();
    let Some(raw) = requested.filter(|s| !s.trim().is_empty()) else {
        return Ok(allowed);
    };
    let wanted = scope::parse(raw)
        .ok_or_else(|| OAuthError::invalid_scope("scope contains invalid characters"))?;
    if let Some(user_scope) = wanted.iter().find(|s| KNOWN_SCOPES.contains(&s.as_str())) {
        return Err(OAuthError::invalid_scope(format!(
            "scope {user_scope} is about a user and cannot be granted to a client alone"
        )));
    }
    if let Some(bad) = wanted.iter().find(|s| !allowed.contains(s)) {
        return Err(OAuthError::invalid_scope(format!(
            "scope {bad} is not allowed for this application"
        )));
    }
    Ok(wanted)
}

/// RFC 8707 §2: `resource` is an absolute URI without a fragment, and must be one the client
/// is registered for (`audiences`); it becomes the token's `aud`. Without it the token's
/// audience is this issuer. One resource per request (RFC 8707 allows several).
fn check_resource(
    audiences: &[String],
    resource: Option<&str>,
    issuer: &str,
) -> Result<String, OAuthError> {
    let Some(resource) = resource else {
        return Ok(issuer.to_owned());
    };
    let well_formed = url::Url::parse(resource).is_ok_and(|u| u.fragment().is_none());
    if !well_formed {
        return Err(OAuthError::invalid_target(
            "resource must be an absolute URI without a fragment",
        ));
    }
    if !audiences.iter().any(|a| a == resource) {
        return Err(OAuthError::invalid_target(
            "this application may not request tokens for that resource",
        ));
    }
    Ok(resource.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn list(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn only_the_clients_own_scopes_are_granted() {
        let allowed = list("openid orders:read orders:write");
        assert_eq!(
            service_scopes(&allowed, None).unwrap(),
            list("orders:read orders:write"),
            "omitted: every non-OpenID scope the client has"
        );
        assert_eq!(
            service_scopes(&allowed, Some("orders:read")).unwrap(),
            list("orders:read")
        );
        for bad in ["openid", "orders:delete", "orders:read offline_access"] {
            let err = service_scopes(&allowed, Some(bad)).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidScope, "{bad}");
        }
    }

    #[test]
    fn the_resource_must_be_registered_and_well_formed() {
        let issuer = "https://id.example";
        let audiences = list("https://api.example");
        assert_eq!(check_resource(&audiences, None, issuer).unwrap(), issuer);
        assert_eq!(
            check_resource(&audiences, Some("https://api.example"), issuer).unwrap(),
            "https://api.example"
        );
        for bad in [
            "https://other.example",
            "https://api.example#x",
            "relative/path",
        ] {
            let err = check_resource(&audiences, Some(bad), issuer).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidTarget, "{bad}");
        }
    }
}
