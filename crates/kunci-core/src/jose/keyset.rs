//! The provider's signing keys and their rotation lifecycle.
//!
//! Every key has a [`Lifecycle`]: it is *next* (published, not yet signing) until
//! `activates_at`, *active* (signing) until `retired_at`, then *retired* (published so that
//! tokens it signed still verify) until the last of those tokens has expired, then *expired*
//! (left out of the JWKS; the operator's tooling may delete it).
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> next: kunci keys rotate (activates_at = now + overlap)
//!     next --> active: now ≥ activates_at
//!     active --> retired: now ≥ retired_at (= the successor's activates_at)
//!     retired --> expired: now ≥ retired_at + retention (longest token lifetime + margin)
//!     expired --> [*]: deleted
//! ```
//!
//! A [`KeySet`] is an immutable snapshot, loaded at some `now`; which key signs is decided
//! per call with the caller's `now`, so a key starts signing at its `activates_at` exactly,
//! whenever the snapshot was loaded. [`SharedKeys`] holds the current snapshot and lets the
//! composition root replace it while requests keep reading.

use super::{Alg, B64, JoseError, Jwk, SigningKey};
use crate::clock::UnixTime;
use arc_swap::ArcSwap;
use base64::Engine;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// When a key signs. Times are Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    /// The key signs from this time on (until retired). Before it, it is only published, so
    /// that relying parties have fetched it by the time tokens signed with it reach them.
    pub activates_at: UnixTime,
    /// The key stops signing at this time; it stays published for the retention period.
    pub retired_at: Option<UnixTime>,
}

/// Where a key is in its [`Lifecycle`] at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published, not signing yet.
    Next,
    /// Signing (and published).
    Active,
    /// Published for verification only.
    Retired,
    /// Every token it signed has expired: no longer published, may be deleted.
    Expired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Active => "active",
            Self::Retired => "retired",
            Self::Expired => "expired",
        }
    }
}

impl Lifecycle {
    /// A key that has always signed and never retires (keys without lifecycle data).
    pub const ALWAYS: Self = Self {
        activates_at: UnixTime::MIN,
        retired_at: None,
    };

    /// The state at `now`, for tokens that live at most `retention` seconds after signing
    /// (the longest token lifetime plus a margin for clock skew).
    pub fn state(&self, now: UnixTime, retention: i64) -> KeyState {
        match self.retired_at {
            Some(r) if now >= r.saturating_add(retention) => KeyState::Expired,
            Some(r) if now >= r => KeyState::Retired,
            _ if now < self.activates_at => KeyState::Next,
            _ => KeyState::Active,
        }
    }

    /// The moment the key leaves the JWKS: `retired_at + retention` (never while unretired).
    pub fn published_until(&self, retention: i64) -> Option<UnixTime> {
        self.retired_at.map(|r| r.saturating_add(retention))
    }
}

/// A key and its lifecycle.
#[derive(Debug)]
pub struct KeyEntry {
    pub key: SigningKey,
    pub lifecycle: Lifecycle,
}

/// The provider's keys at one moment: every published key verifies; per algorithm, the
/// active key that activated first signs.
#[derive(Debug)]
pub struct KeySet {
    entries: Vec<KeyEntry>,
    /// The JWKS document, serialised once per snapshot.
    jwks_json: String,
    /// When the snapshot was loaded: the moment [`KeySet::signing_key`] answers for.
    loaded_at: UnixTime,
}

impl Default for KeySet {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

/// The JWKS document (RFC 7517 §5).
#[derive(Serialize)]
pub struct JwkSet<'a> {
    pub keys: Vec<&'a Jwk>,
}

impl KeySet {
    /// Keys without lifecycle: all sign, the first key of each algorithm is used.
    pub fn new(keys: Vec<SigningKey>) -> Self {
        let entries = keys
            .into_iter()
            .map(|key| KeyEntry {
                key,
                lifecycle: Lifecycle::ALWAYS,
            })
            .collect();
        Self::build(entries, UnixTime::MIN)
    }

    /// The keys as loaded at `now`, in the order the store lists them (oldest first). Keys
    /// whose publication ended ([`KeyState::Expired`] for `retention`) are left out. The same
    /// key twice (one `kid`, e.g. one RSA key stored for both RS256 and PS256) is refused.
    pub fn with_lifecycles(
        entries: Vec<KeyEntry>,
        now: UnixTime,
        retention: i64,
    ) -> Result<Self, JoseError> {
        let mut kept: Vec<KeyEntry> = Vec::with_capacity(entries.len());
        for e in entries {
            if kept.iter().any(|k| k.key.kid() == e.key.kid()) {
                return Err(JoseError::DuplicateKey(e.key.kid().to_owned()));
            }
            if e.lifecycle.state(now, retention) != KeyState::Expired {
                kept.push(e);
            }
        }
        Ok(Self::build(kept, now))
    }

    fn build(entries: Vec<KeyEntry>, loaded_at: UnixTime) -> Self {
        let jwks = JwkSet {
            keys: entries.iter().map(|e| &e.key.jwk).collect(),
        };
        // Serialising strings only cannot fail.
        let jwks_json = serde_json::to_string(&jwks).unwrap_or_default();
        Self {
            entries,
            jwks_json,
            loaded_at,
        }
    }

    /// The key that signs `alg` at `now`: of the active keys, the one that activated first
    /// (the oldest, when several are active). Should none be active (a key was deleted by
    /// hand), the most recently retired key, else the next key due first: every key here is
    /// published, so whatever it signs verifies.
    pub fn signing_key_at(&self, alg: Alg, now: UnixTime) -> Option<&SigningKey> {
        let of_alg = || self.entries.iter().filter(move |e| e.key.alg == alg);
        let active = of_alg()
            .filter(|e| e.lifecycle.state(now, 0) == KeyState::Active)
            .min_by_key(|e| e.lifecycle.activates_at);
        let retired = || {
            of_alg()
                .filter(|e| e.lifecycle.activates_at <= now)
                .max_by_key(|e| e.lifecycle.retired_at)
        };
        let next = || {
            of_alg()
                .filter(|e| e.lifecycle.activates_at > now)
                .min_by_key(|e| e.lifecycle.activates_at)
        };
        active.or_else(retired).or_else(next).map(|e| &e.key)
    }

    /// The key that signs `alg` at the moment the set was loaded (for sets made with
    /// [`KeySet::new`]: the first key of `alg`). Request paths use [`KeySet::signing_key_at`].
    pub fn signing_key(&self, alg: Alg) -> Option<&SigningKey> {
        self.signing_key_at(alg, self.loaded_at)
    }

    /// The algorithms that have a key, in the order of [`Alg::ALL`] (so discovery lists them
    /// the same way on every node, whatever the keys' order).
    pub fn algs(&self) -> Vec<Alg> {
        Alg::ALL
            .into_iter()
            .filter(|a| self.entries.iter().any(|e| e.key.alg == *a))
            .collect()
    }

    pub fn entries(&self) -> &[KeyEntry] {
        &self.entries
    }

    pub fn jwks(&self) -> JwkSet<'_> {
        JwkSet {
            keys: self.entries.iter().map(|e| &e.key.jwk).collect(),
        }
    }

    /// [`KeySet::jwks`] as JSON, prepared when the set was built.
    pub fn jwks_json(&self) -> &str {
        &self.jwks_json
    }

    /// Verifies a compact JWS made by one of our keys, returning its header and claims.
    /// The header's `alg` must equal the key's algorithm, so `none` and HS* never pass, and
    /// the signature is checked with the key's algorithm alone (RFC 8725 §3.1).
    pub fn verify(&self, token: &str) -> Result<(Value, Value), JoseError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JoseError::Malformed);
        };
        let header: Value =
            serde_json::from_slice(&B64.decode(h).map_err(|_| JoseError::Malformed)?)
                .map_err(|_| JoseError::Malformed)?;
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or(JoseError::UnknownKey)?;
        let key = &self
            .entries
            .iter()
            .find(|e| e.key.jwk.kid == kid)
            .ok_or(JoseError::UnknownKey)?
            .key;
        if header.get("alg").and_then(Value::as_str) != Some(key.alg.as_str()) {
            return Err(JoseError::BadSignature);
        }
        let sig = B64.decode(s).map_err(|_| JoseError::Malformed)?;
        key.verify_parts(&token[..h.len() + 1 + p.len()], &sig)?;
        let claims: Value =
            serde_json::from_slice(&B64.decode(p).map_err(|_| JoseError::Malformed)?)
                .map_err(|_| JoseError::Malformed)?;
        Ok((header, claims))
    }
}

/// The current [`KeySet`], replaced whole when the keys are reloaded. Readers take a
/// snapshot ([`SharedKeys::current`]) and keep using it for the request, so a token is signed
/// and its JWKS read from one consistent set.
pub struct SharedKeys(ArcSwap<KeySet>);

impl SharedKeys {
    pub fn new(set: KeySet) -> Self {
        Self(ArcSwap::from_pointee(set))
    }

    pub fn current(&self) -> Arc<KeySet> {
        self.0.load_full()
    }

    /// Makes `set` current for every later reader; returns the previous set.
    pub fn replace(&self, set: KeySet) -> Arc<KeySet> {
        self.0.swap(Arc::new(set))
    }
}

impl std::fmt::Debug for SharedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SharedKeys").field(&self.0.load()).finish()
    }
}

impl From<KeySet> for SharedKeys {
    fn from(set: KeySet) -> Self {
        Self::new(set)
    }
}
