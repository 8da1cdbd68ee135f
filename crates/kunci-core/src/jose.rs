//! JSON Web Signature (RFC 7515) and JSON Web Keys (RFC 7517) with ring: RS256, PS256, ES256
//! (RFC 7518 §3) and EdDSA with Ed25519 (RFC 8037).
//!
//! Only asymmetric algorithms exist here: `none` and HMAC can never be produced or accepted.
//! The algorithm used to verify comes from our own key, never from the token header. Each key
//! serves exactly one algorithm: an RSA key is either an RS256 or a PS256 key, never both.
//!
//! The provider's set of keys, with their rotation lifecycle, is in `jose/keyset.rs`.

mod keyset;
#[cfg(test)]
mod tests;

pub use keyset::{JwkSet, KeyEntry, KeySet, KeyState, Lifecycle, SharedKeys};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde::{Deserialize, Serialize};

/// A JWS algorithm Kunci signs with. Adding one means a key type here, a row in
/// `docs/configuration.md` (`keys.algorithms`) and a hash for `at_hash` (`crate::claims`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256: required by OIDC Core §15.1.
    RS256,
    /// RSASSA-PSS with SHA-256 and MGF1-SHA-256 (RFC 7518 §3.5).
    PS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// EdDSA on Ed25519 (RFC 8037 §3.1).
    EdDSA,
}

impl Alg {
    /// Every algorithm, in the order keys are listed and generated.
    pub const ALL: [Alg; 4] = [Self::RS256, Self::ES256, Self::EdDSA, Self::PS256];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }
    /// The JWS name, exactly as written (`EdDSA`, not `EDDSA`).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
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
    #[error("key {0} appears twice in the key set")]
    DuplicateKey(String),
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
    /// For RS256 or PS256; which one is `SigningKey::alg`.
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
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

/// Generates a new private key in PKCS#8 DER form. RSA keys (RS256, PS256) are 2048-bit, made
/// by the `rsa` crate because ring cannot generate RSA keys; all signing is then done by ring.
/// Ed25519 keys are PKCS#8 v2 documents (with the public key).
pub fn generate_pkcs8(alg: Alg) -> Result<Vec<u8>, JoseError> {
    let rng = SystemRandom::new();
    match alg {
        Alg::ES256 => {
            let doc =
                EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| JoseError::KeyGeneration)?;
            Ok(doc.as_ref().to_vec())
        }
        Alg::EdDSA => {
            let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| JoseError::KeyGeneration)?;
            Ok(doc.as_ref().to_vec())
        }
        Alg::RS256 | Alg::PS256 => {
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
        let bad = |e: ring::error::KeyRejected| JoseError::BadKey(e.to_string());
        let (pair, mut jwk) = match alg {
            Alg::RS256 | Alg::PS256 => {
                let kp = RsaKeyPair::from_pkcs8(der).map_err(bad)?;
                let c = signature::RsaPublicKeyComponents::<Vec<u8>>::from(kp.public());
                let jwk = Jwk {
                    n: Some(B64.encode(strip_zeros(&c.n))),
                    e: Some(B64.encode(strip_zeros(&c.e))),
                    ..Jwk::public("RSA", alg)
                };
                (Pair::Rsa(kp), jwk)
            }
            Alg::ES256 => {
                let kp = EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    der,
                    &SystemRandom::new(),
                )
                .map_err(bad)?;
                let point = kp.public_key().as_ref(); // 0x04 || x || y
                let jwk = Jwk {
                    crv: Some("P-256".into()),
                    x: Some(B64.encode(&point[1..33])),
                    y: Some(B64.encode(&point[33..65])),
                    ..Jwk::public("EC", alg)
                };
                (Pair::Ec(kp), jwk)
            }
            Alg::EdDSA => {
                // v1 documents (no public key, as `openssl genpkey -algorithm ed25519` writes)
                // are accepted too; the public key is then derived from the private one.
                let kp = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(bad)?;
                let jwk = Jwk {
                    crv: Some("Ed25519".into()),
                    x: Some(B64.encode(kp.public_key().as_ref())),
                    ..Jwk::public("OKP", alg)
                };
                (Pair::Ed(kp), jwk)
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
                let padding: &'static dyn signature::RsaEncoding = match self.alg {
                    Alg::PS256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0u8; kp.public().modulus_len()];
                kp.sign(padding, &rng, input, &mut sig)
                    .expect("RSA signing with a valid key");
                sig
            }
            Pair::Ec(kp) => kp
                .sign(&rng, input)
                .expect("ECDSA signing with a valid key")
                .as_ref()
                .to_vec(),
            Pair::Ed(kp) => kp.sign(input).as_ref().to_vec(),
        }
    }

    /// Checks `sig` over `signing_input` with this key's algorithm (never the token's).
    fn verify_parts(&self, signing_input: &str, sig: &[u8]) -> Result<(), JoseError> {
        let input = signing_input.as_bytes();
        let ok = match &self.pair {
            Pair::Rsa(kp) => {
                let params: &'static signature::RsaParameters = match self.alg {
                    Alg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    _ => &signature::RSA_PKCS1_2048_8192_SHA256,
                };
                signature::RsaPublicKeyComponents::<Vec<u8>>::from(kp.public())
                    .verify(params, input, sig)
                    .is_ok()
            }
            Pair::Ec(kp) => signature::UnparsedPublicKey::new(
                &signature::ECDSA_P256_SHA256_FIXED,
                kp.public_key().as_ref(),
            )
            .verify(input, sig)
            .is_ok(),
            Pair::Ed(kp) => {
                signature::UnparsedPublicKey::new(&signature::ED25519, kp.public_key().as_ref())
                    .verify(input, sig)
                    .is_ok()
            }
        };
        if ok {
            Ok(())
        } else {
            Err(JoseError::BadSignature)
        }
    }
}

impl Jwk {
    /// A public signing JWK of `kty` for `alg`, key members and `kid` still empty.
    fn public(kty: &str, alg: Alg) -> Self {
        Self {
            kty: kty.into(),
            kid: String::new(),
            use_: "sig".into(),
            alg: alg.as_str().into(),
            n: None,
            e: None,
            crv: None,
            x: None,
            y: None,
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

/// RFC 7638 §3.2 JWK thumbprint: SHA-256 of the required members in lexicographic order
/// (RFC 8037 §2 for `OKP`: `crv`, `kty`, `x`).
fn thumbprint(jwk: &Jwk) -> String {
    let m = |v: &Option<String>| v.clone().unwrap_or_default();
    let canonical = match jwk.kty.as_str() {
        "RSA" => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, m(&jwk.e), m(&jwk.n)),
        "OKP" => format!(
            r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#,
            m(&jwk.crv),
            m(&jwk.x)
        ),
        _ => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            m(&jwk.crv),
            m(&jwk.x),
            m(&jwk.y)
        ),
    };
    B64.encode(crate::secret::sha256(canonical.as_bytes()))
}
