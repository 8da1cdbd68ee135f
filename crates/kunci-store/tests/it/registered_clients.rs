//! Conformance cases for `ClientRepo`: what every backend must do with dynamically registered
//! clients (RFC 7591/7592). Re-exported by `conformance`, so `main.rs` runs each on SQLite and
//! PostgreSQL.

use crate::support::{account, consent};
use kunci_core::PortError;
use kunci_core::ports::{
    AccountRepo, ClientRepo, ConsentRepo, RefreshToken, RefreshTokenRepo, RegisteredClient,
};
use kunci_store::Database;

const T0: i64 = 1_700_000_000;

fn registered(id: &str) -> RegisteredClient {
    RegisteredClient {
        client_id: id.into(),
        metadata: r#"{"redirect_uris":["https://rp.example/cb"],"client_name":"Toko 李 ✓"}"#.into(),
        secret_sha256: Some("ab".repeat(32)),
        registration_token_hash: format!("reg-token-hash-{id}"),
        issued_at: T0,
        updated_at: T0,
    }
}

fn refresh_token(hash: &str, client_id: &str, account_id: &str) -> RefreshToken {
    RefreshToken {
        token_hash: hash.into(),
        family_id: format!("fam-{hash}"),
        client_id: client_id.into(),
        account_id: account_id.into(),
        scopes: vec!["openid".into(), "offline_access".into()],
        session_id: "sess-1".into(),
        auth_time: T0,
        amr: vec!["pwd".into()],
        created_at: T0,
        absolute_expires_at: T0 + 86_400,
        idle_expires_at: T0 + 3_600,
        used_at: None,
        claims: None,
        dpop_jkt: None,
    }
}

pub async fn a_registered_client_is_found_with_every_field(db: Database) {
    let confidential = registered("dyn-a");
    let public = RegisteredClient {
        secret_sha256: None,
        ..registered("dyn-b")
    };
    db.insert_registered_client(&confidential).await.unwrap();
    db.insert_registered_client(&public).await.unwrap();
    assert_eq!(
        db.find_registered_client("dyn-a").await.unwrap(),
        Some(confidential)
    );
    assert_eq!(
        db.find_registered_client("dyn-b").await.unwrap(),
        Some(public),
        "a client without a secret round-trips"
    );
    assert_eq!(
        db.find_registered_client("dyn-A").await.unwrap(),
        None,
        "ids are exact"
    );
}

pub async fn a_second_registered_client_with_the_same_id_is_a_conflict(db: Database) {
    let first = registered("dyn-a");
    db.insert_registered_client(&first).await.unwrap();
    let twin = RegisteredClient {
        metadata: "{}".into(),
        registration_token_hash: "another".into(),
        ..registered("dyn-a")
    };
    let err = db.insert_registered_client(&twin).await.unwrap_err();
    assert!(matches!(err, PortError::Conflict(_)), "{err:?}");
    assert_eq!(
        db.find_registered_client("dyn-a").await.unwrap(),
        Some(first),
        "the first registration is untouched"
    );
}

pub async fn an_update_replaces_metadata_secret_and_time_only(db: Database) {
    let original = registered("dyn-a");
    db.insert_registered_client(&original).await.unwrap();
    db.insert_registered_client(&registered("dyn-b"))
        .await
        .unwrap();
    let update = RegisteredClient {
        metadata: r#"{"redirect_uris":["https://rp.example/other"]}"#.into(),
        secret_sha256: None,
        registration_token_hash: "ignored-by-update".into(),
        issued_at: T0 + 99,
        updated_at: T0 + 60,
        ..original.clone()
    };
    assert!(db.update_registered_client(&update).await.unwrap());
    let stored = db.find_registered_client("dyn-a").await.unwrap().unwrap();
    assert_eq!(stored.metadata, update.metadata);
    assert_eq!(stored.secret_sha256, None);
    assert_eq!(stored.updated_at, T0 + 60);
    assert_eq!(stored.issued_at, T0, "issued_at never changes");
    assert_eq!(
        stored.registration_token_hash, original.registration_token_hash,
        "the registration access token stays"
    );
    assert_eq!(
        db.find_registered_client("dyn-b").await.unwrap(),
        Some(registered("dyn-b")),
        "other clients are untouched"
    );
    let unknown = registered("dyn-unknown");
    assert!(!db.update_registered_client(&unknown).await.unwrap());
    assert_eq!(
        db.find_registered_client("dyn-unknown").await.unwrap(),
        None
    );
}

pub async fn deleting_a_client_deletes_its_tokens_and_consents_and_nothing_else(db: Database) {
    let acc = account(1, T0 - 100);
    db.create(&acc).await.unwrap();
    db.insert_registered_client(&registered("dyn-a"))
        .await
        .unwrap();
    db.insert_registered_client(&registered("dyn-b"))
        .await
        .unwrap();
    for (hash, client) in [("t1", "dyn-a"), ("t2", "dyn-a"), ("t3", "dyn-b")] {
        db.insert_refresh_token(&refresh_token(hash, client, &acc.id))
            .await
            .unwrap();
    }
    db.save(&consent(&acc.id, "dyn-a", &["openid"], T0))
        .await
        .unwrap();
    db.save(&consent(&acc.id, "dyn-b", &["openid"], T0))
        .await
        .unwrap();

    assert!(db.delete_registered_client("dyn-a").await.unwrap());

    assert_eq!(db.find_registered_client("dyn-a").await.unwrap(), None);
    assert_eq!(db.find_refresh_token("t1").await.unwrap(), None);
    assert_eq!(db.find_refresh_token("t2").await.unwrap(), None);
    assert!(db.find(&acc.id, "dyn-a").await.unwrap().is_none());
    assert!(db.find_registered_client("dyn-b").await.unwrap().is_some());
    assert!(db.find_refresh_token("t3").await.unwrap().is_some());
    assert!(db.find(&acc.id, "dyn-b").await.unwrap().is_some());
    assert!(
        !db.delete_registered_client("dyn-a").await.unwrap(),
        "a second delete finds nothing"
    );
}

pub async fn concurrent_registrations_of_one_id_let_exactly_one_win(db: Database) {
    let mut tasks = Vec::new();
    for n in 0..6 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let c = RegisteredClient {
                registration_token_hash: format!("hash-{n}"),
                ..registered("dyn-race")
            };
            db.insert_registered_client(&c).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(PortError::Conflict(_)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(won, 1);
}
