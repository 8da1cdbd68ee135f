//! Subject identifiers (OIDC Core §8): `public` (the account id, the same for every client) or
//! `pairwise` (§8.1: a value per *sector*, so that clients of different sectors cannot join
//! their users by `sub`).
//!
//! A pairwise `sub` is base64url(HMAC-SHA256(salt, sector ‖ account id)): stable, not
//! reversible without the salt. Where Kunci itself must find the account again from a token
//! a pairwise client holds (`/userinfo` reading a JWT access token), the token carries the
//! account id sealed with a key derived from the same salt ([`PairwiseSalt::seal_uid`]),
//! bound to the token's `jti`: opaque to the client and to resource servers.

use crate::sealing::MasterKey;
use crate::secret::Secret;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use serde::{Deserialize, Serialize};

/// Which `sub` a client receives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    /// The account id.
    #[default]
    Public,
    /// OIDC Core §8.1: a value per sector identifier (a host).
    Pairwise { sector: String },
}

/// The operator's pairwise salt and the key derived from it for sealed account ids.
pub struct PairwiseSalt {
    salt: Secret<hmac::Key>,
    uid_key: MasterKey,
}

impl std::fmt::Debug for PairwiseSalt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PairwiseSalt(<redacted>)")
    }
}

impl PairwiseSalt {
    pub fn new(salt: &[u8]) -> Self {
        let key = hmac::Key::new(hmac::HMAC_SHA256, salt);
        let derived = hmac::sign(&key, b"kunci:pairwise-uid-key");
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(derived.as_ref());
        Self {
            salt: Secret::new(key),
            uid_key: MasterKey::from_bytes(&bytes),
        }
    }

    /// OIDC Core §8.1: base64url(HMAC-SHA256(salt, sector ‖ local account id)).
    pub fn sub(&self, sector: &str, account_id: &str) -> String {
        let mut ctx = hmac::Context::with_key(self.salt.expose());
        ctx.update(sector.as_bytes());
        ctx.update(account_id.as_bytes());
        URL_SAFE_NO_PAD.encode(ctx.sign().as_ref())
    }

    /// The account id sealed for a token with this `jti` (AES-256-GCM, base64url).
    pub fn seal_uid(&self, jti: &str, account_id: &str) -> Option<String> {
        self.uid_key
            .seal(jti.as_bytes(), account_id.as_bytes())
            .ok()
            .map(|b| URL_SAFE_NO_PAD.encode(b))
    }

    /// Opens what [`PairwiseSalt::seal_uid`] made for the same `jti`.
    pub fn open_uid(&self, jti: &str, sealed: &str) -> Option<String> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        let plain = self.uid_key.open(jti.as_bytes(), &bytes).ok()?;
        String::from_utf8(plain).ok()
    }
}

/// The `sub` a client sees for an account. A pairwise client without a salt cannot exist
/// (the configuration refuses it); `None` is returned then, and callers fail closed.
pub fn subject_for(
    subject: &SubjectType,
    salt: Option<&PairwiseSalt>,
    account_id: &str,
) -> Option<String> {
    match subject {
        SubjectType::Public => Some(account_id.to_owned()),
        SubjectType::Pairwise { sector } => salt.map(|s| s.sub(sector, account_id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_subs_differ_by_sector_and_are_stable() {
        let salt = PairwiseSalt::new(b"operator salt");
        let a = salt.sub("shop.example", "u1");
        assert_eq!(a, salt.sub("shop.example", "u1"));
        assert_ne!(a, salt.sub("news.example", "u1"));
        assert_ne!(a, salt.sub("shop.example", "u2"));
        assert_ne!(
            a,
            PairwiseSalt::new(b"other salt").sub("shop.example", "u1")
        );
        assert_eq!(a.len(), 43, "base64url of 32 bytes");
    }

    #[test]
    fn sealed_account_ids_open_only_for_their_token() {
        let salt = PairwiseSalt::new(b"operator salt");
        // An id long enough that it cannot appear in random base64 by chance.
        let id = "0d5c8a2e-account-identifier-4f1b";
        let sealed = salt.seal_uid("jti-1", id).unwrap();
        assert!(
            !sealed.contains(id),
            "the account id is not readable in the token"
        );
        assert_eq!(salt.open_uid("jti-1", &sealed).as_deref(), Some(id));
        assert_eq!(salt.open_uid("jti-2", &sealed), None);
        assert_eq!(PairwiseSalt::new(b"other").open_uid("jti-1", &sealed), None);
    }

    #[test]
    fn public_subjects_are_the_account_id() {
        assert_eq!(
            subject_for(&SubjectType::Public, None, "u1").as_deref(),
            Some("u1")
        );
        let pairwise = SubjectType::Pairwise {
            sector: "shop.example".into(),
        };
        assert_eq!(subject_for(&pairwise, None, "u1"), None);
    }
}
