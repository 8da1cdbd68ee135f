//! The claims inside tokens (OIDC Core §2, RFC 9068) and the user's claims released by scope
//! (OIDC Core §5.1, §5.4).

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
    pub sid: &'a str,
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
}

impl AccessTokenClaims {
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
    }
}
