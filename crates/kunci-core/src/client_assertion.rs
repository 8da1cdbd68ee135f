//! Client authentication with JWTs (RFC 7523 §2.2, §3; OIDC Core §9): `client_secret_jwt`
//! (HS256 with the client's secret) and `private_key_jwt` (a key from the client's JWK Set).
//!
//! The checks are small named steps run in order by [`check_claims`]; the signature and the
//! single use of `jti` are checked by the caller (`flow/client_auth.rs`), which has the keys
//! and the store. Keys behind a `jwks_uri` come through the [`JwksFetcher`] port, which the
//! binary implements with an HTTP client and a cache.

use crate::clock::UnixTime;
use crate::error::PortError;
use crate::foreign_jws::{ASYMMETRIC, VerifyAlg};
use crate::secret::Secret;
use async_trait::async_trait;
use serde_json::Value;

/// RFC 7523 §2.2: the only `client_assertion_type` Kunci accepts.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An assertion may be valid for at most this long from now (`exp` − now), so that the
/// remembered `jti` values stay few and short-lived.
pub const MAX_LIFETIME_SECS: i64 = 300;

/// Tolerance for clocks that are slightly off, applied to `iat`/`nbf` in the future.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// Algorithms per method: HMAC only with a shared secret, signatures only with public keys.
pub const CLIENT_SECRET_JWT_ALGS: [VerifyAlg; 1] = [VerifyAlg::HS256];
pub const PRIVATE_KEY_JWT_ALGS: [VerifyAlg; 4] = ASYMMETRIC;

/// What a client verifies its assertions with.
#[derive(Debug, Clone)]
pub enum AssertionKeys {
    /// `client_secret_jwt`: the plain secret (from `env:VAR`; a digest cannot do HMAC).
    SharedSecret(Secret<Vec<u8>>),
    /// `private_key_jwt` with the JWK Set inline in the configuration (its `keys`).
    Jwks(Vec<Value>),
    /// `private_key_jwt` with the JWK Set at a URL the client hosts.
    JwksUri(String),
}

/// Fetches a client's JWK Set from its `jwks_uri` (I/O, so a port).
#[async_trait]
pub trait JwksFetcher: Send + Sync {
    /// The `keys` of the JWK Set at `uri`, possibly cached. With `refresh`, the caller found
    /// no matching key in the cached set (the client may have rotated): fetch again unless
    /// the cached copy is very fresh.
    async fn keys(&self, uri: &str, refresh: bool) -> Result<Vec<Value>, PortError>;
}

/// A fetcher for deployments without HTTP (tests of the core): every URI is unreachable.
pub struct NoJwksFetcher;

#[async_trait]
impl JwksFetcher for NoJwksFetcher {
    async fn keys(&self, _uri: &str, _refresh: bool) -> Result<Vec<Value>, PortError> {
        Err(PortError::Unavailable("no JWKS fetcher configured".into()))
    }
}

/// The subject of an assertion, read without checking anything: only used to look the
/// client up when the form has no `client_id` (RFC 7523 §3 makes it optional).
pub fn unverified_subject(assertion: &str) -> Option<String> {
    use base64::Engine;
    let payload = assertion.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

/// The claims that passed, for the replay check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedAssertion {
    pub jti: String,
    pub exp: UnixTime,
}

/// RFC 7523 §3 in order. `audiences` are the values `aud` may contain (the token endpoint
/// URL and the issuer). Errors are public descriptions; the caller answers `invalid_client`.
pub fn check_claims(
    claims: &Value,
    client_id: &str,
    audiences: &[&str],
    now: UnixTime,
) -> Result<CheckedAssertion, &'static str> {
    check_issuer_and_subject(claims, client_id)?;
    check_audience(claims, audiences)?;
    let exp = check_expiry(claims, now)?;
    check_not_before(claims, now)?;
    let jti = check_jti(claims)?;
    Ok(CheckedAssertion { jti, exp })
}

/// §3 items 1–2: `iss` and `sub` are both the client id (OIDC Core §9).
fn check_issuer_and_subject(claims: &Value, client_id: &str) -> Result<(), &'static str> {
    let is_client = |m: &str| claims.get(m).and_then(Value::as_str) == Some(client_id);
    if is_client("iss") && is_client("sub") {
        Ok(())
    } else {
        Err("the assertion's iss and sub must both be the client_id")
    }
}

/// §3 item 3: `aud` (a string or an array) names this authorization server.
fn check_audience(claims: &Value, audiences: &[&str]) -> Result<(), &'static str> {
    let ok = match claims.get("aud") {
        Some(Value::String(a)) => audiences.contains(&a.as_str()),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .any(|a| audiences.contains(&a)),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err("the assertion's aud must contain the token endpoint URL or the issuer")
    }
}

/// §3 item 4: `exp` in the future; and not further than [`MAX_LIFETIME_SECS`].
fn check_expiry(claims: &Value, now: UnixTime) -> Result<UnixTime, &'static str> {
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or("the assertion has no exp")?;
    if exp <= now {
        return Err("the assertion has expired");
    }
    if exp > now + MAX_LIFETIME_SECS {
        return Err("the assertion's exp is too far in the future (at most 5 minutes)");
    }
    Ok(exp)
}

/// §3 items 5–6: `nbf` and `iat`, if present, not in the future.
fn check_not_before(claims: &Value, now: UnixTime) -> Result<(), &'static str> {
    for m in ["nbf", "iat"] {
        match claims.get(m) {
            None => {}
            Some(v) => match v.as_i64() {
                Some(t) if t <= now + CLOCK_SKEW_SECS => {}
                _ => return Err("the assertion's nbf or iat is invalid or in the future"),
            },
        }
    }
    Ok(())
}

/// §3 item 7 and OIDC Core §9: a `jti`, which must be used once (checked by the caller).
fn check_jti(claims: &Value) -> Result<String, &'static str> {
    match claims.get("jti").and_then(Value::as_str) {
        Some(j) if !j.is_empty() && j.len() <= 256 => Ok(j.to_owned()),
        _ => Err("the assertion needs a jti"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const AUD: [&str; 2] = ["https://id.example/token", "https://id.example"];

    fn claims() -> Value {
        json!({"iss": "app", "sub": "app", "aud": "https://id.example/token",
               "exp": 1_100, "iat": 1_000, "jti": "j1"})
    }

    #[test]
    fn a_well_formed_assertion_passes() {
        assert_eq!(
            check_claims(&claims(), "app", &AUD, 1_000),
            Ok(CheckedAssertion {
                jti: "j1".into(),
                exp: 1_100
            })
        );
        let mut c = claims();
        c["aud"] = json!(["https://rs.example", "https://id.example"]);
        assert!(check_claims(&c, "app", &AUD, 1_000).is_ok());
    }

    #[test]
    fn each_claim_rule_refuses_on_its_own() {
        let cases: [(&str, Value); 7] = [
            ("iss", json!("other")),
            ("sub", json!("other")),
            ("aud", json!("https://elsewhere.example")),
            ("exp", json!(999)),
            ("exp", json!(1_000 + MAX_LIFETIME_SECS + 1)),
            ("iat", json!(2_000)),
            ("jti", json!("")),
        ];
        for (member, value) in cases {
            let mut c = claims();
            c[member] = value;
            assert!(
                check_claims(&c, "app", &AUD, 1_000).is_err(),
                "{member} accepted"
            );
        }
        let mut c = claims();
        c.as_object_mut().unwrap().remove("jti");
        assert!(check_claims(&c, "app", &AUD, 1_000).is_err());
    }

    #[test]
    fn the_subject_is_read_for_lookup_only() {
        use base64::Engine;
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let token = format!("{}.{}.x", b("{}"), b(r#"{"sub":"app"}"#));
        assert_eq!(unverified_subject(&token).as_deref(), Some("app"));
        assert_eq!(unverified_subject("garbage"), None);
    }
}
