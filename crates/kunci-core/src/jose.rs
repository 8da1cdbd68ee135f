//! JSON Web Signature (RFC 7515) and JSON Web Keys (RFC 7517) with ring.
//!
//! Only asymmetric algorithms exist here: `none` and HMAC can never be produced or accepted.
//! The algorithm used to verify comes from our own key, never from the token header.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Alg {
    RS256,
    ES256,
}

impl Alg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RS256" => Some(Self::RS256),
            "ES256" => Some(Self::ES256),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JoseError {
    #[error("key material rejected: {0}")]
    BadKey(String),
    #[error("key generation failed")]
    KeyGeneration,
    #[error("malformed token")]
    Malformed,
    #[error("unknown key id")]
    UnknownKey,
    #[error("signature invalid")]
    BadSignature,
}

/// A public key as published in the JWKS document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A private signing key with its published public half.
pub struct SigningKey {
    alg: Alg,
    pair: Pair,
    jwk: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.jwk.kid)
            .finish_non_exhaustive()
    }
}

/// Generates a new private key in PKCS#8 DER form. RSA keys are 2048-bit, made by the `rsa`
/// crate because ring cannot generate RSA keys; all signing is then done by ring.
pub fn generate_pkcs8(alg: Alg) -> Result<Vec<u8>, JoseError> {
    match alg {
        Alg::ES256 => {
            let doc = EcdsaKeyPair::generate_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &SystemRandom::new(),
            )
            .map_err(|_| JoseError::KeyGeneration)?;
            Ok(doc.as_ref().to_vec())
        }
        Alg::RS256 => {
            use rsa::pkcs8::EncodePrivateKey;
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                .map_err(|_| JoseError::KeyGeneration)?;
            let der = key.to_pkcs8_der().map_err(|_| JoseError::KeyGeneration)?;
            Ok(der.as_bytes().to_vec())
        }
    }
}

impl SigningKey {
    /// Loads a PKCS#8 DER private key. The key id is the RFC 7638 thumbprint of the public key,
    /// so every node that holds the same key publishes the same `kid`.
    pub fn from_pkcs8(alg: Alg, der: &[u8]) -> Result<Self, JoseError> {
        let (pair, mut jwk) = match alg {
            Alg::RS256 => {
                let kp =
                    RsaKeyPair::from_pkcs8(der).map_err(|e| JoseError::BadKey(e.to_string()))?;
                let c = signature::RsaPublicKeyComponents::<Vec<u8>>::from(kp.public());
                let jwk = Jwk {
                    kty: "RSA".into(),
                    kid: String::new(),
                    use_: "sig".into(),
                    alg: alg.as_str().into(),
                    n: Some(B64.encode(strip_zeros(&c.n))),
                    e: Some(B64.encode(strip_zeros(&c.e))),
                    crv: None,
                    x: None,
                    y: None,
                };
                (Pair::Rsa(kp), jwk)
            }
            Alg::ES256 => {
                let kp = EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    der,
                    &SystemRandom::new(),
                )
                .map_err(|e| JoseError::BadKey(e.to_string()))?;
                let point = kp.public_key().as_ref(); // 0x04 || x || y
                let jwk = Jwk {
                    kty: "EC".into(),
                    kid: String::new(),
                    use_: "sig".into(),
                    alg: alg.as_str().into(),
                    n: None,
                    e: None,
                    crv: Some("P-256".into()),
                    x: Some(B64.encode(&point[1..33])),
                    y: Some(B64.encode(&point[33..65])),
                };
                (Pair::Ec(kp), jwk)
            }
        };
        jwk.kid = thumbprint(&jwk);
        Ok(Self { alg, pair, jwk })
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }
    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Signs `claims` as a compact JWS with the given `typ` header (e.g. `JWT`, `at+jwt`).
    pub fn sign(&self, typ: &str, claims: &impl Serialize) -> String {
        let header =
            serde_json::json!({ "alg": self.alg.as_str(), "kid": self.jwk.kid, "typ": typ });
        let mut out = String::with_capacity(512);
        B64.encode_string(header.to_string().as_bytes(), &mut out);
        out.push('.');
        // Serialising our own claim structs cannot fail: they hold only strings, numbers and lists.
        let body = serde_json::to_vec(claims).unwrap_or_default();
        B64.encode_string(&body, &mut out);
        let sig = self.sign_bytes(out.as_bytes());
        out.push('.');
        B64.encode_string(sig, &mut out);
        out
    }

    fn sign_bytes(&self, input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Rsa(kp) => {
                let mut sig = vec![0u8; kp.public().modulus_len()];
                kp.sign(&signature::RSA_PKCS1_SHA256, &rng, input, &mut sig)
                    .expect("RSA signing with a valid key");
                sig
            }
            Pair::Ec(kp) => kp
                .sign(&rng, input)
                .expect("ECDSA signing with a valid key")
                .as_ref()
                .to_vec(),
        }
    }

    /// Verifies a compact JWS signed by this key and returns its claims.
    fn verify_parts(&self, signing_input: &str, sig: &[u8]) -> Result<(), JoseError> {
        let ok = match &self.pair {
            Pair::Rsa(kp) => {
                let c = signature::RsaPublicKeyComponents::<Vec<u8>>::from(kp.public());
                c.verify(
                    &signature::RSA_PKCS1_2048_8192_SHA256,
                    signing_input.as_bytes(),
                    sig,
                )
                .is_ok()
            }
            Pair::Ec(kp) => signature::UnparsedPublicKey::new(
                &signature::ECDSA_P256_SHA256_FIXED,
                kp.public_key().as_ref(),
            )
            .verify(signing_input.as_bytes(), sig)
            .is_ok(),
        };
        if ok {
            Ok(())
        } else {
            Err(JoseError::BadSignature)
        }
    }
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let first = b
        .iter()
        .position(|x| *x != 0)
        .unwrap_or(b.len().saturating_sub(1));
    &b[first..]
}

/// RFC 7638 JWK thumbprint: SHA-256 of the required members in lexicographic order.
fn thumbprint(jwk: &Jwk) -> String {
    let canonical = match jwk.kty.as_str() {
        "RSA" => format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            jwk.e.as_deref().unwrap_or(""),
            jwk.n.as_deref().unwrap_or("")
        ),
        _ => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk.crv.as_deref().unwrap_or(""),
            jwk.x.as_deref().unwrap_or(""),
            jwk.y.as_deref().unwrap_or("")
        ),
    };
    B64.encode(crate::secret::sha256(canonical.as_bytes()))
}

/// The provider's keys: the first key of each algorithm signs; all are published and accepted.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<SigningKey>,
}

#[derive(Serialize)]
pub struct JwkSet<'a> {
    pub keys: Vec<&'a Jwk>,
}

impl KeySet {
    pub fn new(keys: Vec<SigningKey>) -> Self {
        Self { keys }
    }
    pub fn signing_key(&self, alg: Alg) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.alg == alg)
    }
    pub fn algs(&self) -> Vec<Alg> {
        let mut v: Vec<Alg> = Vec::new();
        for k in &self.keys {
            if !v.contains(&k.alg) {
                v.push(k.alg);
            }
        }
        v
    }
    pub fn jwks(&self) -> JwkSet<'_> {
        JwkSet {
            keys: self.keys.iter().map(|k| &k.jwk).collect(),
        }
    }

    /// Verifies a compact JWS made by one of our keys, returning its header and claims.
    /// The header's `alg` must equal the key's algorithm, so `none` and HS* never pass.
    pub fn verify(&self, token: &str) -> Result<(Value, Value), JoseError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JoseError::Malformed);
        };
        let header: Value =
            serde_json::from_slice(&B64.decode(h).map_err(|_| JoseError::Malformed)?)
                .map_err(|_| JoseError::Malformed)?;
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or(JoseError::UnknownKey)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.jwk.kid == kid)
            .ok_or(JoseError::UnknownKey)?;
        if header.get("alg").and_then(Value::as_str) != Some(key.alg.as_str()) {
            return Err(JoseError::BadSignature);
        }
        let sig = B64.decode(s).map_err(|_| JoseError::Malformed)?;
        key.verify_parts(&token[..h.len() + 1 + p.len()], &sig)?;
        let claims: Value =
            serde_json::from_slice(&B64.decode(p).map_err(|_| JoseError::Malformed)?)
                .map_err(|_| JoseError::Malformed)?;
        Ok((header, claims))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn es256() -> SigningKey {
        SigningKey::from_pkcs8(Alg::ES256, &generate_pkcs8(Alg::ES256).unwrap()).unwrap()
    }

    #[test]
    fn es256_sign_then_verify() {
        let k = es256();
        let set = KeySet::new(vec![k]);
        let jwt = set
            .signing_key(Alg::ES256)
            .unwrap()
            .sign("JWT", &serde_json::json!({"sub": "a"}));
        let (h, c) = set.verify(&jwt).unwrap();
        assert_eq!(h["alg"], "ES256");
        assert_eq!(c["sub"], "a");
        assert_eq!(set.jwks().keys[0].kid.len(), 43);
    }

    #[test]
    fn rs256_sign_then_verify() {
        let k = SigningKey::from_pkcs8(Alg::RS256, &generate_pkcs8(Alg::RS256).unwrap()).unwrap();
        let set = KeySet::new(vec![k]);
        let jwt = set
            .signing_key(Alg::RS256)
            .unwrap()
            .sign("JWT", &serde_json::json!({"x": 1}));
        assert_eq!(set.verify(&jwt).unwrap().1["x"], 1);
        assert!(set.jwks().keys[0].n.as_ref().unwrap().len() > 300);
    }

    #[test]
    fn tampered_or_alg_none_tokens_are_refused() {
        let set = KeySet::new(vec![es256()]);
        let jwt = set
            .signing_key(Alg::ES256)
            .unwrap()
            .sign("JWT", &serde_json::json!({"sub": "a"}));
        let mut parts: Vec<&str> = jwt.split('.').collect();
        let evil = B64.encode(br#"{"sub":"admin"}"#);
        parts[1] = &evil;
        assert!(set.verify(&parts.join(".")).is_err());
        let kid = set.jwks().keys[0].kid.clone();
        let none_header = B64.encode(format!(r#"{{"alg":"none","kid":"{kid}"}}"#));
        let forged = format!("{none_header}.{}.", B64.encode(br#"{"sub":"a"}"#));
        assert!(set.verify(&forged).is_err());
        assert!(set.verify("a.b").is_err());
    }
}
