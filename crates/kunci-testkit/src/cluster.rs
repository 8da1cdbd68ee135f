//! Several Kunci nodes sharing one PostgreSQL database, one Redis key prefix and the same signing
//! keys (stored in the database under one master key): the production shape, on one machine.
//! All nodes use the first node's URL as the issuer, as if it were the load balancer's.

use crate::backends::{Backends, TempDatabase};
use crate::server::TestServer;
use base64::Engine;
use kunci::clock::SystemClock;
use kunci::config::{Config, KeyStorage, SessionBackend};
use kunci_core::secret::random_token;
use std::sync::Arc;

pub struct TestCluster {
    /// Declared before `database` so the nodes stop before their database is dropped.
    pub nodes: Vec<TestServer>,
    _database: TempDatabase,
}

impl TestCluster {
    /// `None` (after one `skipped:` line) when PostgreSQL and Redis are not configured.
    pub async fn start(nodes: usize, what: &str) -> Option<Self> {
        Self::start_with(nodes, what, |_| {}).await
    }

    /// Like [`TestCluster::start`], with `tweak` applied to every node's configuration first.
    pub async fn start_with(nodes: usize, what: &str, tweak: impl Fn(&mut Config)) -> Option<Self> {
        let Backends::Production {
            database_admin_url,
            redis_url,
        } = Backends::production(what)?
        else {
            return None;
        };
        let database = TempDatabase::create(&database_admin_url)
            .await
            .expect("create a test database");
        let prefix = format!("kunci-test:{}:", random_token());
        let master_key = base64::engine::general_purpose::STANDARD
            .encode(kunci_core::secret::sha256(random_token().as_bytes()));
        let mut started: Vec<TestServer> = Vec::with_capacity(nodes);
        for _ in 0..nodes {
            let issuer = started.first().map(|n| n.issuer.clone());
            let (db_url, redis, prefix, key) = (
                database.url.clone(),
                redis_url.clone(),
                prefix.clone(),
                master_key.clone(),
            );
            let tweak = &tweak;
            let node =
                TestServer::start_full(Backends::Embedded, Arc::new(SystemClock), move |c| {
                    tweak(c);
                    if let Some(issuer) = issuer {
                        c.issuer = issuer;
                    }
                    c.database.url = db_url;
                    c.sessions.backend = SessionBackend::Redis;
                    c.sessions.url = redis;
                    c.sessions.key_prefix = prefix;
                    c.keys.storage = KeyStorage::Database;
                    c.keys.master_key = key;
                })
                .await;
            started.push(node);
        }
        Some(Self {
            nodes: started,
            _database: database,
        })
    }
}
