//! The Redis backend of the ephemeral store: standalone, TLS, Sentinel and Cluster.
//!
//! Every operation is one single-key command (or a one-key Lua script), so it works unchanged
//! on a Cluster; every write sets a TTL; every command is bounded by the response timeout. The
//! connection and its repair live in `link`, URL parsing and redaction in `target`.

mod link;
mod target;

use self::link::{Conn, Fault, Link, Timeouts, classify};
use crate::error::SessionError;
use crate::{effective_ttl, key_kind};
use ::redis::{RedisResult, Script, Value, cmd};
use async_trait::async_trait;
use kunci_core::PortError;
use kunci_core::ports::EphemeralStore;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// INCR, and set the window's TTL when the counter was just created (or, defensively, when it
/// somehow has none). Atomic because a script runs alone on the server.
const INCR_FIXED_WINDOW: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('TTL', KEYS[1]) == -1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return n
";

/// How to reach Redis. `Debug` shows the URL with its password replaced by `***`.
#[derive(Clone)]
pub struct RedisConfig {
    /// Where Redis is; see [`RedisStore`] for the accepted forms.
    pub url: String,
    /// Put before every key, e.g. `kunci:`; lets deployments share a Redis without clashing.
    pub key_prefix: String,
    /// Limit on opening one connection (TCP and TLS handshake).
    pub connect_timeout: Duration,
    /// Limit on one operation, including any wait for a reconnect. Past it the operation fails
    /// with `PortError::Unavailable`.
    pub response_timeout: Duration,
}

impl RedisConfig {
    /// `url` with the defaults: prefix `kunci:`, 2 s to connect, 1 s per operation.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key_prefix: "kunci:".to_owned(),
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(1),
        }
    }
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &target::redact(&self.url))
            .field("key_prefix", &self.key_prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish()
    }
}

/// An [`EphemeralStore`] in Redis (6.2 or newer, for `GETDEL`). Cheap to clone.
///
/// # URLs
/// - `redis://[user][:password@]host[:port][/db]`: one server, plain TCP.
/// - `rediss://…`: the same over TLS (rustls; certificates are always verified against the
///   system trust store, so `#insecure` is refused).
/// - `redis+unix:///path/to/redis.sock[?db=N&pass=…]`: one server over a Unix socket.
/// - `redis+cluster://[user][:password@]host1:port,host2:port[,…]`: a Redis Cluster, given
///   by any of its nodes (the rest are discovered); `rediss+cluster://` for TLS. Database 0 only.
/// - `redis+sentinel://[user][:password@]s1:26379,s2:26379[,…]/<master>[/db][?sentinel_username=…&sentinel_password=…]`:
///   a master found through Sentinel; `rediss+sentinel://` uses TLS to Sentinels and master.
///   The userinfo authenticates to the master, the query parameters to the Sentinels.
///
/// `valkey://` and `valkeys://` are accepted as aliases of `redis://` and `rediss://`.
///
/// # Keys and atomicity
/// Every key is `key_prefix` followed by the caller's key. Each operation touches one key with
/// one command (`SET … EX`, `SET … NX EX`, `GET`, `GETDEL`, `DEL`, a one-key script for
/// `incr`, `PING`), so it is atomic on its own and works on a Cluster. Callers needing
/// atomicity across several keys (a script or transaction of their own) must put a
/// `{hash-tag}` in those keys so that a Cluster stores them in one slot.
///
/// # Failures
/// Each operation is bounded by `response_timeout`; a timeout or a connection problem is
/// `PortError::Unavailable` at once, never a hang. The store reconnects by itself when Redis
/// comes back (see `link` for how a stuck reconnect is repaired) and follows a Sentinel
/// failover. Values are never logged; a log line names at most the key's kind (`sess`).
///
/// An operation that timed out may still have been applied by Redis: a `put` may have stored
/// its value, and a `take` may have consumed the entry without returning it. For one-time
/// codes this fails closed (the code is simply gone); callers must not retry a `take`
/// expecting the value to still be there.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    link: Arc<Link>,
    prefix: String,
    incr: Script,
    /// The redacted URL, for messages.
    shown: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("target", &self.inner.shown)
            .field("key_prefix", &self.inner.prefix)
            .finish()
    }
}

impl RedisStore {
    /// Connects and checks that Redis answers and supports `GETDEL`, within about
    /// `3 × connect_timeout + response_timeout`.
    pub async fn connect(cfg: &RedisConfig) -> Result<RedisStore, SessionError> {
        for (setting, value) in [
            ("connect_timeout", cfg.connect_timeout),
            ("response_timeout", cfg.response_timeout),
        ] {
            if value.is_zero() {
                return Err(SessionError::InvalidConfig {
                    setting,
                    reason: "must be above zero".into(),
                });
            }
        }
        let shown = target::redact(&cfg.url);
        let target = target::parse(&cfg.url)?;
        let timeouts = Timeouts {
            connect: cfg.connect_timeout,
            response: cfg.response_timeout,
        };
        let connect_err = |reason: String| SessionError::Connect {
            target: shown.clone(),
            reason,
        };
        let conn = link::open(&target, timeouts)
            .await
            .map_err(|e| connect_err(e.to_string()))?;
        let store = RedisStore {
            inner: Arc::new(Inner {
                link: Arc::new(Link::new(target, timeouts, conn)),
                prefix: cfg.key_prefix.clone(),
                incr: Script::new(INCR_FIXED_WINDOW),
                shown: shown.clone(),
            }),
        };

        let first_contact = cfg.connect_timeout * 3 + cfg.response_timeout;
        store
            .exec("ping", "", first_contact, |mut c| async move {
                cmd("PING").query_async::<()>(&mut c).await
            })
            .await
            .map_err(|e| connect_err(e.to_string()))?;
        let probe = store.key("kunci-probe:getdel");
        let getdel = store
            .exec("probe", "", cfg.response_timeout, |mut c| async move {
                cmd("GETDEL")
                    .arg(probe)
                    .query_async::<Option<Vec<u8>>>(&mut c)
                    .await
            })
            .await;
        if let Err(e) = getdel {
            return Err(SessionError::Unsupported {
                target: shown,
                reason: format!("GETDEL failed ({e}); Kunci needs Redis 6.2 or newer"),
            });
        }
        Ok(store)
    }

    /// The prefix put before every key.
    pub fn key_prefix(&self) -> &str {
        &self.inner.prefix
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.inner.prefix)
    }

    /// Runs one operation on the current connection within `limit`, maps its error, and tells
    /// the link how it went.
    async fn exec<T, F, Fut>(
        &self,
        op: &'static str,
        key: &str,
        limit: Duration,
        f: F,
    ) -> Result<T, PortError>
    where
        F: FnOnce(Conn) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let link = &self.inner.link;
        let error = match tokio::time::timeout(limit, f(link.conn())).await {
            Ok(Ok(value)) => {
                link.succeeded();
                return Ok(value);
            }
            Ok(Err(e)) if classify(&e) == Fault::Data => {
                link.succeeded();
                return Err(PortError::Corrupt(format!(
                    "redis {op} on a `{}` key: {e}",
                    key_kind(key)
                )));
            }
            Ok(Err(e)) => format!("redis {op}: {e}"),
            Err(_) => format!("redis {op}: no reply within {limit:?}"),
        };
        link.failed();
        tracing::debug!(op, kind = key_kind(key), error = %error, "redis session store operation failed");
        Err(PortError::Unavailable(error))
    }

    async fn run<T: ::redis::FromRedisValue>(
        &self,
        op: &'static str,
        key: &str,
        command: ::redis::Cmd,
    ) -> Result<T, PortError> {
        let limit = self.inner.link.timeouts().response;
        self.exec(op, key, limit, |mut c| async move {
            command.query_async::<T>(&mut c).await
        })
        .await
    }
}

#[async_trait]
impl EphemeralStore for RedisStore {
    async fn put(&self, key: &str, value: &[u8], ttl_secs: u64) -> Result<(), PortError> {
        let mut c = cmd("SET");
        c.arg(self.key(key))
            .arg(value)
            .arg("EX")
            .arg(effective_ttl(ttl_secs));
        self.run::<()>("put", key, c).await
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl_secs: u64,
    ) -> Result<bool, PortError> {
        let mut c = cmd("SET");
        c.arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("EX")
            .arg(effective_ttl(ttl_secs));
        // `OK` when stored, nil when the key already existed.
        let reply: Value = self.run("put_if_absent", key, c).await?;
        Ok(!matches!(reply, Value::Nil))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        let mut c = cmd("GET");
        c.arg(self.key(key));
        self.run("get", key, c).await
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        let mut c = cmd("GETDEL");
        c.arg(self.key(key));
        self.run("take", key, c).await
    }

    async fn delete(&self, key: &str) -> Result<(), PortError> {
        let mut c = cmd("DEL");
        c.arg(self.key(key));
        self.run::<()>("delete", key, c).await
    }

    async fn incr(&self, key: &str, ttl_secs: u64) -> Result<u64, PortError> {
        let full = self.key(key);
        let script = &self.inner.incr;
        let limit = self.inner.link.timeouts().response;
        let n: i64 = self
            .exec("incr", key, limit, |mut c| async move {
                script
                    .key(full)
                    .arg(effective_ttl(ttl_secs))
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        u64::try_from(n)
            .map_err(|_| PortError::Corrupt(format!("counter `{}:…` is negative", key_kind(key))))
    }

    async fn ping(&self) -> Result<(), PortError> {
        self.run::<()>("ping", "", cmd("PING")).await
    }
}
