//! The single sign-on session: who is signed in to this browser, since when and how.
//! The browser holds only the opaque random id; everything else lives in the session store.

use crate::clock::UnixTime;
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
