//! # kunci-session
//!
//! The ephemeral side of Kunci's storage: implementations of
//! [`kunci_core::ports::EphemeralStore`], a key-value store where every entry has a
//! time-to-live. It holds SSO sessions, login interactions, authorization codes (taken
//! atomically, once), ceremony state, rate counters and one-time codes.
//!
//! Two backends:
//! - [`MemoryStore`]: a sharded in-process map, for a single node (the embedded default) and tests.
//! - [`RedisStore`]: Redis standalone, TLS, Sentinel or Cluster, for many stateless nodes.
//!
//! Both pass the same conformance suite (`tests/it/conformance.rs`), so callers cannot tell
//! them apart except by durability and reach.
//!
//! ## Contract shared by the backends
//! - An entry written with `ttl_secs` is live until `ttl_secs` seconds have passed; expired
//!   entries are never returned, even before they are purged.
//! - `ttl_secs` is clamped to `1..=`[`MAX_TTL_SECS`]: an entry always lives at least one second
//!   (Redis rejects `EX 0`) and never forever.
//! - Counters made by `incr` are stored as decimal ASCII (`b"3"`), so `get` on a counter
//!   returns the same bytes from every backend.
//! - Values are opaque bytes that may contain session data: this crate never logs them.

mod error;
mod memory;
mod redis;

pub use crate::error::SessionError;
pub use crate::memory::MemoryStore;
pub use crate::redis::{RedisConfig, RedisStore};

/// The longest TTL honoured: ten years. Longer requests are shortened to this.
pub const MAX_TTL_SECS: u64 = 10 * 365 * 24 * 60 * 60;

/// The TTL a backend actually applies for a requested `ttl_secs` (see the crate docs).
pub(crate) fn effective_ttl(ttl_secs: u64) -> u64 {
    ttl_secs.clamp(1, MAX_TTL_SECS)
}

/// The kind of a caller's key (`sess` for `sess:…`), the only part of a key that is logged.
pub(crate) fn key_kind(key: &str) -> &str {
    match key.split_once(':') {
        Some((kind, _)) if kind.len() <= 32 => kind,
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_is_clamped_to_at_least_one_second_and_at_most_ten_years() {
        assert_eq!(effective_ttl(0), 1);
        assert_eq!(effective_ttl(1), 1);
        assert_eq!(effective_ttl(60), 60);
        assert_eq!(effective_ttl(u64::MAX), MAX_TTL_SECS);
    }

    #[test]
    fn only_the_kind_of_a_key_is_ever_logged() {
        assert_eq!(key_kind("sess:abcdef"), "sess");
        assert_eq!(key_kind("code:x:y"), "code");
        assert_eq!(key_kind("no-colon-secret"), "other");
    }
}
