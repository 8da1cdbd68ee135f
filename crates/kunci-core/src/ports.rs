//! The ports: traits the core declares and the storage crates implement.
//!
//! Storage is split by lifetime. Durable records (accounts, consents) go through the
//! repositories and live in SQL (`kunci-store`). Ephemeral records with a time-to-live
//! (SSO sessions, login interactions, authorization codes, one-time tokens, counters) go
//! through [`EphemeralStore`] and live in memory or Redis (`kunci-session`).

use crate::clock::UnixTime;
use crate::error::PortError;
use async_trait::async_trait;

/// A customer's account. The `id` is the stable subject identifier and never changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    /// Lower-cased, trimmed; unique across accounts.
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    /// Argon2id in PHC string form; `None` for accounts that sign in only by other methods.
    pub password_hash: Option<String>,
    /// Preferred UI locale (`id`, `en`), when the user chose one.
    pub locale: Option<String>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// A remembered consent: the user allowed `client_id` to receive `scopes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub account_id: String,
    pub client_id: String,
    /// Space-free scope names, sorted and de-duplicated by the caller.
    pub scopes: Vec<String>,
    pub granted_at: UnixTime,
}

#[async_trait]
pub trait AccountRepo: Send + Sync {
    /// Inserts a new account. A second account with the same email is `PortError::Conflict`.
    async fn create(&self, account: &Account) -> Result<(), PortError>;
    async fn find_by_id(&self, id: &str) -> Result<Option<Account>, PortError>;
    /// `email` is matched exactly; callers normalise it first (see `account::normalize_email`).
    async fn find_by_email(&self, email: &str) -> Result<Option<Account>, PortError>;
    /// Returns false when no such account exists.
    async fn mark_email_verified(&self, id: &str, now: UnixTime) -> Result<bool, PortError>;
    /// Returns false when no such account exists.
    async fn set_password_hash(
        &self,
        id: &str,
        hash: &str,
        now: UnixTime,
    ) -> Result<bool, PortError>;
    /// Accounts ordered by creation time, oldest first.
    async fn list(&self, limit: u32, offset: u32) -> Result<Vec<Account>, PortError>;
    async fn count(&self) -> Result<u64, PortError>;
}

#[async_trait]
pub trait ConsentRepo: Send + Sync {
    async fn find(&self, account_id: &str, client_id: &str) -> Result<Option<Consent>, PortError>;
    /// Inserts or replaces the consent of this account for this client.
    async fn save(&self, consent: &Consent) -> Result<(), PortError>;
    /// Returns false when there was nothing to revoke.
    async fn revoke(&self, account_id: &str, client_id: &str) -> Result<bool, PortError>;
    async fn list_for_account(&self, account_id: &str) -> Result<Vec<Consent>, PortError>;
}

/// Everything durable, behind one handle; also used by health checks.
#[async_trait]
pub trait DurableStore: AccountRepo + ConsentRepo {
    /// Cheap round trip to the database, for readiness probes.
    async fn ping(&self) -> Result<(), PortError>;
}

/// A key-value store where every entry has a time-to-live.
///
/// Keys are plain strings chosen by the core (`sess:…`, `code:…`); backends add their own
/// namespace prefix. Values are opaque bytes. Expired entries must never be returned, even if
/// the backend has not yet purged them.
#[async_trait]
pub trait EphemeralStore: Send + Sync {
    /// Stores `value` under `key` for `ttl_secs` seconds, replacing any previous value.
    async fn put(&self, key: &str, value: &[u8], ttl_secs: u64) -> Result<(), PortError>;
    /// Stores only if `key` is absent. Returns true if stored. Used for replay detection.
    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl_secs: u64,
    ) -> Result<bool, PortError>;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError>;
    /// Atomically reads and deletes: of two concurrent callers, at most one gets the value.
    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, PortError>;
    async fn delete(&self, key: &str) -> Result<(), PortError>;
    /// Increments a counter and returns the new value. The first increment sets its TTL,
    /// later ones keep it (a fixed window), so the counter resets `ttl_secs` after it started.
    async fn incr(&self, key: &str, ttl_secs: u64) -> Result<u64, PortError>;
    /// Cheap round trip to the backend, for readiness probes.
    async fn ping(&self) -> Result<(), PortError>;
}
