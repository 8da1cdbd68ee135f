//! The live link to Redis and how it heals itself.
//!
//! A [`Conn`] is one of the redis crate's self-reconnecting handles: a `ConnectionManager`
//! (standalone, and the current master of a Sentinel deployment) or a cluster-async
//! `ClusterConnection`. Both reconnect on their own after a dropped connection, but both can
//! get stuck: a `ConnectionManager` whose reconnect ends in an error that is not an I/O error
//! (a `LOADING` reply while the restarted server reads its dump, an authentication failure
//! while a password is being rotated) keeps returning that error forever, and after a Sentinel
//! failover it keeps talking to the old master, now a read-only replica.
//!
//! [`Link`] guards against that. It counts consecutive backend failures; after
//! [`REBUILD_AFTER_FAILURES`] of them it builds a fresh `Conn` in the background (for Sentinel
//! this asks the Sentinels for the master again) and swaps it in, at most once per
//! [`REBUILD_INTERVAL`]. Callers never wait for a rebuild: they get `Unavailable` at once and
//! the next call uses whatever connection is current. No lock is held across an `.await`.

use super::target::Target;
use ::redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use ::redis::cluster::{ClusterClient, ClusterConfig};
use ::redis::cluster_async::ClusterConnection;
use ::redis::sentinel::{SentinelClient, SentinelServerType};
use ::redis::{Client, Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, RedisResult, Value};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// Consecutive backend failures after which the connection is rebuilt from scratch.
pub(crate) const REBUILD_AFTER_FAILURES: u32 = 3;

/// The shortest time between two rebuilds, so an outage does not cause a rebuild storm.
pub(crate) const REBUILD_INTERVAL: Duration = Duration::from_secs(1);

/// Limits on waiting for Redis.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeouts {
    /// One attempt to open a TCP (and TLS) connection.
    pub connect: Duration,
    /// One command, from sending it to its reply, including any wait for a reconnect.
    pub response: Duration,
}

/// A cheap-to-clone, self-reconnecting handle to Redis.
#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// Builds a new handle for `target`. Standalone and Cluster handles are lazy (they connect on
/// first use); for Sentinel the Sentinels are asked for the master first, within a time limit.
pub(crate) async fn open(target: &Target, t: Timeouts) -> RedisResult<Conn> {
    match target {
        Target::Standalone(info) => {
            let client = Client::open(info.clone())?;
            Ok(Conn::Single(ConnectionManager::new_lazy_with_config(
                client,
                manager_config(t),
            )?))
        }
        Target::Cluster(nodes) => {
            let client = ClusterClient::builder(nodes.clone())
                .connection_timeout(t.connect)
                .response_timeout(t.response)
                .retries(2)
                .build()?;
            let config = ClusterConfig::new()
                .set_connection_timeout(t.connect)
                .set_response_timeout(t.response);
            Ok(Conn::Cluster(
                client.get_pending_async_connection_with_config(config),
            ))
        }
        Target::Sentinel {
            sentinels,
            master,
            master_info,
        } => {
            let lookup = async {
                let mut sentinel = SentinelClient::build(
                    sentinels.clone(),
                    master,
                    Some(master_info.clone()),
                    SentinelServerType::Master,
                )?;
                sentinel.async_get_client().await
            };
            // Each Sentinel is asked in turn; bound the whole lookup.
            let client = tokio::time::timeout(t.connect * 3, lookup)
                .await
                .map_err(|_| {
                    RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))
                })??;
            Ok(Conn::Single(ConnectionManager::new_lazy_with_config(
                client,
                manager_config(t),
            )?))
        }
    }
}

/// Reconnects are quick and few: a caller waits at most `response` anyway, and [`Link`]
/// rebuilds the manager if its reconnects give up.
fn manager_config(t: Timeouts) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(t.connect))
        .set_response_timeout(Some(t.response))
        .set_number_of_retries(2)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_millis(500))
}

/// Whether an error says something about the backend or about the stored data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Redis is unreachable, slow, loading, read-only, misconfigured…: retry later.
    Backend,
    /// The stored value is not what the command needs (e.g. `incr` on a non-number).
    Data,
}

/// Sorts a redis error into a [`Fault`]. Only errors that can only come from the stored data
/// are [`Fault::Data`]; anything unknown is treated as the backend's problem.
pub(crate) fn classify(e: &RedisError) -> Fault {
    match e.kind() {
        ErrorKind::Parse | ErrorKind::UnexpectedReturnType => Fault::Data,
        _ if e.code() == Some("WRONGTYPE") => Fault::Data,
        _ if e
            .detail()
            .is_some_and(|d| d.contains("not an integer") || d.contains("overflow")) =>
        {
            Fault::Data
        }
        _ => Fault::Backend,
    }
}

#[derive(Debug)]
struct Health {
    consecutive_failures: u32,
    last_rebuild: Option<Instant>,
    rebuilding: bool,
}

/// The current [`Conn`] plus what is needed to replace it.
pub(crate) struct Link {
    target: Target,
    timeouts: Timeouts,
    current: RwLock<Conn>,
    health: Mutex<Health>,
}

impl Link {
    pub(crate) fn new(target: Target, timeouts: Timeouts, conn: Conn) -> Self {
        Self {
            target,
            timeouts,
            current: RwLock::new(conn),
            health: Mutex::new(Health {
                consecutive_failures: 0,
                last_rebuild: None,
                rebuilding: false,
            }),
        }
    }

    pub(crate) fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// A clone of the current handle, to run one command on.
    pub(crate) fn conn(&self) -> Conn {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn succeeded(&self) {
        self.health
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .consecutive_failures = 0;
    }

    /// Records a backend failure and starts a background rebuild when one is due.
    pub(crate) fn failed(self: &Arc<Self>) {
        {
            let mut h = self.health.lock().unwrap_or_else(PoisonError::into_inner);
            h.consecutive_failures = h.consecutive_failures.saturating_add(1);
            let due = h.consecutive_failures >= REBUILD_AFTER_FAILURES
                && !h.rebuilding
                && h.last_rebuild
                    .is_none_or(|at| at.elapsed() >= REBUILD_INTERVAL);
            if !due {
                return;
            }
            h.rebuilding = true;
        }
        let link = Arc::clone(self);
        tokio::spawn(async move { link.rebuild().await });
    }

    async fn rebuild(&self) {
        let outcome = open(&self.target, self.timeouts).await;
        match outcome {
            Ok(conn) => {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = conn;
                tracing::warn!("redis session store: connection rebuilt after repeated failures");
            }
            Err(e) => {
                tracing::warn!(error = %e, "redis session store: rebuilding the connection failed; will retry");
            }
        }
        let mut h = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        h.rebuilding = false;
        h.last_rebuild = Some(Instant::now());
        h.consecutive_failures = 0;
    }
}
