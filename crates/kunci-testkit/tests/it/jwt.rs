//! Reading and checking JWTs independently of Kunci's own JOSE code: base64url and JSON by hand,
//! signatures with ring against the keys the server publishes at `/jwks`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use kunci_testkit::TestServer;
use ring::signature;
use serde_json::Value;

/// A compact JWS split into its parts.
#[derive(Debug, Clone)]
pub struct Jwt {
    pub header: Value,
    pub claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

impl Jwt {
    pub fn decode(token: &str) -> Self {
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "a compact JWS has three parts: {token}");
        let json = |p: &str| -> Value {
            serde_json::from_slice(&B64.decode(p).expect("base64url")).expect("JSON")
        };
        Self {
            header: json(parts[0]),
            claims: json(parts[1]),
            signing_input: format!("{}.{}", parts[0], parts[1]),
            signature: B64.decode(parts[2]).expect("base64url signature"),
        }
    }

    /// True when the signature verifies with the key in `jwks` named by the header's `kid`,
    /// using the algorithm that key is published for.
    pub fn verifies_with(&self, jwks: &Value) -> bool {
        let kid = self.header["kid"].as_str().expect("kid in the header");
        let Some(jwk) = jwks["keys"]
            .as_array()
            .and_then(|keys| keys.iter().find(|k| k["kid"] == kid))
        else {
            return false;
        };
        if jwk["alg"] != self.header["alg"] {
            return false;
        }
        let b64 = |name: &str| B64.decode(jwk[name].as_str().expect("JWK member")).unwrap();
        let input = self.signing_input.as_bytes();
        match jwk["kty"].as_str() {
            Some("EC") => {
                assert_eq!(jwk["crv"], "P-256");
                let mut point = vec![0x04];
                point.extend(b64("x"));
                point.extend(b64("y"));
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(input, &self.signature)
                    .is_ok()
            }
            Some("RSA") => signature::RsaPublicKeyComponents {
                n: b64("n"),
                e: b64("e"),
            }
            .verify(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                input,
                &self.signature,
            )
            .is_ok(),
            other => panic!("unexpected key type {other:?}"),
        }
    }
}

/// The published key set.
pub async fn jwks(server: &TestServer) -> Value {
    reqwest::get(server.url("/jwks"))
        .await
        .expect("GET /jwks")
        .json()
        .await
        .expect("JWKS is JSON")
}

/// A token with the given header and claims and a made-up signature part.
pub fn unsigned(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string()),
        B64.encode(signature)
    )
}

/// Signs `header.claims` with a fresh P-256 key the server has never seen.
pub fn signed_by_stranger(header: &Value, claims: &Value) -> String {
    let rng = ring::rand::SystemRandom::new();
    let der =
        signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
    let key = signature::EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        der.as_ref(),
        &rng,
    )
    .unwrap();
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let sig = key.sign(&rng, input.as_bytes()).unwrap();
    format!("{input}.{}", B64.encode(sig.as_ref()))
}
