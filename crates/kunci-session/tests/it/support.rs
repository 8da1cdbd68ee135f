//! Test plumbing: the skip rule for optional backends, a test-owned `redis-server`, random
//! key prefixes and clean-up of the keys a run wrote. Only 127.0.0.1 is ever used here.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Skips a test of an optional suite, or fails it when `KUNCI_TEST_REQUIRE_ALL=1`. The
/// `skipped: …` line is printed once per suite, however many of its tests skip.
pub fn skip(suite: &str, why: &str) {
    if std::env::var("KUNCI_TEST_REQUIRE_ALL").is_ok_and(|v| v == "1") {
        panic!("{suite} is required (KUNCI_TEST_REQUIRE_ALL=1) but cannot run: {why}");
    }
    static ANNOUNCED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let first = ANNOUNCED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(suite.to_owned());
    if first {
        println!("skipped: {suite} ({why})");
    }
}

/// The suite name of every test that needs `KUNCI_TEST_REDIS_URL`.
pub const SHARED_REDIS: &str = "Redis session store conformance";

/// `KUNCI_TEST_REDIS_URL`, or `None` after [`skip`].
pub fn shared_redis_url() -> Option<String> {
    match std::env::var("KUNCI_TEST_REDIS_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            skip(SHARED_REDIS, "KUNCI_TEST_REDIS_URL not set");
            None
        }
    }
}

/// A prefix no other run uses, so runs against a shared Redis cannot collide.
pub fn random_prefix() -> String {
    format!("kunci-test:{}:", uuid::Uuid::new_v4().simple())
}

/// A plain connection for inspecting and cleaning up behind the store's back.
pub async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("test Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("raw connection to the test Redis")
}

/// Deletes every key under `prefix` (SCAN MATCH + DEL); returns how many were deleted.
pub async fn delete_prefixed(url: &str, prefix: &str) -> usize {
    let mut conn = raw(url).await;
    let mut cursor: u64 = 0;
    let mut deleted = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(500)
            .query_async(&mut conn)
            .await
            .expect("SCAN");
        for key in keys {
            let n: usize = redis::cmd("DEL")
                .arg(key)
                .query_async(&mut conn)
                .await
                .expect("DEL");
            deleted += n;
        }
        if next == 0 {
            return deleted;
        }
        cursor = next;
    }
}

/// True when a `redis-server` binary can be started from PATH.
pub fn redis_server_on_path() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    free_ports(1)[0]
}

/// `n` distinct ports on 127.0.0.1 that were free a moment ago.
pub fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

/// A `redis-server` child owned by one test, on its own port, without persistence.
/// Killed when dropped, so a panicking test does not leave it behind.
pub struct OwnedRedis {
    child: Option<Child>,
}

impl OwnedRedis {
    /// Starts a data server on `port` (with `extra` arguments such as `--requirepass` or
    /// `--replicaof`) and waits until it answers PING.
    pub async fn start(port: u16, extra: &[&str]) -> OwnedRedis {
        let port_arg = port.to_string();
        let mut args = vec![
            "--port",
            &port_arg,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ];
        args.extend_from_slice(extra);
        let password = extra
            .windows(2)
            .find(|w| w[0] == "--requirepass")
            .map(|w| w[1]);
        Self::spawn(&args, port, password).await
    }

    /// Starts a Sentinel on `port` from the writable config file `conf`.
    pub async fn start_sentinel(port: u16, conf: &Path) -> OwnedRedis {
        let port_arg = port.to_string();
        let conf = conf.to_str().expect("UTF-8 temp path");
        Self::spawn(
            &[
                conf,
                "--sentinel",
                "--port",
                &port_arg,
                "--bind",
                "127.0.0.1",
            ],
            port,
            None,
        )
        .await
    }

    async fn spawn(args: &[&str], port: u16, password: Option<&str>) -> OwnedRedis {
        let child = Command::new("redis-server")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let mut server = OwnedRedis { child: Some(child) };
        let url = match password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{port}"),
            None => format!("redis://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ready = async {
                let mut c = redis::Client::open(url.as_str())
                    .ok()?
                    .get_multiplexed_async_connection()
                    .await
                    .ok()?;
                redis::cmd("PING").query_async::<String>(&mut c).await.ok()
            };
            if tokio::time::timeout(Duration::from_secs(1), ready)
                .await
                .ok()
                .flatten()
                .is_some()
            {
                return server;
            }
            if let Some(child) = server.child.as_mut() {
                let exited = child.try_wait().expect("poll redis-server");
                assert!(
                    exited.is_none(),
                    "redis-server on port {port} exited at start: {exited:?}"
                );
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {port} did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills the server and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnedRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
