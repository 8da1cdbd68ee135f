//! The single sign-on session: who is signed in to this browser, since when and how.
//! The browser holds only the opaque random id; everything else lives in the session store.

use crate::clock::UnixTime;
use crate::secret::sha256;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoSession {
    pub id: String,
    pub account_id: String,
    pub created_at: UnixTime,
    /// Last active authentication (OIDC `auth_time`).
    pub auth_time: UnixTime,
    pub amr: Vec<String>,
    /// Clients that received tokens in this session, for logout notifications later.
    #[serde(default)]
    pub clients: Vec<String>,
}

impl SsoSession {
    /// The session id clients see (`sid` in ID, access and logout tokens, OIDC Front-/Back-Channel
    /// Logout §1.2): derived from the cookie's value by a one-way digest, so what a relying
    /// party holds can never be replayed as the session cookie.
    pub fn public_sid(&self) -> String {
        public_sid(&self.id)
    }
}

/// See [`SsoSession::public_sid`]. Domain-separated from the store's key digest.
pub fn public_sid(session_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha256(format!("kunci-sid:{session_id}").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_sid_is_stable_and_not_the_cookie() {
        let id = "cookie-value";
        assert_eq!(public_sid(id), public_sid(id));
        assert_ne!(public_sid(id), id);
        assert_ne!(public_sid(id), crate::secret::token_key(id));
        assert_eq!(public_sid(id).len(), 43);
    }
}
