//! Clients' JWK Sets from their `jwks_uri` (RFC 7523 `private_key_jwt`): the I/O half of the
//! core's [`JwksFetcher`] port, with reqwest (rustls on ring).
//!
//! SSRF hygiene: only `jwks_uri` values from the configuration (https, or http to loopback,
//! checked when the configuration loads) or of registered clients (https to a public host,
//! checked at registration) are contacted; redirects are not followed; a request
//! is bounded in time and the answer in size. Each set is cached for [`CACHE_TTL`]; a caller
//! that found no matching key may ask for a fresh copy, which is fetched at most once per
//! [`MIN_REFRESH`] so that a stream of bad assertions cannot turn Kunci into a hammer.

use async_trait::async_trait;
use kunci_core::PortError;
use kunci_core::client_assertion::JwksFetcher;
use kunci_core::foreign_jws::{ASYMMETRIC, key_fits};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a fetched set is used without asking again.
pub const CACHE_TTL: Duration = Duration::from_secs(300);
/// The least time between two fetches of one URI.
pub const MIN_REFRESH: Duration = Duration::from_secs(10);
/// A JWK Set larger than this is refused.
const MAX_BYTES: usize = 64 * 1024;

/// Fetches and caches clients' JWK Sets.
pub struct HttpJwksFetcher {
    http: reqwest::Client,
    cache: Mutex<HashMap<String, (Instant, Vec<Value>)>>,
}

impl HttpJwksFetcher {
    pub fn new() -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("kunci/", env!("CARGO_PKG_VERSION"), " jwks"))
            .build()?;
        Ok(Self {
            http,
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn cached(&self, uri: &str, max_age: Duration) -> Option<Vec<Value>> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(uri)
            .filter(|(at, _)| at.elapsed() < max_age)
            .map(|(_, keys)| keys.clone())
    }

    async fn fetch(&self, uri: &str) -> Result<Vec<Value>, PortError> {
        let unavailable =
            |e: &dyn std::fmt::Display| PortError::Unavailable(format!("jwks_uri: {e}"));
        let mut resp = self
            .http
            .get(uri)
            .header(
                reqwest::header::ACCEPT,
                "application/json, application/jwk-set+json",
            )
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        if !resp.status().is_success() {
            return Err(unavailable(&format!("HTTP {}", resp.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| unavailable(&e))? {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(unavailable(&"the JWK Set is too large"));
            }
            body.extend_from_slice(&chunk);
        }
        let set: Value = serde_json::from_slice(&body).map_err(|e| unavailable(&e))?;
        // A published set may hold encryption keys too; only usable signing keys are kept.
        let keys: Vec<Value> = set
            .get("keys")
            .and_then(Value::as_array)
            .map(|ks| {
                ks.iter()
                    .filter(|k| ASYMMETRIC.iter().any(|a| key_fits(k, *a)))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if keys.is_empty() {
            return Err(unavailable(&"the JWK Set has no usable signing key"));
        }
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(uri.to_owned(), (Instant::now(), keys.clone()));
        Ok(keys)
    }
}

#[async_trait]
impl JwksFetcher for HttpJwksFetcher {
    async fn keys(&self, uri: &str, refresh: bool) -> Result<Vec<Value>, PortError> {
        let max_age = if refresh { MIN_REFRESH } else { CACHE_TTL };
        if let Some(keys) = self.cached(uri, max_age) {
            return Ok(keys);
        }
        self.fetch(uri).await
    }
}
