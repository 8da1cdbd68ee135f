//! DPoP proof checks (RFC 9449 §4.3), pure: the caller passes the method and URL of the
//! request, `now` and the access token the proof must cover (at resource endpoints). The
//! single use of `jti` and the server nonce (§8) are the caller's (`flow/dpop.rs`), since
//! both need the ephemeral store.

use crate::clock::UnixTime;
use crate::foreign_jws::{ASYMMETRIC, UnverifiedJws, VerifyAlg, jwk_thumbprint};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::Value;

/// How old a proof may be (`iat` in the past) and how far ahead a client clock may run.
pub const MAX_AGE_SECS: i64 = 300;
pub const MAX_SKEW_SECS: i64 = 60;

/// JWK members that hold private key material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2):
/// any of them means the client sent (part of) its private key.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// What a DPoP request names: its method and URL, and the access token it presents.
#[derive(Debug, Clone, Copy)]
pub struct DpopContext<'a> {
    pub method: &'a str,
    /// The request's URL as the server is reached (scheme, host, path; query ignored).
    pub url: &'a str,
    pub access_token: Option<&'a str>,
}

/// A proof that passed: the key's RFC 7638 thumbprint (`jkt`), the `jti` to remember and the
/// server nonce it carries, if any (checked by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedProof {
    pub jkt: String,
    pub jti: String,
    pub iat: UnixTime,
    pub nonce: Option<String>,
    /// The algorithm it was signed with, for policies stricter than RFC 9449 (FAPI 2.0).
    pub alg: VerifyAlg,
}

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DpopError {
    Invalid(&'static str),
}

/// The algorithms a DPoP proof may be signed with (discovery's
/// `dpop_signing_alg_values_supported`): asymmetric only (§4.2).
pub fn signing_algs() -> Vec<&'static str> {
    ASYMMETRIC.iter().map(|a| a.as_str()).collect()
}

/// RFC 9449 §4.3, steps in order.
pub fn check_proof(
    proof: &str,
    ctx: DpopContext<'_>,
    now: UnixTime,
) -> Result<CheckedProof, DpopError> {
    let bad = DpopError::Invalid;
    // 1–4: one well-formed JWS with an asymmetric algorithm (never `none` or HMAC).
    let jws = UnverifiedJws::parse(proof, &ASYMMETRIC)
        .map_err(|_| bad("the DPoP proof is not a JWT signed with an allowed algorithm"))?;
    // 5: `typ` is `dpop+jwt`.
    if jws.header_str("typ") != Some("dpop+jwt") {
        return Err(bad("the DPoP proof's typ must be dpop+jwt"));
    }
    // 6–7: `jwk` is a public key, and the signature verifies with it.
    let jwk = jws
        .header
        .get("jwk")
        .filter(|k| k.is_object() && PRIVATE_MEMBERS.iter().all(|m| k.get(m).is_none()))
        .ok_or(bad("the DPoP proof needs a public jwk header"))?;
    jws.verify_jwk(jwk)
        .map_err(|_| bad("the DPoP proof's signature does not verify"))?;
    let claims = &jws.claims;
    let s = |m: &str| claims.get(m).and_then(Value::as_str);
    // 8–9: `htm` and `htu` name this request (`htu` without query and fragment).
    if s("htm") != Some(ctx.method) {
        return Err(bad("the DPoP proof's htm does not match the request"));
    }
    if !s("htu").is_some_and(|htu| same_uri(htu, ctx.url)) {
        return Err(bad("the DPoP proof's htu does not match the request"));
    }
    // 10: the server's nonce is the caller's to check (it lives in the ephemeral store).
    // 11: `iat` recent.
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or(bad("the DPoP proof has no iat"))?;
    if iat < now - MAX_AGE_SECS || iat > now + MAX_SKEW_SECS {
        return Err(bad("the DPoP proof's iat is outside the accepted window"));
    }
    // 12: `ath` covers the access token presented with it.
    if let Some(token) = ctx.access_token {
        let ath = B64.encode(crate::secret::sha256(token.as_bytes()));
        let given = s("ath").unwrap_or("");
        if !crate::secret::constant_time_eq(given.as_bytes(), ath.as_bytes()) {
            return Err(bad("the DPoP proof's ath does not match the access token"));
        }
    }
    let jti = s("jti")
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or(bad("the DPoP proof needs a jti"))?
        .to_owned();
    let jkt = jwk_thumbprint(jwk).ok_or(bad("the DPoP proof's jwk is not usable"))?;
    let nonce = s("nonce").map(str::to_owned);
    Ok(CheckedProof {
        jkt,
        jti,
        iat,
        nonce,
        alg: jws.alg,
    })
}

/// §4.3 item 9: `htu` and the request URI compared without query and fragment, after
/// RFC 3986 §6.2.2–6.2.3 normalisation (case of scheme and host, default port, dot segments).
fn same_uri(htu: &str, url: &str) -> bool {
    let norm = |u: &str| {
        let u = url::Url::parse(u).ok()?;
        Some((
            u.scheme().to_owned(),
            u.host_str()?.to_owned(),
            u.port_or_known_default(),
            u.path().to_owned(),
        ))
    };
    matches!((norm(htu), norm(url)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{Alg, SigningKey, generate_pkcs8};
    use serde_json::json;

    const URL: &str = "https://id.example/token";

    /// A proof signed with `key`, carrying `jwk` in its header.
    fn proof(key: &ring::signature::Ed25519KeyPair, jwk: &Value, claims: Value) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": jwk});
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        format!("{input}.{}", B64.encode(key.sign(input.as_bytes())))
    }

    fn key() -> (ring::signature::Ed25519KeyPair, Value) {
        use ring::signature::KeyPair;
        let doc = ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .unwrap();
        let kp = ring::signature::Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap();
        let jwk =
            json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(kp.public_key().as_ref())});
        (kp, jwk)
    }

    fn ctx() -> DpopContext<'static> {
        DpopContext {
            method: "POST",
            url: URL,
            access_token: None,
        }
    }

    #[test]
    fn a_good_proof_gives_the_keys_thumbprint() {
        let (kp, jwk) = key();
        let p = proof(
            &kp,
            &jwk,
            json!({"htm": "POST", "htu": URL, "iat": 1000, "jti": "a"}),
        );
        let checked = check_proof(&p, ctx(), 1000).unwrap();
        assert_eq!(Some(checked.jkt), jwk_thumbprint(&jwk));
        assert_eq!(checked.jti, "a");
    }

    #[test]
    fn each_rule_refuses_on_its_own() {
        let (kp, jwk) = key();
        let base = json!({"htm": "POST", "htu": URL, "iat": 1000, "jti": "a"});
        for (m, v) in [
            ("htm", json!("GET")),
            ("htu", json!("https://id.example/other")),
            ("iat", json!(1000 - MAX_AGE_SECS - 1)),
            ("iat", json!(1000 + MAX_SKEW_SECS + 1)),
            ("jti", json!("")),
        ] {
            let mut c = base.clone();
            c[m] = v;
            assert!(
                check_proof(&proof(&kp, &jwk, c), ctx(), 1000).is_err(),
                "{m}"
            );
        }
        let (_, other) = key();
        assert!(check_proof(&proof(&kp, &other, base.clone()), ctx(), 1000).is_err());
        let mut with_nonce = base.clone();
        with_nonce["nonce"] = json!("n1");
        let checked = check_proof(&proof(&kp, &jwk, with_nonce), ctx(), 1000).unwrap();
        assert_eq!(checked.nonce.as_deref(), Some("n1"));
        let mut normalised = base.clone();
        normalised["htu"] = json!("HTTPS://ID.example:443/token?x=1");
        assert!(check_proof(&proof(&kp, &jwk, normalised), ctx(), 1000).is_ok());
        let with_token = DpopContext {
            access_token: Some("at"),
            ..ctx()
        };
        assert!(check_proof(&proof(&kp, &jwk, base), with_token, 1000).is_err());
    }

    #[test]
    fn a_signing_key_of_ours_is_not_a_dpop_key_without_typ() {
        let k = SigningKey::from_pkcs8(Alg::ES256, &generate_pkcs8(Alg::ES256).unwrap()).unwrap();
        let token = k.sign(
            "JWT",
            &json!({"htm": "POST", "htu": URL, "iat": 1000, "jti": "a"}),
        );
        assert!(check_proof(&token, ctx(), 1000).is_err());
    }
}
