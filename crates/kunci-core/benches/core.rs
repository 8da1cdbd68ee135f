//! Micro-benchmarks of the protocol core's hot paths: PKCE verification, JWS signing and
//! verification per algorithm (ring), and the small helpers every request pays for (random
//! tokens, store keys). Run with `cargo bench -p kunci-core`.
//!
//! Authorization-request validation and whole grants need registered clients and the real
//! wiring; they are benchmarked in `crates/kunci/benches/flows.rs`, which builds clients from a
//! configuration file exactly as an operator does.

use criterion::{Criterion, criterion_group, criterion_main};
use kunci_core::jose::{Alg, KeySet, SigningKey, generate_pkcs8};
use kunci_core::{claims, pkce, secret};
use serde_json::json;
use std::hint::black_box;

/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn pkce(c: &mut Criterion) {
    c.bench_function("pkce/verify_s256", |b| {
        b.iter(|| pkce::verify_s256(black_box(CHALLENGE), black_box(VERIFIER)))
    });
}

/// Claims the size of a real ID token (about 400 bytes of JSON).
fn id_claims() -> serde_json::Value {
    json!({
        "iss": "https://id.example.co.id",
        "sub": "0190f3c2-5a8e-7c41-9d2b-7f0e3a1c6b55",
        "aud": "shop-web",
        "exp": 1_900_000_600,
        "iat": 1_900_000_000,
        "auth_time": 1_899_999_000,
        "nonce": "n-0S6_WzA2Mj",
        "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
        "amr": ["pwd"],
        "sid": "08a5019c-17e1-4977-8f42-65a12843ea02",
        "email": "wayan.sari@example.co.id",
        "email_verified": true,
        "name": "Wayan Sari"
    })
}

fn jws(c: &mut Criterion) {
    let claims = id_claims();
    for alg in [Alg::ES256, Alg::RS256] {
        let der = generate_pkcs8(alg).expect("key generation");
        let keys = KeySet::new(vec![SigningKey::from_pkcs8(alg, &der).expect("key")]);
        let key = keys.signing_key(alg).expect("signing key");
        let token = key.sign("JWT", &claims);
        c.bench_function(&format!("jws/sign/{}", alg.as_str()), |b| {
            b.iter(|| key.sign(black_box("JWT"), black_box(&claims)))
        });
        c.bench_function(&format!("jws/verify/{}", alg.as_str()), |b| {
            b.iter(|| keys.verify(black_box(&token)).expect("valid"))
        });
    }
}

fn helpers(c: &mut Criterion) {
    let token = secret::random_token();
    c.bench_function("secret/random_token", |b| b.iter(secret::random_token));
    c.bench_function("secret/random_uuid", |b| b.iter(secret::random_uuid));
    c.bench_function("secret/token_key", |b| {
        b.iter(|| secret::token_key(black_box(&token)))
    });
    c.bench_function("claims/at_hash", |b| {
        b.iter(|| claims::at_hash(black_box(&token)))
    });
}

/// RFC 9449 §4.3: what every DPoP-bound request pays on top of its token, before the store's
/// single-use `jti` write: parse, verify the ES256 proof with its embedded key, check claims,
/// hash the access token (`ath`) and compute the key's thumbprint.
fn dpop(c: &mut Criterion) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use kunci_core::dpop::{DpopContext, check_proof};
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    let rng = ring::rand::SystemRandom::new();
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let key =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref(), &rng).unwrap();
    let p = key.public_key().as_ref();
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": B64.encode(&p[1..33]), "y": B64.encode(&p[33..65])});
    let token = secret::random_token();
    let url = "https://id.example.co.id/userinfo";
    let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk});
    let claims = json!({"jti": secret::random_token(), "htm": "GET", "htu": url,
                        "iat": 1_900_000_000, "ath": B64.encode(secret::sha256(token.as_bytes()))});
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let sig = key.sign(&rng, input.as_bytes()).unwrap();
    let proof = format!("{input}.{}", B64.encode(sig.as_ref()));
    let ctx = DpopContext {
        method: "GET",
        url,
        access_token: Some(&token),
    };
    c.bench_function("dpop/check_proof/ES256", |b| {
        b.iter(|| check_proof(black_box(&proof), ctx, 1_900_000_010).expect("valid"))
    });
}

criterion_group!(benches, pkce, jws, helpers, dpop);
criterion_main!(benches);
