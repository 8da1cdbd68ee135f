//! `RedisStore` through Sentinel and Cluster, on test-owned `redis-server` processes bound to
//! 127.0.0.1 on free ports: the conformance suite through each, and a Sentinel failover that
//! the store must follow without being re-created.

use crate::redis_harness::run_conformance;
use crate::support::{OwnedRedis, free_ports, random_prefix, raw, redis_server_on_path, skip};
use kunci_core::ports::EphemeralStore;
use kunci_session::{RedisConfig, RedisStore, SessionError};
use std::path::Path;
use std::time::{Duration, Instant};

const WHAT: &str = "Redis Sentinel and Cluster tests";

/// Polls `check` every 100 ms until it holds or `limit` has passed.
async fn wait_for<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Runs `cmd` on the server at `url` and returns its reply as text ("" on any error).
async fn query_text(url: &str, cmd: &redis::Cmd) -> String {
    let attempt = async {
        let mut c = redis::Client::open(url)
            .ok()?
            .get_multiplexed_async_connection()
            .await
            .ok()?;
        cmd.query_async::<redis::Value>(&mut c).await.ok()
    };
    match tokio::time::timeout(Duration::from_secs(2), attempt).await {
        Ok(Some(v)) => format!("{v:?}"),
        _ => String::new(),
    }
}

/// A Sentinel on `port` watching the master on `master_port` as `mymaster`, with a quorum of
/// one and short timeouts so a failover completes within seconds.
async fn start_sentinel(dir: &Path, port: u16, master_port: u16) -> OwnedRedis {
    let conf = dir.join(format!("sentinel-{port}.conf"));
    std::fs::write(
        &conf,
        format!(
            "sentinel monitor mymaster 127.0.0.1 {master_port} 1\n\
             sentinel down-after-milliseconds mymaster 1000\n\
             sentinel failover-timeout mymaster 3000\n"
        ),
    )
    .unwrap();
    OwnedRedis::start_sentinel(port, &conf).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_passes_the_conformance_suite_through_sentinel() {
    if !redis_server_on_path() {
        return skip(WHAT, "redis-server not on PATH");
    }
    let dir = tempfile::tempdir().unwrap();
    let [master_port, sentinel_port] = free_ports(2)[..] else {
        unreachable!()
    };
    let _master = OwnedRedis::start(master_port, &[]).await;
    let _sentinel = start_sentinel(dir.path(), sentinel_port, master_port).await;

    let url = format!("redis+sentinel://127.0.0.1:{sentinel_port}/mymaster");
    run_conformance(&url, Some(&format!("redis://127.0.0.1:{master_port}"))).await;

    // A master name the Sentinel does not know is a start-up error, not a hang.
    let mut cfg = RedisConfig::new(format!("redis+sentinel://127.0.0.1:{sentinel_port}/nosuch"));
    cfg.connect_timeout = Duration::from_millis(500);
    let err = RedisStore::connect(&cfg)
        .await
        .expect_err("unknown master name");
    assert!(matches!(err, SessionError::Connect { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_follows_a_sentinel_failover_to_the_promoted_replica() {
    if !redis_server_on_path() {
        return skip(WHAT, "redis-server not on PATH");
    }
    let dir = tempfile::tempdir().unwrap();
    let [master_port, replica_port, sentinel_port] = free_ports(3)[..] else {
        unreachable!()
    };
    let mut master = OwnedRedis::start(master_port, &[]).await;
    let replica_of = master_port.to_string();
    let _replica =
        OwnedRedis::start(replica_port, &["--replicaof", "127.0.0.1", &replica_of]).await;
    let _sentinel = start_sentinel(dir.path(), sentinel_port, master_port).await;
    let (master_url, replica_url, sentinel_url) = (
        format!("redis://127.0.0.1:{master_port}"),
        format!("redis://127.0.0.1:{replica_port}"),
        format!("redis://127.0.0.1:{sentinel_port}"),
    );
    let in_sync = wait_for(Duration::from_secs(15), || async {
        query_text(&replica_url, redis::cmd("INFO").arg("replication"))
            .await
            .contains("master_link_status:up")
    })
    .await;
    assert!(in_sync, "the replica did not sync");
    let known = wait_for(Duration::from_secs(15), || async {
        query_text(
            &sentinel_url,
            redis::cmd("SENTINEL").arg("replicas").arg("mymaster"),
        )
        .await
        .contains(&replica_port.to_string())
    })
    .await;
    assert!(known, "the Sentinel did not discover the replica");

    let mut cfg = RedisConfig::new(format!(
        "redis+sentinel://127.0.0.1:{sentinel_port}/mymaster"
    ));
    cfg.key_prefix = random_prefix();
    cfg.connect_timeout = Duration::from_millis(500);
    cfg.response_timeout = Duration::from_millis(500);
    let store = RedisStore::connect(&cfg)
        .await
        .expect("connect through the Sentinel");
    store.put("sess:before", b"kept", 120).await.unwrap();
    // Make sure the write reached the replica before the master dies.
    let replicated: i64 = redis::cmd("WAIT")
        .arg(1)
        .arg(2000)
        .query_async(&mut raw(&master_url).await)
        .await
        .unwrap();
    assert_eq!(replicated, 1, "the write was not replicated");

    master.stop();
    let healed = wait_for(Duration::from_secs(30), || async {
        store.put("sess:after", b"new", 120).await.is_ok()
    })
    .await;
    assert!(healed, "the store did not follow the failover");
    assert_eq!(
        store.get("sess:before").await.unwrap(),
        Some(b"kept".to_vec()),
        "not the promoted replica"
    );
    let role = query_text(&replica_url, &redis::cmd("ROLE")).await;
    assert!(
        role.contains("master"),
        "the replica was not promoted: {role}"
    );
}

/// Three masters on free ports (with free bus ports), the slots split between them.
async fn start_cluster(dir: &Path) -> (Vec<OwnedRedis>, Vec<u16>) {
    let ports = free_ports(6);
    let (data, bus) = ports.split_at(3);
    let dir_arg = dir.to_str().unwrap();
    let mut nodes = Vec::new();
    for (port, bus_port) in data.iter().zip(bus) {
        let conf = format!("nodes-{port}.conf");
        let bus_arg = bus_port.to_string();
        let extra = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            &conf,
            "--cluster-port",
            &bus_arg,
            "--dir",
            dir_arg,
        ];
        nodes.push(OwnedRedis::start(*port, &extra).await);
    }
    const SLOTS: u16 = 16384;
    for (i, port) in data.iter().enumerate() {
        let (from, to) = (
            SLOTS / 3 * i as u16,
            if i == 2 {
                SLOTS
            } else {
                SLOTS / 3 * (i as u16 + 1)
            },
        );
        let mut addslots = redis::cmd("CLUSTER");
        addslots
            .arg("ADDSLOTS")
            .arg((from..to).collect::<Vec<u16>>());
        let url = format!("redis://127.0.0.1:{port}");
        addslots
            .query_async::<()>(&mut raw(&url).await)
            .await
            .unwrap();
    }
    let mut first = raw(&format!("redis://127.0.0.1:{}", data[0])).await;
    for (port, bus_port) in data.iter().zip(bus).skip(1) {
        redis::cmd("CLUSTER")
            .arg("MEET")
            .arg("127.0.0.1")
            .arg(*port)
            .arg(*bus_port)
            .query_async::<()>(&mut first)
            .await
            .unwrap();
    }
    for port in data {
        let url = format!("redis://127.0.0.1:{port}");
        let ok = wait_for(Duration::from_secs(20), || async {
            let info = query_text(&url, redis::cmd("CLUSTER").arg("INFO")).await;
            info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3")
        })
        .await;
        assert!(ok, "cluster node {port} did not become ready");
    }
    (nodes, data.to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_passes_the_conformance_suite_on_a_cluster() {
    if !redis_server_on_path() {
        return skip(WHAT, "redis-server not on PATH");
    }
    let dir = tempfile::tempdir().unwrap();
    let (_nodes, ports) = start_cluster(dir.path()).await;
    // Two of the three as seeds; the third is discovered.
    let url = format!(
        "redis+cluster://127.0.0.1:{},127.0.0.1:{}",
        ports[0], ports[1]
    );
    run_conformance(&url, None).await;

    // Keys really are spread over the nodes, so single-key commands were routed.
    let mut holding = 0;
    for port in &ports {
        let size: i64 = redis::cmd("DBSIZE")
            .query_async(&mut raw(&format!("redis://127.0.0.1:{port}")).await)
            .await
            .unwrap();
        holding += usize::from(size > 0);
    }
    assert!(
        holding >= 2,
        "all keys landed on one node: routing is not exercised"
    );
}
