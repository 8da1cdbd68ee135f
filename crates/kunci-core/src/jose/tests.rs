//! Unit tests of the JOSE code: each algorithm signs and verifies, published JWKs have the
//! RFC shapes, forged and confused tokens are refused, and the key lifecycle picks the signer.

use super::*;

fn key(alg: Alg) -> SigningKey {
    SigningKey::from_pkcs8(alg, &generate_pkcs8(alg).unwrap()).unwrap()
}

fn sign(set: &KeySet, alg: Alg, claims: serde_json::Value) -> String {
    set.signing_key(alg).unwrap().sign("JWT", &claims)
}

#[test]
fn es256_sign_then_verify() {
    let set = KeySet::new(vec![key(Alg::ES256)]);
    let jwt = sign(&set, Alg::ES256, serde_json::json!({"sub": "a"}));
    let (h, c) = set.verify(&jwt).unwrap();
    assert_eq!(h["alg"], "ES256");
    assert_eq!(c["sub"], "a");
    assert_eq!(set.jwks().keys[0].kid.len(), 43);
}

#[test]
fn rs256_sign_then_verify() {
    let set = KeySet::new(vec![key(Alg::RS256)]);
    let jwt = sign(&set, Alg::RS256, serde_json::json!({"x": 1}));
    assert_eq!(set.verify(&jwt).unwrap().1["x"], 1);
    assert!(set.jwks().keys[0].n.as_ref().unwrap().len() > 300);
}

#[test]
fn ps256_sign_then_verify_with_an_rsa_jwk_of_its_own() {
    let set = KeySet::new(vec![key(Alg::PS256)]);
    let jwt = sign(&set, Alg::PS256, serde_json::json!({"x": 1}));
    let (h, c) = set.verify(&jwt).unwrap();
    assert_eq!(
        (h["alg"].as_str(), c["x"].as_i64()),
        (Some("PS256"), Some(1))
    );
    let jwk = set.jwks().keys[0];
    assert_eq!((jwk.kty.as_str(), jwk.alg.as_str()), ("RSA", "PS256"));
    // PSS signatures are randomised (salted); PKCS#1 v1.5 ones are not.
    assert_ne!(jwt, sign(&set, Alg::PS256, serde_json::json!({"x": 1})));
}

/// The same RSA key loaded for both algorithms (which Kunci never stores: each key serves one
/// algorithm) still does not accept one padding's signature as the other's.
#[test]
fn a_ps256_signature_does_not_verify_as_rs256_nor_the_reverse() {
    let der = generate_pkcs8(Alg::RS256).unwrap();
    let rs = SigningKey::from_pkcs8(Alg::RS256, &der).unwrap();
    let ps = SigningKey::from_pkcs8(Alg::PS256, &der).unwrap();
    let input = "eyJhbGciOiJQUzI1NiJ9.e30";
    let ps_sig = ps.sign_bytes(input.as_bytes());
    let rs_sig = rs.sign_bytes(input.as_bytes());
    assert!(ps.verify_parts(input, &ps_sig).is_ok());
    assert!(rs.verify_parts(input, &rs_sig).is_ok());
    assert!(rs.verify_parts(input, &ps_sig).is_err(), "PSS as PKCS#1");
    assert!(ps.verify_parts(input, &rs_sig).is_err(), "PKCS#1 as PSS");

    // Over the wire: a PS256 token relabelled RS256 is refused by the header check too.
    let set = KeySet::new(vec![ps]);
    let jwt = sign(&set, Alg::PS256, serde_json::json!({"sub": "a"}));
    let kid = set.jwks().keys[0].kid.clone();
    let (_, rest) = jwt.split_once('.').unwrap();
    let relabelled = format!(
        "{}.{rest}",
        B64.encode(format!(r#"{{"alg":"RS256","kid":"{kid}","typ":"JWT"}}"#))
    );
    assert!(set.verify(&relabelled).is_err());
}

#[test]
fn eddsa_sign_then_verify_with_an_okp_jwk() {
    let set = KeySet::new(vec![key(Alg::EdDSA)]);
    let jwt = sign(&set, Alg::EdDSA, serde_json::json!({"sub": "a"}));
    let (h, c) = set.verify(&jwt).unwrap();
    assert_eq!(
        (h["alg"].as_str(), c["sub"].as_str()),
        (Some("EdDSA"), Some("a"))
    );
    let json: serde_json::Value = serde_json::from_str(set.jwks_json()).unwrap();
    let jwk = &json["keys"][0];
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    assert_eq!(B64.decode(jwk["x"].as_str().unwrap()).unwrap().len(), 32);
    assert!(jwk.get("y").is_none() && jwk.get("n").is_none() && jwk.get("d").is_none());
}

/// RFC 8037 Appendix A.1–A.4: the Ed25519 key, its thumbprint, and the signature of
/// "Example of Ed25519 signing" under `{"alg":"EdDSA"}` (Ed25519 is deterministic).
#[test]
fn eddsa_matches_the_rfc_8037_test_vector() {
    let seed = B64
        .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
        .unwrap();
    // PKCS#8 v1 wrapping of a raw Ed25519 seed (RFC 8410 §7).
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend(&seed);
    let k = SigningKey::from_pkcs8(Alg::EdDSA, &der).unwrap();
    assert_eq!(
        k.jwk().x.as_deref(),
        Some("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    );
    assert_eq!(k.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    assert_eq!(
        B64.encode(k.sign_bytes(input.as_bytes())),
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    );
}

#[test]
fn algorithm_names_round_trip_exactly() {
    for alg in Alg::ALL {
        assert_eq!(Alg::parse(alg.as_str()), Some(alg));
    }
    for unknown in ["none", "HS256", "EDDSA", "eddsa", "Ed25519", "RS512", ""] {
        assert_eq!(Alg::parse(unknown), None, "{unknown}");
    }
}

#[test]
fn tampered_or_alg_none_tokens_are_refused() {
    let set = KeySet::new(vec![key(Alg::ES256)]);
    let jwt = sign(&set, Alg::ES256, serde_json::json!({"sub": "a"}));
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

/// RFC 8725 §2.1: an HMAC "signed" with the published RSA key as the secret must not pass.
#[test]
fn hs256_keyed_with_the_public_rsa_key_is_refused() {
    use ring::hmac;
    let set = KeySet::new(vec![key(Alg::RS256)]);
    let jwk = set.jwks().keys[0].clone();
    let input = format!(
        "{}.{}",
        B64.encode(format!(r#"{{"alg":"HS256","kid":"{}"}}"#, jwk.kid)),
        B64.encode(br#"{"sub":"admin"}"#)
    );
    for secret in [
        serde_json::to_vec(&jwk).unwrap(),
        B64.decode(jwk.n.as_ref().unwrap()).unwrap(),
    ] {
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &secret),
            input.as_bytes(),
        );
        let forged = format!("{input}.{}", B64.encode(tag.as_ref()));
        assert!(matches!(set.verify(&forged), Err(JoseError::BadSignature)));
    }
}

// ---- lifecycle -----------------------------------------------------------------------------

const RETENTION: i64 = 700;

fn entry(alg: Alg, activates_at: i64, retired_at: Option<i64>) -> KeyEntry {
    KeyEntry {
        key: key(alg),
        lifecycle: Lifecycle {
            activates_at,
            retired_at,
        },
    }
}

#[test]
fn a_key_is_next_then_active_then_retired_then_expired() {
    let l = Lifecycle {
        activates_at: 100,
        retired_at: Some(1000),
    };
    let at = |now| l.state(now, RETENTION);
    assert_eq!(at(99), KeyState::Next);
    assert_eq!(at(100), KeyState::Active);
    assert_eq!(at(999), KeyState::Active);
    assert_eq!(at(1000), KeyState::Retired);
    assert_eq!(at(1699), KeyState::Retired);
    assert_eq!(at(1700), KeyState::Expired);
    assert_eq!(l.published_until(RETENTION), Some(1700));
    assert_eq!(
        Lifecycle::ALWAYS.state(i64::MIN, RETENTION),
        KeyState::Active
    );
}

/// During a rotation both keys are published; the old one signs until the new one activates.
#[test]
fn the_signer_changes_exactly_when_the_next_key_activates() {
    let set = KeySet::with_lifecycles(
        vec![
            entry(Alg::ES256, 0, Some(500)),
            entry(Alg::ES256, 500, None),
            entry(Alg::RS256, 0, None),
        ],
        400,
        RETENTION,
    )
    .unwrap();
    let kids: Vec<&str> = set.entries().iter().map(|e| e.key.kid()).collect();
    assert_eq!(
        set.jwks().keys.len(),
        3,
        "old, next and RS256 are all published"
    );
    let signer = |now| set.signing_key_at(Alg::ES256, now).unwrap().kid();
    assert_eq!(signer(499), kids[0]);
    assert_eq!(signer(500), kids[1]);
    assert_eq!(
        set.signing_key(Alg::ES256).unwrap().kid(),
        kids[0],
        "at load time"
    );
    assert_eq!(
        set.signing_key_at(Alg::RS256, 10_000).unwrap().kid(),
        kids[2]
    );

    // A token signed by the old key still verifies after it retired.
    let old_token = set
        .signing_key_at(Alg::ES256, 499)
        .unwrap()
        .sign("JWT", &serde_json::json!({"a": 1}));
    assert!(set.verify(&old_token).is_ok());
}

#[test]
fn expired_keys_leave_the_jwks_and_stop_verifying() {
    let ders = [
        generate_pkcs8(Alg::ES256).unwrap(),
        generate_pkcs8(Alg::ES256).unwrap(),
    ];
    let entries = || {
        [(0, Some(500)), (500, None)]
            .into_iter()
            .zip(&ders)
            .map(|((activates_at, retired_at), der)| KeyEntry {
                key: SigningKey::from_pkcs8(Alg::ES256, der).unwrap(),
                lifecycle: Lifecycle {
                    activates_at,
                    retired_at,
                },
            })
            .collect()
    };
    let before = KeySet::with_lifecycles(entries(), 500 + RETENTION - 1, RETENTION).unwrap();
    assert_eq!(before.jwks().keys.len(), 2);
    let old_token = before
        .signing_key_at(Alg::ES256, 0)
        .unwrap()
        .sign("JWT", &serde_json::json!({}));
    assert!(before.verify(&old_token).is_ok());
    let old_kid = before.entries()[0].key.kid().to_owned();

    let after = KeySet::with_lifecycles(entries(), 500 + RETENTION, RETENTION).unwrap();
    assert_eq!(after.jwks().keys.len(), 1);
    assert!(!after.jwks_json().contains(&old_kid));
    assert!(matches!(
        after.verify(&old_token),
        Err(JoseError::UnknownKey)
    ));
}

#[test]
fn without_an_active_key_the_latest_retired_then_the_first_next_key_signs() {
    let set = KeySet::with_lifecycles(
        vec![
            entry(Alg::ES256, 0, Some(100)),
            entry(Alg::ES256, 0, Some(200)),
            entry(Alg::RS256, 900, None),
            entry(Alg::RS256, 800, None),
        ],
        300,
        RETENTION,
    )
    .unwrap();
    let kid = |i: usize| set.entries()[i].key.kid();
    assert_eq!(set.signing_key_at(Alg::ES256, 300).unwrap().kid(), kid(1));
    assert_eq!(set.signing_key_at(Alg::RS256, 300).unwrap().kid(), kid(3));
    assert!(set.signing_key_at(Alg::EdDSA, 300).is_none());
}

#[test]
fn of_several_active_keys_the_first_activated_signs() {
    let set = KeySet::with_lifecycles(
        vec![entry(Alg::ES256, 20, None), entry(Alg::ES256, 10, None)],
        30,
        RETENTION,
    )
    .unwrap();
    assert_eq!(
        set.signing_key_at(Alg::ES256, 30).unwrap().kid(),
        set.entries()[1].key.kid()
    );
}

#[test]
fn the_same_key_twice_is_refused() {
    let der = generate_pkcs8(Alg::RS256).unwrap();
    let twice = |alg| KeyEntry {
        key: SigningKey::from_pkcs8(alg, &der).unwrap(),
        lifecycle: Lifecycle::ALWAYS,
    };
    let err =
        KeySet::with_lifecycles(vec![twice(Alg::RS256), twice(Alg::PS256)], 0, 0).unwrap_err();
    assert!(matches!(err, JoseError::DuplicateKey(_)), "{err:?}");
}

#[test]
fn shared_keys_hand_out_the_replacement_to_later_readers() {
    let first = KeySet::new(vec![key(Alg::ES256)]);
    let first_kid = first.jwks().keys[0].kid.clone();
    let shared = SharedKeys::new(first);
    let held = shared.current();
    shared.replace(KeySet::new(vec![key(Alg::ES256)]));
    assert_eq!(
        held.jwks().keys[0].kid,
        first_kid,
        "a reader keeps its snapshot"
    );
    assert_ne!(shared.current().jwks().keys[0].kid, first_kid);
}
