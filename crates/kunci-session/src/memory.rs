//! The in-memory backend: a sharded map of key → (bytes, expiry), for one node and for tests.
//!
//! Each shard is a `std::sync::Mutex<HashMap>`. Every operation locks one shard, does its work
//! without awaiting, and unlocks, so no lock is ever held across an `.await` and `take` is
//! atomic. Time comes from the injected [`Clock`]; an entry is live while `now < expires_at`,
//! and a dead entry is treated as absent whether or not it has been purged yet.
//!
//! Memory stays bounded by the live entries: each shard sweeps out dead entries after it has
//! taken as many inserts as it held live entries at its last sweep (at least
//! [`MIN_SWEEP_INTERVAL`]). A sweep costs one pass over the shard, so its cost is amortised to
//! O(1) per insert, and a shard never holds more than about twice its live entries plus
//! `MIN_SWEEP_INTERVAL` dead ones. [`MemoryStore::purge_expired`] sweeps everything at once.

use crate::effective_ttl;
use async_trait::async_trait;
use kunci_core::ports::EphemeralStore;
use kunci_core::{Clock, PortError, UnixTime};
use std::collections::HashMap;
use std::collections::hash_map::{Entry as MapEntry, RandomState};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Number of independently locked shards; a power of two.
const SHARDS: usize = 16;

/// A shard sweeps at the latest after this many inserts, however few entries it holds.
const MIN_SWEEP_INTERVAL: usize = 64;

struct Entry {
    value: Vec<u8>,
    expires_at: UnixTime,
}

impl Entry {
    fn is_live(&self, now: UnixTime) -> bool {
        now < self.expires_at
    }
}

struct Shard {
    map: HashMap<String, Entry>,
    /// Inserts left before the next sweep of this shard.
    inserts_until_sweep: usize,
}

impl Shard {
    fn new() -> Self {
        Self {
            map: HashMap::new(),
            inserts_until_sweep: MIN_SWEEP_INTERVAL,
        }
    }

    /// Removes dead entries and returns how many were removed.
    fn sweep(&mut self, now: UnixTime) -> usize {
        let before = self.map.len();
        self.map.retain(|_, e| e.is_live(now));
        self.inserts_until_sweep = self.map.len().max(MIN_SWEEP_INTERVAL);
        before - self.map.len()
    }

    /// Counts an insert towards the next sweep, sweeping when it is due.
    fn note_insert(&mut self, now: UnixTime) {
        self.inserts_until_sweep = self.inserts_until_sweep.saturating_sub(1);
        if self.inserts_until_sweep == 0 {
            self.sweep(now);
        }
    }

    /// The live entry under `key`, if any. A dead one is removed on the way.
    fn live(&mut self, key: &str, now: UnixTime) -> Option<&mut Entry> {
        if self.map.get(key).is_some_and(|e| !e.is_live(now)) {
            self.map.remove(key);
        }
        self.map.get_mut(key)
    }
}

/// An [`EphemeralStore`] kept in this process's memory. Cheap to clone: clones share the data.
///
/// Entries are lost when the process exits and are not shared between nodes; use
/// [`crate::RedisStore`] when Kunci runs on more than one node.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    clock: Arc<dyn Clock>,
    hasher: RandomState,
    shards: [Mutex<Shard>; SHARDS],
}

impl std::fmt::Debug for MemoryStore {
    /// Shows only the size, never keys or values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.len_including_expired())
            .finish()
    }
}

impl MemoryStore {
    /// An empty store whose notion of "now" is `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                clock,
                hasher: RandomState::new(),
                shards: std::array::from_fn(|_| Mutex::new(Shard::new())),
            }),
        }
    }

    /// Removes every expired entry now and returns how many were removed. Optional: expired
    /// entries are invisible and swept as the store is used, but a periodic call returns their
    /// memory sooner after a burst.
    pub fn purge_expired(&self) -> usize {
        let now = self.now();
        self.inner.shards.iter().map(|s| lock(s).sweep(now)).sum()
    }

    /// Entries held, live or expired-but-not-yet-purged. For metrics and tests of the sweep.
    pub fn len_including_expired(&self) -> usize {
        self.inner.shards.iter().map(|s| lock(s).map.len()).sum()
    }

    fn now(&self) -> UnixTime {
        self.inner.clock.now()
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, Shard> {
        let idx = (self.inner.hasher.hash_one(key) as usize) & (SHARDS - 1);
        lock(&self.inner.shards[idx])
    }

    fn expiry(now: UnixTime, ttl_secs: u64) -> UnixTime {
        // effective_ttl caps the TTL at ten years, far below i64::MAX.
        now.saturating_add(effective_ttl(ttl_secs) as i64)
    }
}

/// Locks a shard. A panic while a shard was locked cannot leave it half-updated (every update
/// is a single map operation), so a poisoned lock is safe to keep using.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl EphemeralStore for MemoryStore {
    async fn put(&self, key: &str, value: &[u8], ttl_secs: u64) -> Result<(), PortError> {
        let now = self.now();
        let entry = Entry {
            value: value.to_vec(),
            expires_at: Self::expiry(now, ttl_secs),
        };
        let mut shard = self.shard(key);
        shard.map.insert(key.to_owned(), entry);
        shard.note_insert(now);
        Ok(())
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl_secs: u64,
    ) -> Result<bool, PortError> {
        let now = self.now();
        let entry = Entry {
            value: value.to_vec(),
            expires_at: Self::expiry(now, ttl_secs),
        };
        let mut shard = self.shard(key);
        let stored = match shard.map.entry(key.to_owned()) {
            MapEntry::Occupied(e) if e.get().is_live(now) => false,
            MapEntry::Occupied(mut e) => {
                e.insert(entry);
                true
            }
            MapEntry::Vacant(e) => {
                e.insert(entry);
                true
            }
        };
        if stored {
            shard.note_insert(now);
        }
        Ok(stored)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        let now = self.now();
        Ok(self.shard(key).live(key, now).map(|e| e.value.clone()))
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        let now = self.now();
        let removed = self.shard(key).map.remove(key);
        Ok(removed.filter(|e| e.is_live(now)).map(|e| e.value))
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        self.shard(key).map.remove(key);
        Ok(())
    }

    async fn incr(&self, key: &str, ttl_secs: u64) -> Result<u64, PortError> {
        let now = self.now();
        let mut shard = self.shard(key);
        if let Some(entry) = shard.live(key, now) {
            let next = std::str::from_utf8(&entry.value)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .and_then(|n| n.checked_add(1))
                .ok_or_else(|| {
                    PortError::Corrupt(format!(
                        "counter `{}:…` does not hold a number below u64::MAX",
                        crate::key_kind(key)
                    ))
                })?;
            entry.value = next.to_string().into_bytes();
            return Ok(next);
        }
        let entry = Entry {
            value: b"1".to_vec(),
            expires_at: Self::expiry(now, ttl_secs),
        };
        shard.map.insert(key.to_owned(), entry);
        shard.note_insert(now);
        Ok(1)
    }

    async fn ping(&self) -> Result<(), PortError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kunci_core::ManualClock;

    fn store() -> (MemoryStore, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(1_700_000_000));
        (MemoryStore::new(clock.clone()), clock)
    }

    #[tokio::test]
    async fn dead_entries_are_swept_while_the_store_is_used_so_memory_stays_bounded() {
        let (store, clock) = store();
        // Many short-lived entries, each round expiring before the next begins, and never
        // read again: only the amortised sweep can reclaim them.
        for round in 0..50 {
            for i in 0..100 {
                store
                    .put(&format!("code:{round}:{i}"), b"v", 1)
                    .await
                    .unwrap();
            }
            clock.advance(2);
        }
        let held = store.len_including_expired();
        // 100 live at most per round; the bound is about 2x live plus MIN_SWEEP_INTERVAL per shard.
        assert!(
            held <= 2 * 100 + SHARDS * MIN_SWEEP_INTERVAL,
            "held {held} entries"
        );
        assert!(held < 50 * 100 / 2, "sweeping reclaimed nothing: {held}");
    }

    #[tokio::test]
    async fn purge_expired_removes_exactly_the_dead_entries() {
        let (store, clock) = store();
        store.put("sess:a", b"1", 10).await.unwrap();
        store.put("sess:b", b"2", 100).await.unwrap();
        store.incr("rate:c", 10).await.unwrap();
        clock.advance(10);
        assert_eq!(store.purge_expired(), 2);
        assert_eq!(store.len_including_expired(), 1);
        assert_eq!(
            store.get("sess:b").await.unwrap().as_deref(),
            Some(&b"2"[..])
        );
    }

    #[tokio::test]
    async fn incr_on_a_non_numeric_value_is_corrupt_not_a_reset() {
        let (store, _) = store();
        store.put("rate:x", b"not a number", 60).await.unwrap();
        assert!(matches!(
            store.incr("rate:x", 60).await,
            Err(PortError::Corrupt(_))
        ));
        assert_eq!(
            store.get("rate:x").await.unwrap().as_deref(),
            Some(&b"not a number"[..])
        );
    }

    #[test]
    fn debug_output_shows_no_keys_or_values() {
        let (store, _) = store();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(store.put("sess:secret-id", b"secret-value", 60))
            .unwrap();
        let shown = format!("{store:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
