//! What the FAPI 2.0 Security Profile (client `profile = "fapi2"`) asks of the core beyond the
//! client settings the configuration switches on (`kunci/src/config/profile.rs`): client
//! assertions name only the issuer, as a string (§5.3.2.1, against audience injection), and
//! everything the client signs (assertions, request objects, DPoP proofs) uses PS256, ES256 or
//! EdDSA, never RS256 (§5.4.1). Which clients are held to it is `Settings::fapi2_clients`.

use crate::flow::Settings;
use crate::foreign_jws::VerifyAlg;
use crate::jose::Alg;
use serde_json::Value;

/// §5.4.1: PS256, ES256 or EdDSA (Ed25519); not RSASSA-PKCS1-v1_5 (RS256), not `none`.
pub const ALGS: [VerifyAlg; 3] = [
    VerifyAlg::Asymmetric(Alg::PS256),
    VerifyAlg::Asymmetric(Alg::ES256),
    VerifyAlg::Asymmetric(Alg::EdDSA),
];

impl Settings {
    /// Whether the client is held to the FAPI 2.0 rules of this module.
    pub fn is_fapi2(&self, client_id: &str) -> bool {
        self.fapi2_clients.iter().any(|c| c == client_id)
    }
}

/// §5.3.2.1: "shall only accept its issuer identifier value as a string in the `aud` claim
/// received in client authentication assertions". RFC 7523 alone also allows the token
/// endpoint URL and arrays; a FAPI 2.0 client gets neither.
pub fn check_assertion_audience(claims: &Value, issuer: &str) -> Result<(), &'static str> {
    match claims.get("aud") {
        Some(Value::String(a)) if a == issuer => Ok(()),
        _ => Err("the assertion's aud must be the issuer, as a string (FAPI 2.0 §5.3.2.1)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_issuer_as_a_string_is_an_audience() {
        let iss = "https://id.example";
        assert!(check_assertion_audience(&json!({"aud": iss}), iss).is_ok());
        for aud in [json!("https://id.example/token"), json!([iss]), json!(null)] {
            assert!(check_assertion_audience(&json!({ "aud": aud }), iss).is_err());
        }
    }
}
