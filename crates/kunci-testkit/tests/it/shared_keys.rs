//! Signing keys shared through the database (`keys.storage = "database"`): nodes on one
//! database with one master key publish the same JWKS and accept each other's tokens, and a
//! node with a different master key refuses to start rather than sign with keys of its own.

use crate::jwt::{Jwt, jwks};
use crate::support::{PASSWORD, fresh_tokens, userinfo};
use kunci::config::{Config, KeyStorage};
use kunci_core::jose::Alg;
use kunci_core::ports::KeyRepo;
use kunci_testkit::backends::TempDatabase;
use kunci_testkit::server::FIRST;
use kunci_testkit::{Backends, TestServer, require_all};
use serde_json::Value;

const MASTER_KEY: &str = "/cbTbbVU0lkEujGDPIJ9I8YHHE2l97TDiJtVBg1rwEI=";
const OTHER_MASTER_KEY: &str = "GfRb/iDEC0z6QapXKDwwk+vn57YFMl2DZh9tD/vKBqc=";

/// Points a node at the shared database, with its keys there under `master_key`.
fn shared(config: &mut Config, database_url: &str, master_key: &str) {
    config.database.url = database_url.to_owned();
    config.keys.storage = KeyStorage::Database;
    config.keys.master_key = master_key.to_owned();
}

async fn node(database_url: &str, issuer: Option<&str>) -> TestServer {
    TestServer::start_with(Backends::Embedded, |c| {
        shared(c, database_url, MASTER_KEY);
        if let Some(issuer) = issuer {
            c.issuer = issuer.to_owned();
        }
    })
    .await
}

fn signing_kid(server: &TestServer, alg: Alg) -> String {
    let keys = server.kunci.state.provider.keys.current();
    keys.signing_key_at(alg, server.kunci.state.now())
        .expect("a key per algorithm")
        .kid()
        .to_owned()
}

fn kids(jwks: &Value) -> Vec<&str> {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid"))
        .collect()
}

/// Both nodes publish one key set, sign with the same keys, and `b` verifies what `a` issued.
async fn assert_nodes_agree(a: &TestServer, b: &TestServer) {
    let (jwks_a, jwks_b) = (jwks(a).await, jwks(b).await);
    assert_eq!(jwks_a, jwks_b, "both nodes publish the same JWKS");
    assert_eq!(kids(&jwks_a).len(), 2, "one key per algorithm: {jwks_a}");
    for alg in [Alg::RS256, Alg::ES256] {
        assert_eq!(signing_kid(a, alg), signing_kid(b, alg), "{alg:?} signer");
    }

    // Accounts live in the same database, so a user added through `a` signs in anywhere.
    let email = "wayan@example.com";
    a.add_user(email, "Wayan Sari", PASSWORD, true).await;
    // FIRST: RS256 ID token; access tokens are ES256 by default.
    let tokens = fresh_tokens(a, &FIRST, email).await;
    for name in ["id_token", "access_token"] {
        let jwt = Jwt::decode(tokens[name].as_str().expect(name));
        assert!(
            jwt.verifies_with(&jwks_b),
            "the {name} from one node verifies with the other's JWKS: {:?}",
            jwt.header
        );
    }
    let id_alg = Jwt::decode(tokens["id_token"].as_str().unwrap()).header["alg"].clone();
    assert_eq!(id_alg, "RS256");
}

#[tokio::test]
async fn nodes_sharing_a_database_publish_one_jwks_and_accept_each_others_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    let a = node(&url, None).await;
    // Same issuer, as behind one load balancer: then a token `a` issued is good at `b`.
    let b = node(&url, Some(&a.issuer)).await;
    assert_nodes_agree(&a, &b).await;

    let email = "ketut@example.com";
    a.add_user(email, "Ketut Dewi", PASSWORD, true).await;
    let tokens = fresh_tokens(&a, &FIRST, email).await;
    let reply = userinfo(&b, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["email"], email);
}

#[tokio::test]
async fn a_node_with_another_master_key_refuses_to_start_and_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    let a = node(&url, None).await;
    let published = jwks(&a).await;

    let mut config = Config {
        data_dir: dir.path().join("node-c"),
        ..Config::default()
    };
    shared(&mut config, &url, OTHER_MASTER_KEY);
    config
        .validate()
        .expect("the configuration itself is valid");
    let Err(err) = kunci::app::assemble(config).await else {
        panic!("a node with another master key must not start");
    };
    let msg = format!("{err:#}");
    assert!(
        msg.contains("keys.master_key is not the master key it was sealed with"),
        "{msg}"
    );
    assert!(
        kids(&published).iter().any(|kid| msg.contains(kid)),
        "names the key: {msg}"
    );
    assert!(
        !msg.contains(OTHER_MASTER_KEY),
        "never shows the key: {msg}"
    );
    assert_eq!(
        a.kunci.database.list_keys().await.unwrap().len(),
        2,
        "the refused node stored nothing"
    );
}

#[tokio::test]
async fn nodes_starting_together_on_postgresql_share_their_keys() {
    const ENV: &str = "KUNCI_TEST_DATABASE_URL";
    let Some(admin_url) = std::env::var(ENV).ok().filter(|u| !u.is_empty()) else {
        let msg = format!("skipped: shared signing keys on PostgreSQL ({ENV} not set)");
        assert!(!require_all(), "{msg}, but KUNCI_TEST_REQUIRE_ALL=1");
        println!("{msg}");
        return;
    };
    // Declared first, so dropped last: after both nodes have closed their pools.
    let database = TempDatabase::create(&admin_url)
        .await
        .expect("create a test database");
    // Both start on an empty database at once: they race to migrate and to create the keys.
    let (a, b) = tokio::join!(node(&database.url, None), node(&database.url, None));
    assert_nodes_agree(&a, &b).await;
    assert_eq!(a.kunci.database.list_keys().await.unwrap().len(), 2);
}
