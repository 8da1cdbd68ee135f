//! Proof Key for Code Exchange (RFC 7636), S256 only: `plain` is refused (RFC 9700 §2.1.1).

use crate::secret::{constant_time_eq, sha256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// RFC 7636 §4.1: 43 to 128 characters from the unreserved set.
fn is_unreserved_43_128(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// An S256 challenge is the base64url SHA-256 of a verifier: always 43 characters.
pub fn is_valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge, compared in constant time.
pub fn verify_s256(challenge: &str, verifier: &str) -> bool {
    if !is_unreserved_43_128(verifier) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()));
    constant_time_eq(computed.as_bytes(), challenge.as_bytes())
}

/// The challenge for a verifier, for clients and tests.
pub fn challenge_for(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b_vector() {
        assert_eq!(challenge_for(VERIFIER), CHALLENGE);
        assert!(verify_s256(CHALLENGE, VERIFIER));
        assert!(is_valid_challenge(CHALLENGE));
    }

    #[test]
    fn wrong_or_malformed_verifier_fails() {
        assert!(!verify_s256(
            CHALLENGE,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"
        ));
        assert!(!verify_s256(CHALLENGE, "short"));
        assert!(!verify_s256(CHALLENGE, &"a".repeat(129)));
        assert!(!verify_s256(CHALLENGE, &format!("{}!", &VERIFIER[..43])));
        assert!(!is_valid_challenge("plain-challenge"));
    }
}
