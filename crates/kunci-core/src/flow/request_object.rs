//! JWT-Secured Authorization Requests (RFC 9101): the `request` parameter is a JWT signed by
//! the client with one of its registered keys (`jwks` / `jwks_uri`). When it is present, only
//! its claims are the request (§6.3): parameters beside it are ignored except `client_id`,
//! which must match. Steps, in order: the client → the algorithm (asymmetric only, never
//! `none`) → the signature → `iss`, `aud`, `client_id`, `exp`, `nbf` → the parameters.
//!
//! Errors are `invalid_request_object` and shown as a page: until the object is verified,
//! its `redirect_uri` is not trusted. At `/par` the same expansion runs and errors are JSON.

use super::Provider;
use crate::authorize::AuthorizeParams;
use crate::client::Client;
use crate::client_assertion::CLOCK_SKEW_SECS;
use crate::clock::UnixTime;
use crate::error::{ErrorCode, OAuthError, PortError};
use crate::foreign_jws::{ASYMMETRIC, UnverifiedJws, VerifyAlg};
use serde_json::Value;

/// Algorithms a request object may be signed with (discovery lists them).
pub const REQUEST_OBJECT_ALGS: [VerifyAlg; 4] = ASYMMETRIC;

/// Claims about the JWT itself, not authorization request parameters; a nested `request` or
/// `request_uri` is not followed.
const NOT_PARAMETERS: [&str; 9] = [
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "sub",
    "request",
    "request_uri",
];

fn invalid(why: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRequestObject, why)
}

impl Provider {
    /// At `/authorize`: with a `request` parameter, the request object's parameters
    /// (`Some`); without one, `None`.
    pub(super) async fn request_object_params(
        &self,
        params: &AuthorizeParams,
        now: UnixTime,
    ) -> Result<Result<Option<AuthorizeParams>, OAuthError>, PortError> {
        let Some(request) = params.value("request") else {
            return Ok(Ok(None));
        };
        if params.value("request_uri").is_some() {
            return Ok(Err(OAuthError::invalid_request(
                "request and request_uri cannot be used together",
            )));
        }
        // RFC 9101 §5: client_id is also sent as a plain parameter. For a client without
        // keys (or an unknown one) the ordinary validation answers: `request_not_supported`
        // once its redirect URI is trusted, an error page before.
        let client = match params.value("client_id") {
            Some(id) => self.client(id).await?,
            None => None,
        };
        let Some(client) = client.filter(|c| c.has_public_keys()) else {
            return Ok(Ok(None));
        };
        Ok(self
            .expand_request_object(&client, request, now)
            .await
            .map(|pairs| Some(AuthorizeParams::from_pairs(pairs))))
    }

    /// Verifies `request` for `client` and returns its parameters, `client_id` included.
    pub(super) async fn expand_request_object(
        &self,
        client: &Client,
        request: &str,
        now: UnixTime,
    ) -> Result<Vec<(String, String)>, OAuthError> {
        // FAPI 2.0 §5.4.1: no RS256 for a fapi2 client.
        let (algs, why) = if self.settings.is_fapi2(&client.id) {
            (
                &crate::fapi2::ALGS[..],
                "the request object must be a JWT signed with PS256, ES256 or EdDSA",
            )
        } else {
            (
                &REQUEST_OBJECT_ALGS[..],
                "the request object must be a JWT signed with RS256, PS256, ES256 or EdDSA",
            )
        };
        let jws = UnverifiedJws::parse(request, algs).map_err(|_| invalid(why))?;
        self.verify_with_client_keys(client, &jws)
            .await
            .map_err(|_| {
                invalid(
                    "the request object's signature does not verify with the application's keys",
                )
            })?;
        check_claims(&jws.claims, &client.id, &self.settings.issuer, now)?;
        Ok(parameters(&jws.claims, &client.id))
    }
}

/// RFC 9101 §4, §5: `iss` is the client, `aud` the issuer, `client_id` (if given) the client;
/// `exp` (if given) in the future and `nbf` (if given) not.
fn check_claims(
    claims: &Value,
    client_id: &str,
    issuer: &str,
    now: UnixTime,
) -> Result<(), OAuthError> {
    let s = |m: &str| claims.get(m).and_then(Value::as_str);
    if s("iss") != Some(client_id) {
        return Err(invalid("the request object's iss must be the client_id"));
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == issuer,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(issuer)),
        _ => false,
    };
    if !aud_ok {
        return Err(invalid("the request object's aud must be the issuer"));
    }
    if claims
        .get("client_id")
        .is_some_and(|c| c.as_str() != Some(client_id))
    {
        return Err(invalid("the request object's client_id does not match"));
    }
    match claims.get("exp").map(Value::as_i64) {
        None => {}
        Some(Some(exp)) if exp > now => {}
        Some(_) => return Err(invalid("the request object has expired")),
    }
    match claims.get("nbf").map(Value::as_i64) {
        None => {}
        Some(Some(nbf)) if nbf <= now + CLOCK_SKEW_SECS => {}
        Some(_) => return Err(invalid("the request object is not valid yet")),
    }
    Ok(())
}

/// The request object's claims as authorization request parameters: strings as they are,
/// numbers and booleans as text, objects (the `claims` parameter) as JSON text.
fn parameters(claims: &Value, client_id: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = claims
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !NOT_PARAMETERS.contains(&k.as_str()) && *k != "client_id")
        .filter_map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Object(_) => v.to_string(),
                Value::Array(_) | Value::Null => return None,
            };
            Some((k.clone(), text))
        })
        .collect();
    out.push(("client_id".into(), client_id.to_owned()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISS: &str = "https://id.example";

    #[test]
    fn issuer_audience_and_client_are_checked() {
        let ok = json!({"iss": "app", "aud": ISS, "client_id": "app", "exp": 200});
        assert!(check_claims(&ok, "app", ISS, 100).is_ok());
        for (m, v) in [
            ("iss", json!("other")),
            ("aud", json!("https://elsewhere.example")),
            ("client_id", json!("other")),
            ("exp", json!(50)),
            ("nbf", json!(1000)),
        ] {
            let mut c = ok.clone();
            c[m] = v;
            assert!(check_claims(&c, "app", ISS, 100).is_err(), "{m}");
        }
    }

    #[test]
    fn only_request_parameters_come_out() {
        let c = json!({"iss": "app", "aud": ISS, "scope": "openid", "max_age": 60,
                       "claims": {"userinfo": {"email": null}}, "request_uri": "x"});
        let mut p = parameters(&c, "app");
        p.sort();
        assert_eq!(
            p,
            [
                ("claims".into(), r#"{"userinfo":{"email":null}}"#.into()),
                ("client_id".into(), "app".into()),
                ("max_age".into(), "60".into()),
                ("scope".into(), "openid".into()),
            ]
        );
    }
}
