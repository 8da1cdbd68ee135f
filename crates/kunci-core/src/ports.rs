//! The ports: traits the core declares and the storage crates implement.
//!
//! Storage is split by lifetime. Durable records (accounts, consents, signing keys, refresh
//! token families) go through the repositories and live in SQL (`kunci-store`). Ephemeral
//! records with a time-to-live (SSO sessions, login interactions, authorization codes, opaque
//! access tokens, one-time tokens, counters) go through [`EphemeralStore`] and live in memory
//! or Redis (`kunci-session`).

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

/// A signing key as stored and shared by every node: the private key (PKCS#8 DER) sealed under
/// the master key with its `kid` as associated data (see `crate::sealing`).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// RFC 7638 thumbprint of the public key; the JWS `kid`.
    pub kid: String,
    /// JWS algorithm name (`RS256`, `PS256`, `ES256`, `EdDSA`). A string, so that rows written by a newer
    /// version with an algorithm this one does not know can still be listed and skipped.
    pub alg: String,
    /// `crate::sealing` blob of the PKCS#8 DER private key.
    pub sealed: Vec<u8>,
    pub created_at: UnixTime,
    /// When the key starts signing. Until then it is only published (`next`), so that
    /// relying parties have it before any token signed with it reaches them. Keys made on
    /// first start activate at once (`created_at`).
    pub activates_at: UnixTime,
    /// When the key stops (or stopped) signing; may lie in the future, scheduled by a
    /// rotation. Retired keys are still published, so that tokens they signed keep verifying
    /// until they expire (see `crate::jose::Lifecycle`).
    pub retired_at: Option<UnixTime>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("sealed", &format_args!("<{} bytes>", self.sealed.len()))
            .field("created_at", &self.created_at)
            .field("activates_at", &self.activates_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// The signing keys, shared by every node through the database.
///
/// The methods are named `*_key(s)` rather than `list`/`insert` so that they never clash with
/// [`AccountRepo::list`] on a `dyn DurableStore` or on a type implementing both.
#[async_trait]
pub trait KeyRepo: Send + Sync {
    /// Every stored key, retired ones included, ordered by `created_at` and then `kid`.
    async fn list_keys(&self) -> Result<Vec<StoredKey>, PortError>;
    /// Stores a new key. A key with the same `kid` already stored is `PortError::Conflict`
    /// (and the stored one is left untouched).
    async fn insert_key(&self, key: &StoredKey) -> Result<(), PortError>;
    /// Stores `key` only if no active (unretired) key of the same `alg` is stored, as one
    /// atomic step; returns whether it was stored. Of several nodes starting together on an
    /// empty database, each with a freshly generated key, exactly one key per algorithm is
    /// kept, so every node then reads the same keys. (A plain [`KeyRepo::insert_key`] would
    /// keep them all: their kids differ, and a node that read the keys before the others
    /// inserted theirs would sign with a key they do not publish.)
    async fn insert_key_if_none_active(&self, key: &StoredKey) -> Result<bool, PortError>;
    /// A rotation, as one atomic step: stores `key` (a successor that signs from
    /// `key.activates_at`) and sets `retired_at = key.activates_at` on every key of its `alg`
    /// that signs at `now` (not retired, `activates_at <= now`). Returns false, changing
    /// nothing, when a key of that `alg` is already waiting to activate (`activates_at > now`,
    /// not retired): of two rotations racing, one wins, and a pending one is never stacked.
    async fn rotate_key(&self, key: &StoredKey, now: UnixTime) -> Result<bool, PortError>;
    /// Deletes the keys retired at or before `retired_by` (every token they signed has
    /// expired); returns how many. Unretired keys are never deleted.
    async fn delete_retired_keys(&self, retired_by: UnixTime) -> Result<u64, PortError>;
}

/// One refresh token as stored (RFC 6749 §6, RFC 9700 §4.14.2). The token itself is never
/// stored, only its digest (`crate::secret::token_key`).
///
/// Tokens come in families: the first is issued with an authorization code, and each use
/// rotates it into a successor of the same family. The family id is the grant id, which the
/// grant's access tokens carry as `gid`, so revoking one revokes the other.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// base64url SHA-256 of the token.
    pub token_hash: String,
    /// The grant id (see above).
    pub family_id: String,
    pub client_id: String,
    pub account_id: String,
    /// The scopes the user granted; a refresh may ask for fewer, never more.
    pub scopes: Vec<String>,
    /// The SSO session the grant started in (the ID token's `sid`).
    pub session_id: String,
    /// When and how the user authenticated for the grant (OIDC Core §12.2: refreshed ID
    /// tokens keep the original `auth_time`).
    pub auth_time: UnixTime,
    pub amr: Vec<String>,
    pub created_at: UnixTime,
    /// The family's end, whatever happens: carried over unchanged to every successor.
    pub absolute_expires_at: UnixTime,
    /// This token's end if it is not used before.
    pub idle_expires_at: UnixTime,
    /// When it was exchanged for its successor. A used token presented again means the
    /// family leaked (RFC 9700 §4.14.2).
    pub used_at: Option<UnixTime>,
    /// The authorization request's `claims` parameter (OIDC Core §5.5), so refreshed tokens
    /// release the same claims.
    pub claims: Option<crate::claims_request::ClaimsRequest>,
    /// RFC 9449 §5: the thumbprint of the DPoP key a public client's family is bound to;
    /// using any token of the family then needs a proof signed with that key.
    pub dpop_jkt: Option<String>,
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The digest is not the token, but it is the lookup key: keep it out of logs anyway.
        f.debug_struct("RefreshToken")
            .field("family_id", &self.family_id)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("created_at", &self.created_at)
            .field("absolute_expires_at", &self.absolute_expires_at)
            .field("idle_expires_at", &self.idle_expires_at)
            .field("used_at", &self.used_at)
            .field("dpop_jkt", &self.dpop_jkt)
            .finish_non_exhaustive()
    }
}

/// Refresh token families. Method names carry `refresh_token`/`family` so they never clash
/// with the other repositories' methods on a `dyn DurableStore`.
#[async_trait]
pub trait RefreshTokenRepo: Send + Sync {
    /// Stores a token. A token with the same hash is `PortError::Conflict`; a token of an
    /// account that does not exist is `PortError::Conflict` too.
    async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<(), PortError>;
    async fn find_refresh_token(&self, token_hash: &str)
    -> Result<Option<RefreshToken>, PortError>;
    /// In one atomic step: marks the token `used_at = now` only if it is unused, and then
    /// stores `successor`. Returns false, changing nothing, when the token is unknown or
    /// already used: of concurrent rotations of one token exactly one returns true.
    async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        successor: &RefreshToken,
        now: UnixTime,
    ) -> Result<bool, PortError>;
    /// For a family that is not rotated (`RefreshPolicy::rotate` false): restarts the token's
    /// idle lifetime at `idle_expires_at`. Returns false, changing nothing, when the token is
    /// unknown or was used.
    async fn extend_refresh_token(
        &self,
        token_hash: &str,
        idle_expires_at: UnixTime,
    ) -> Result<bool, PortError>;
    /// Deletes every token of the family; returns how many there were.
    async fn revoke_refresh_family(&self, family_id: &str) -> Result<u64, PortError>;
    /// Retention: deletes tokens past their family's absolute expiry, and unused tokens past
    /// their idle expiry. Used tokens stay until the absolute expiry, so that replaying one
    /// is still recognised. Returns how many were deleted.
    async fn purge_expired_refresh_tokens(&self, now: UnixTime) -> Result<u64, PortError>;
}

/// A dynamically registered client (RFC 7591) as stored. Its secret and registration access
/// token are never stored, only their digests.
#[derive(Clone, PartialEq, Eq)]
pub struct RegisteredClient {
    /// Random, so it never clashes with a configured id (and configured ids win anyway).
    pub client_id: String,
    /// The checked metadata as JSON (`crate::registration::ClientMetadata`); opaque to stores.
    pub metadata: String,
    /// Lowercase hex SHA-256 of the client secret; `None` for clients without one.
    pub secret_sha256: Option<String>,
    /// base64url SHA-256 of the registration access token (RFC 7592 §1).
    pub registration_token_hash: String,
    pub issued_at: UnixTime,
    pub updated_at: UnixTime,
}

impl std::fmt::Debug for RegisteredClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredClient")
            .field("client_id", &self.client_id)
            .field("issued_at", &self.issued_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

/// Dynamically registered clients, shared by every node through the database (no cache: an
/// update or deletion holds on every node at once). Method names carry `registered_client`
/// so they never clash with the other repositories' methods on a `dyn DurableStore`.
#[async_trait]
pub trait ClientRepo: Send + Sync {
    /// Stores a new client. A client with the same id is `PortError::Conflict`.
    async fn insert_registered_client(&self, client: &RegisteredClient) -> Result<(), PortError>;
    async fn find_registered_client(
        &self,
        client_id: &str,
    ) -> Result<Option<RegisteredClient>, PortError>;
    /// Replaces the metadata, the secret digest and `updated_at` of the client
    /// `client.client_id` (its `issued_at` and registration token stay). Returns false when
    /// no such client exists.
    async fn update_registered_client(&self, client: &RegisteredClient) -> Result<bool, PortError>;
    /// In one transaction: deletes the client, its refresh tokens and the consents given to
    /// it, so nothing it was granted outlives it. Returns false when no such client existed.
    async fn delete_registered_client(&self, client_id: &str) -> Result<bool, PortError>;
}

/// Everything durable, behind one handle; also used by health checks.
#[async_trait]
pub trait DurableStore:
    AccountRepo + ConsentRepo + KeyRepo + RefreshTokenRepo + ClientRepo
{
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
