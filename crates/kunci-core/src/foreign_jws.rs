//! Verifying compact JWS that someone else signed: client assertions (RFC 7523) today, and
//! later request objects and DPoP proofs. `jose.rs` is about Kunci's own keys; this is about
//! public keys a client registered (a JWK Set) and, for `client_secret_jwt`, HMAC with the
//! client's shared secret.
//!
//! The header's `alg` is only trusted after it passed the caller's allow-list, and a key is
//! used only for the algorithm its type (and its own `alg` member, when present) serves: an
//! RSA key never verifies an HMAC, an HMAC secret never a signature. `none` is never allowed.

use crate::jose::Alg;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::Value;

/// An algorithm a foreign JWS may be verified with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyAlg {
    /// HMAC with SHA-256 (RFC 7518 §3.2): `client_secret_jwt` only.
    HS256,
    /// One of the asymmetric algorithms of [`Alg`].
    Asymmetric(Alg),
}

impl VerifyAlg {
    pub fn parse(s: &str) -> Option<Self> {
        if s == "HS256" {
            return Some(Self::HS256);
        }
        Alg::parse(s).map(Self::Asymmetric)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::Asymmetric(a) => a.as_str(),
        }
    }
}

/// The asymmetric algorithms accepted from clients (`private_key_jwt`, and later request
/// objects and DPoP proofs).
pub const ASYMMETRIC: [VerifyAlg; 4] = [
    VerifyAlg::Asymmetric(Alg::RS256),
    VerifyAlg::Asymmetric(Alg::PS256),
    VerifyAlg::Asymmetric(Alg::ES256),
    VerifyAlg::Asymmetric(Alg::EdDSA),
];

/// Why a foreign JWS was refused. The messages are public (they name no key material).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ForeignJwsError {
    #[error("the JWT is malformed")]
    Malformed,
    #[error("the JWT's algorithm is not allowed here")]
    AlgNotAllowed,
    #[error("no registered key matches the JWT")]
    NoKey,
    #[error("the JWT's signature is invalid")]
    BadSignature,
}

/// A compact JWS split into its parts; nothing is verified yet.
#[derive(Debug, Clone)]
pub struct UnverifiedJws {
    pub header: Value,
    pub claims: Value,
    pub alg: VerifyAlg,
    signing_input: String,
    signature: Vec<u8>,
}

impl UnverifiedJws {
    /// Splits and decodes; the header must name an algorithm from `allowed`.
    pub fn parse(token: &str, allowed: &[VerifyAlg]) -> Result<Self, ForeignJwsError> {
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ForeignJwsError::Malformed);
        };
        let json = |p: &str| -> Result<Value, ForeignJwsError> {
            let bytes = B64.decode(p).map_err(|_| ForeignJwsError::Malformed)?;
            let v: Value =
                serde_json::from_slice(&bytes).map_err(|_| ForeignJwsError::Malformed)?;
            if v.is_object() {
                Ok(v)
            } else {
                Err(ForeignJwsError::Malformed)
            }
        };
        let header = json(h)?;
        let claims = json(c)?;
        let signature = B64.decode(s).map_err(|_| ForeignJwsError::Malformed)?;
        // RFC 7515 §4.1.11: an unknown critical extension makes the JWS invalid.
        if header.get("crit").is_some() {
            return Err(ForeignJwsError::Malformed);
        }
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(VerifyAlg::parse)
            .filter(|a| allowed.contains(a))
            .ok_or(ForeignJwsError::AlgNotAllowed)?;
        Ok(Self {
            header,
            claims,
            alg,
            signing_input: format!("{h}.{c}"),
            signature,
        })
    }

    /// The header member `name` as a string.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// HS256 with `secret` (constant-time comparison inside ring).
    pub fn verify_hmac(&self, secret: &[u8]) -> Result<(), ForeignJwsError> {
        if self.alg != VerifyAlg::HS256 {
            return Err(ForeignJwsError::AlgNotAllowed);
        }
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
        ring::hmac::verify(&key, self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| ForeignJwsError::BadSignature)
    }

    /// Verifies against a JWK Set's keys (`keys` members). With a `kid` in the header only
    /// keys with that `kid` are tried; otherwise every key that fits the algorithm.
    pub fn verify_jwks(&self, keys: &[Value]) -> Result<(), ForeignJwsError> {
        let kid = self.header_str("kid");
        let mut candidates = keys
            .iter()
            .filter(|k| kid.is_none() || k.get("kid").and_then(Value::as_str) == kid)
            .filter(|k| key_fits(k, self.alg))
            .peekable();
        if candidates.peek().is_none() {
            return Err(ForeignJwsError::NoKey);
        }
        if candidates.any(|k| self.verify_jwk(k).is_ok()) {
            Ok(())
        } else {
            Err(ForeignJwsError::BadSignature)
        }
    }

    /// Verifies against one public JWK (e.g. the `jwk` header of a DPoP proof).
    pub fn verify_jwk(&self, jwk: &Value) -> Result<(), ForeignJwsError> {
        let VerifyAlg::Asymmetric(alg) = self.alg else {
            return Err(ForeignJwsError::AlgNotAllowed);
        };
        if !key_fits(jwk, self.alg) {
            return Err(ForeignJwsError::NoKey);
        }
        let member = |m: &str| -> Result<Vec<u8>, ForeignJwsError> {
            jwk.get(m)
                .and_then(Value::as_str)
                .and_then(|v| B64.decode(v).ok())
                .ok_or(ForeignJwsError::NoKey)
        };
        let msg = self.signing_input.as_bytes();
        let ok = match alg {
            Alg::RS256 | Alg::PS256 => {
                let params: &signature::RsaParameters = if alg == Alg::PS256 {
                    &signature::RSA_PSS_2048_8192_SHA256
                } else {
                    &signature::RSA_PKCS1_2048_8192_SHA256
                };
                RsaPublicKeyComponents {
                    n: member("n")?,
                    e: member("e")?,
                }
                .verify(params, msg, &self.signature)
                .is_ok()
            }
            Alg::ES256 => {
                let (x, y) = (member("x")?, member("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(ForeignJwsError::NoKey);
                }
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(msg, &self.signature)
                    .is_ok()
            }
            Alg::EdDSA => UnparsedPublicKey::new(&signature::ED25519, member("x")?)
                .verify(msg, &self.signature)
                .is_ok(),
        };
        if ok {
            Ok(())
        } else {
            Err(ForeignJwsError::BadSignature)
        }
    }
}

/// Whether a public JWK may verify `alg`: the key type and curve serve the algorithm, its
/// `alg` member (if any) names it, its `use` (if any) is `sig`, and it holds no private part.
pub fn key_fits(jwk: &Value, alg: VerifyAlg) -> bool {
    let s = |m: &str| jwk.get(m).and_then(Value::as_str);
    let VerifyAlg::Asymmetric(a) = alg else {
        return false;
    };
    let type_fits = match a {
        Alg::RS256 | Alg::PS256 => s("kty") == Some("RSA"),
        Alg::ES256 => s("kty") == Some("EC") && s("crv") == Some("P-256"),
        Alg::EdDSA => s("kty") == Some("OKP") && s("crv") == Some("Ed25519"),
    };
    type_fits
        && s("alg").is_none_or(|x| x == a.as_str())
        && s("use").is_none_or(|u| u == "sig")
        && jwk.get("d").is_none()
}

/// Checks that a JWK Set's `keys` are usable public signing keys; the message names the
/// first one that is not. For configuration validation.
pub fn check_jwk_set(set: &Value) -> Result<Vec<Value>, String> {
    let keys = set
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("must be a JWK Set: an object with a \"keys\" array")?;
    if keys.is_empty() {
        return Err("the JWK Set has no keys".into());
    }
    for (i, k) in keys.iter().enumerate() {
        if k.get("d").is_some() {
            return Err(format!(
                "keys[{i}] holds a private key; publish only the public half"
            ));
        }
        if !ASYMMETRIC.iter().any(|a| key_fits(k, *a)) {
            return Err(format!(
                "keys[{i}] is not an RSA, EC P-256 or Ed25519 signing key"
            ));
        }
    }
    Ok(keys.clone())
}

/// RFC 7638 JWK thumbprint (base64url SHA-256 of the required members in order), for
/// RSA, EC and OKP keys; `None` for anything else.
pub fn jwk_thumbprint(jwk: &Value) -> Option<String> {
    let s = |m: &str| jwk.get(m).and_then(Value::as_str);
    let canonical = match s("kty")? {
        "RSA" => serde_json::json!({"e": s("e")?, "kty": "RSA", "n": s("n")?}),
        "EC" => serde_json::json!({"crv": s("crv")?, "kty": "EC", "x": s("x")?, "y": s("y")?}),
        "OKP" => serde_json::json!({"crv": s("crv")?, "kty": "OKP", "x": s("x")?}),
        _ => return None,
    };
    // serde_json's map is ordered by key, which is the order RFC 7638 §3.3 wants.
    Some(B64.encode(crate::secret::sha256(canonical.to_string().as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SigningKey;

    fn signed(alg: Alg) -> (String, Value) {
        let key = SigningKey::from_pkcs8(alg, &crate::jose::generate_pkcs8(alg).unwrap()).unwrap();
        let token = key.sign("JWT", &serde_json::json!({"sub": "c"}));
        (token, serde_json::to_value(key.jwk()).unwrap())
    }

    #[test]
    fn every_asymmetric_algorithm_verifies_with_its_public_jwk() {
        // RSA is left out: generating a 2048-bit key takes seconds in a debug build.
        for alg in [Alg::ES256, Alg::EdDSA] {
            let (token, jwk) = signed(alg);
            let jws = UnverifiedJws::parse(&token, &ASYMMETRIC).unwrap();
            assert_eq!(jws.verify_jwks(std::slice::from_ref(&jwk)), Ok(()));
            assert_eq!(jwk_thumbprint(&jwk).as_deref(), jwk["kid"].as_str());
        }
    }

    #[test]
    fn a_key_of_another_type_or_a_tampered_token_is_refused() {
        let (token, _) = signed(Alg::ES256);
        let (_, other) = signed(Alg::EdDSA);
        let jws = UnverifiedJws::parse(&token, &ASYMMETRIC).unwrap();
        assert_eq!(jws.verify_jwk(&other), Err(ForeignJwsError::NoKey));
        let (_, same_type) = signed(Alg::ES256);
        let mut anon = same_type.clone();
        anon.as_object_mut().unwrap().remove("kid");
        assert_eq!(jws.verify_jwk(&anon), Err(ForeignJwsError::BadSignature));
    }

    #[test]
    fn none_and_unlisted_algorithms_are_refused() {
        let none = format!("{}.{}.", B64.encode(r#"{"alg":"none"}"#), B64.encode("{}"));
        assert_eq!(
            UnverifiedJws::parse(&none, &ASYMMETRIC).unwrap_err(),
            ForeignJwsError::AlgNotAllowed
        );
        let hs = format!(
            "{}.{}.AA",
            B64.encode(r#"{"alg":"HS256"}"#),
            B64.encode("{}")
        );
        assert_eq!(
            UnverifiedJws::parse(&hs, &ASYMMETRIC).unwrap_err(),
            ForeignJwsError::AlgNotAllowed
        );
    }

    #[test]
    fn hs256_verifies_with_the_shared_secret_only() {
        let input = format!("{}.{}", B64.encode(r#"{"alg":"HS256"}"#), B64.encode("{}"));
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"secret-secret");
        let sig = B64.encode(ring::hmac::sign(&key, input.as_bytes()));
        let jws = UnverifiedJws::parse(&format!("{input}.{sig}"), &[VerifyAlg::HS256]).unwrap();
        assert_eq!(jws.verify_hmac(b"secret-secret"), Ok(()));
        assert_eq!(
            jws.verify_hmac(b"other"),
            Err(ForeignJwsError::BadSignature)
        );
    }
}
