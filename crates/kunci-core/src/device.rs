//! The device authorization grant's records (RFC 8628): user codes, the pending request a
//! device polls for, and its polling state, with their keys in the ephemeral store.
//!
//! ```text
//! dev:{sha256(device_code)}      DeviceGrant    written at /device_authorization, then only by
//!                                               the approval page; taken once by /token
//! devuser:{sha256(user_code)}    device key     the page's way to the grant; taken on decision
//! devpoll:{sha256(device_code)}  DevicePolling  written only by /token (slow_down, §3.5)
//! devseen:{sha256(browser, code)} marker        a browser's throttled lookup found the code;
//!                                               only then may that browser answer it (§5.1)
//! ```
//!
//! Each record has one writer after creation, so a poll never overwrites an approval.

use crate::clock::UnixTime;
use crate::error::PortError;
use crate::records::{Records, decode, encode};
use crate::secret::token_key;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

/// RFC 8628 §6.1: consonants only (no vowels, so no words; no easily confused letters).
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// 8 characters: 20^8 ≈ 2^34.6 codes, shown as `XXXX-XXXX`.
pub const USER_CODE_LEN: usize = 8;

/// A fresh user code in its normalised form (8 letters, no dash).
pub fn new_user_code() -> String {
    let rng = SystemRandom::new();
    let mut out = String::with_capacity(USER_CODE_LEN);
    while out.len() < USER_CODE_LEN {
        let mut b = [0u8; 16];
        rng.fill(&mut b).expect("operating system RNG failed");
        // 240 = 12 × 20: rejecting the rest keeps every letter equally likely.
        for x in b.into_iter().filter(|x| *x < 240) {
            if out.len() < USER_CODE_LEN {
                out.push(char::from(USER_CODE_ALPHABET[usize::from(x % 20)]));
            }
        }
    }
    out
}

/// RFC 8628 §6.1: what the user typed, case-insensitively, without dashes or spaces. `None`
/// when it cannot be a user code at all.
pub fn normalize_user_code(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid =
        code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
    valid.then_some(code)
}

/// `XXXX-XXXX`, as the device shows it and the pages repeat it.
pub fn display_user_code(normalized: &str) -> String {
    let (a, b) = normalized.split_at(normalized.len().min(USER_CODE_LEN / 2));
    format!("{a}-{b}")
}

/// A device authorization request, as stored under the digest of its `device_code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceGrant {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub issued_at: UnixTime,
    /// The end of the `device_code` and user code (`expires_in`).
    pub expires_at: UnixTime,
    pub status: DeviceStatus,
}

/// Where the user's answer stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DeviceStatus {
    Pending,
    Denied,
    Approved(DeviceApproval),
}

/// Who approved, from their SSO session: the tokens' `sub`, `sid`, `auth_time` and `amr`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceApproval {
    pub account_id: String,
    /// The session's public id ([`crate::sso::SsoSession::public_sid`]).
    pub session_id: String,
    pub auth_time: UnixTime,
    pub amr: Vec<String>,
    /// The grant the tokens will belong to (`gid`, refresh token family).
    pub grant_id: String,
}

/// How often the device may poll (RFC 8628 §3.5), and when it last did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePolling {
    pub last_poll: UnixTime,
    pub interval: u64,
}

impl Records<'_> {
    /// `device_key` is `token_key(device_code)`: the page side never sees the code itself.
    pub async fn put_device_grant(
        &self,
        device_key: &str,
        grant: &DeviceGrant,
        ttl: u64,
    ) -> Result<(), PortError> {
        self.0
            .put(&format!("dev:{device_key}"), &encode(grant), ttl)
            .await
    }
    pub async fn device_grant(&self, device_key: &str) -> Result<Option<DeviceGrant>, PortError> {
        match self.0.get(&format!("dev:{device_key}")).await? {
            Some(b) => decode(&b).map(Some),
            None => Ok(None),
        }
    }
    /// Atomically: of two racing redemptions, only one gets the approved grant.
    pub async fn take_device_grant(
        &self,
        device_key: &str,
    ) -> Result<Option<DeviceGrant>, PortError> {
        match self.0.take(&format!("dev:{device_key}")).await? {
            Some(b) => decode(&b).map(Some),
            None => Ok(None),
        }
    }

    /// Links a normalised user code to its grant; false if the code is already in use.
    pub async fn put_user_code_if_absent(
        &self,
        user_code: &str,
        device_key: &str,
        ttl: u64,
    ) -> Result<bool, PortError> {
        self.0
            .put_if_absent(
                &format!("devuser:{}", token_key(user_code)),
                &encode(&device_key),
                ttl,
            )
            .await
    }
    pub async fn device_key_for_user_code(
        &self,
        user_code: &str,
    ) -> Result<Option<String>, PortError> {
        match self
            .0
            .get(&format!("devuser:{}", token_key(user_code)))
            .await?
        {
            Some(b) => decode(&b).map(Some),
            None => Ok(None),
        }
    }
    /// Atomically: a user code is answered once.
    pub async fn take_user_code(&self, user_code: &str) -> Result<Option<String>, PortError> {
        match self
            .0
            .take(&format!("devuser:{}", token_key(user_code)))
            .await?
        {
            Some(b) => decode(&b).map(Some),
            None => Ok(None),
        }
    }

    /// A browser's lookup of a user code found it (§5.1): the answer form then accepts
    /// that code from that browser, and from no other.
    pub async fn put_device_lookup(
        &self,
        browser_key: &str,
        user_code: &str,
        ttl: u64,
    ) -> Result<(), PortError> {
        self.0
            .put(&lookup_key(browser_key, user_code), b"1", ttl)
            .await
    }
    pub async fn device_lookup_seen(
        &self,
        browser_key: &str,
        user_code: &str,
    ) -> Result<bool, PortError> {
        Ok(self
            .0
            .get(&lookup_key(browser_key, user_code))
            .await?
            .is_some())
    }

    pub async fn device_polling(
        &self,
        device_key: &str,
    ) -> Result<Option<DevicePolling>, PortError> {
        match self.0.get(&format!("devpoll:{device_key}")).await? {
            Some(b) => decode(&b).map(Some),
            None => Ok(None),
        }
    }
    pub async fn put_device_polling(
        &self,
        device_key: &str,
        polling: &DevicePolling,
        ttl: u64,
    ) -> Result<(), PortError> {
        self.0
            .put(&format!("devpoll:{device_key}"), &encode(polling), ttl)
            .await
    }
}

fn lookup_key(browser_key: &str, user_code: &str) -> String {
    format!(
        "devseen:{}",
        token_key(&format!("{browser_key}\n{user_code}"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_use_the_consonant_alphabet() {
        for _ in 0..100 {
            let c = new_user_code();
            assert_eq!(c.len(), USER_CODE_LEN);
            assert_eq!(normalize_user_code(&c).as_deref(), Some(c.as_str()));
        }
        assert_ne!(new_user_code(), new_user_code());
    }

    #[test]
    fn entry_ignores_case_dashes_and_spaces() {
        assert_eq!(
            normalize_user_code(" bcdf-ghjk ").as_deref(),
            Some("BCDFGHJK")
        );
        assert_eq!(
            normalize_user_code("BCDF GHJK").as_deref(),
            Some("BCDFGHJK")
        );
        assert_eq!(normalize_user_code("BCDF-GHJ"), None, "too short");
        assert_eq!(normalize_user_code("ABCD-EFGH"), None, "vowels never occur");
        assert_eq!(normalize_user_code("BCDF-GHJ1"), None);
        assert_eq!(normalize_user_code("ḂCDF-GHJK"), None);
        assert_eq!(display_user_code("BCDFGHJK"), "BCDF-GHJK");
    }
}
