//! The claims inside tokens (OIDC Core §2, RFC 9068) and the user's claims released by scope
//! (OIDC Core §5.1, §5.4).

use crate::jose::Alg;
use crate::ports::Account;
use crate::secret::sha256;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// ID token claims (OIDC Core §2). Profile claims are not repeated here: with the code flow they
/// come from the userinfo endpoint (OIDC Core §5.4), which keeps ID tokens small and private.
#[derive(Debug, Serialize)]
pub struct IdTokenClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<&'a str>,
    pub at_hash: String,
    pub amr: &'a [String],
    /// OIDC Core §2: the class the sign-in reached, from its `amr` (`claims_request::acr_for`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr: Option<&'a str>,
    pub sid: &'a str,
    /// User claims named for the ID token by a `claims` request (OIDC Core §5.5).
    #[serde(flatten)]
    pub requested: Map<String, Value>,
}

/// Access token claims (RFC 9068 §2.2): the payload of a JWT access token, and the record an
/// opaque access token refers to. Tokens from the client credentials grant have no user, so
/// no `auth_time` or `sid`, and `sub` is the client id (RFC 9068 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    /// The issuer for tokens meant for Kunci's own userinfo endpoint, or the resource named
    /// by an RFC 8707 `resource` parameter.
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The grant the token belongs to: revoking the grant revokes the token.
    pub gid: String,
    /// RFC 9068 §2.2.1: how the user signed in (absent for client tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// Claims a `claims` request named for the userinfo response (OIDC Core §5.5): names
    /// only, released at `/userinfo` whatever the scopes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub userinfo_claims: Vec<String>,
    /// For a pairwise `sub` (OIDC Core §8.1): the account id, sealed for Kunci alone
    /// (`subject::PairwiseSalt::seal_uid`), so `/userinfo` can find the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// RFC 8693 §4.1: who acts for the subject, in a token from a delegating token exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<crate::token_exchange::Actor>,
    /// RFC 9449 §6 (RFC 7800): the DPoP key the token is bound to; without it, a bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

/// RFC 7800 §3.1 `cnf`, with the one member Kunci uses: RFC 9449 §6.1 `jkt`, the RFC 7638
/// thumbprint of the client's DPoP public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub jkt: String,
}

impl AccessTokenClaims {
    /// The `token_type` a client is told (RFC 9449 §5): `DPoP` for a key-bound token.
    pub fn token_type(&self) -> &'static str {
        if self.cnf.is_some() { "DPoP" } else { "Bearer" }
    }

    pub fn scopes(&self) -> Vec<String> {
        self.scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the access token (for the
/// 256-bit algorithms RS256 and ES256).
pub fn at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&sha256(access_token.as_bytes())[..16])
}

/// OIDC Core §3.1.3.6 `at_hash` for an ID token signed with `alg`: the left half of the hash
/// the algorithm uses. EdDSA names no hash of its own; for Ed25519 the accepted reading (and
/// what relying-party libraries such as `openidconnect` check) is SHA-512, as Ed25519 uses it.
pub fn at_hash_for(alg: Alg, access_token: &str) -> String {
    match alg {
        Alg::RS256 | Alg::PS256 | Alg::ES256 => at_hash(access_token),
        Alg::EdDSA => {
            let digest = ring::digest::digest(&ring::digest::SHA512, access_token.as_bytes());
            URL_SAFE_NO_PAD.encode(&digest.as_ref()[..32])
        }
    }
}

/// The user's claims that `scopes` release, always including `sub`.
pub fn user_claims(account: &Account, scopes: &[String]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("sub".into(), Value::String(account.id.clone()));
    let has = |s: &str| scopes.iter().any(|x| x == s);
    if has("email") {
        m.insert("email".into(), Value::String(account.email.clone()));
        m.insert("email_verified".into(), Value::Bool(account.email_verified));
    }
    if has("profile") {
        m.insert("name".into(), Value::String(account.name.clone()));
        if let Some(l) = &account.locale {
            m.insert("locale".into(), Value::String(l.clone()));
        }
        m.insert("updated_at".into(), Value::from(account.updated_at));
    }
    m
}

/// How the user signed in, for `auth_time`, `acr` and `amr` requested at userinfo.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignIn<'a> {
    pub auth_time: Option<i64>,
    pub acr: Option<&'a str>,
    pub amr: &'a [String],
}

/// Adds the claims a `claims` request (OIDC Core §5.5) names to `m`, when Kunci holds a value
/// for them; names already present (and unknown names) are left alone.
pub fn add_requested(
    m: &mut Map<String, Value>,
    account: &Account,
    names: &[String],
    sign_in: &SignIn<'_>,
) {
    for name in names {
        if m.contains_key(name) {
            continue;
        }
        let v = match name.as_str() {
            "sub" => Some(Value::String(account.id.clone())),
            "email" => Some(Value::String(account.email.clone())),
            "email_verified" => Some(Value::Bool(account.email_verified)),
            "name" => Some(Value::String(account.name.clone())),
            "locale" => account.locale.clone().map(Value::String),
            "updated_at" => Some(Value::from(account.updated_at)),
            "auth_time" => sign_in.auth_time.map(Value::from),
            "acr" => sign_in.acr.map(|a| Value::String(a.to_owned())),
            "amr" if !sign_in.amr.is_empty() => Some(Value::from(sign_in.amr.to_vec())),
            _ => None,
        };
        if let Some(v) = v {
            m.insert(name.clone(), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_oidc_example() {
        // OIDC Core Appendix A.3 uses RS256 with this access token.
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn at_hash_follows_the_id_token_algorithm() {
        let token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        for alg in [Alg::RS256, Alg::PS256, Alg::ES256] {
            assert_eq!(at_hash_for(alg, token), at_hash(token));
        }
        let eddsa = at_hash_for(Alg::EdDSA, token);
        assert_eq!(eddsa.len(), 43, "half of 512 bits, base64url");
        assert_ne!(eddsa[..22], at_hash(token));
    }

    #[test]
    fn scopes_release_only_their_claims() {
        let a = Account {
            id: "u1".into(),
            email: "a@example.com".into(),
            email_verified: true,
            name: "Ayu".into(),
            password_hash: None,
            locale: None,
            created_at: 0,
            updated_at: 5,
        };
        let only_openid = user_claims(&a, &["openid".into()]);
        assert_eq!(only_openid.len(), 1);
        let with_email = user_claims(&a, &["openid".into(), "email".into()]);
        assert_eq!(with_email["email"], "a@example.com");
        assert!(!with_email.contains_key("name"));
        let mut asked = user_claims(&a, &["openid".into()]);
        let amr = vec!["pwd".to_owned()];
        let sign_in = SignIn {
            auth_time: Some(3),
            acr: Some("urn:kunci:acr:pwd"),
            amr: &amr,
        };
        let names = ["name".into(), "locale".into(), "acr".into(), "amr".into()];
        add_requested(&mut asked, &a, &names, &sign_in);
        assert_eq!(asked["name"], "Ayu");
        assert!(!asked.contains_key("locale"), "no value, no claim");
        assert_eq!(asked["acr"], "urn:kunci:acr:pwd");
        assert_eq!(asked["amr"][0], "pwd");
    }
}
