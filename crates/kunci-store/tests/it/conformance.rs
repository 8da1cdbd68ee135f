//! The store conformance suite: what every backend of the durable ports must do.
//!
//! Each case takes a fresh, migrated, empty [`Database`] and talks to it only through the
//! core's traits, so the same case runs unchanged on SQLite and PostgreSQL (see `main.rs`).

use crate::support::{account, consent, stored_key};
use kunci_core::PortError;
use kunci_core::ports::{AccountRepo, ConsentRepo, DurableStore, KeyRepo};
use kunci_store::Database;

pub use crate::key_rotation::*;
pub use crate::refresh_tokens::*;
pub use crate::registered_clients::*;

pub async fn a_created_account_is_found_by_id_and_by_email(db: Database) {
    let mut alice = account(1, 1_700_000_000);
    alice.name = "Siti Rahayu 李 ✓".into();
    alice.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
    alice.locale = Some("id".into());
    alice.email_verified = true;
    let bob = account(2, 1_700_000_005);
    db.create(&alice).await.unwrap();
    db.create(&bob).await.unwrap();

    assert_eq!(db.find_by_id(&alice.id).await.unwrap(), Some(alice.clone()));
    assert_eq!(
        db.find_by_email(&alice.email).await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(
        db.find_by_id(&bob.id).await.unwrap(),
        Some(bob.clone()),
        "None fields round-trip"
    );
    assert_eq!(db.find_by_email(&bob.email).await.unwrap(), Some(bob));
}

pub async fn email_lookup_is_exact(db: Database) {
    let alice = account(1, 1_700_000_000);
    db.create(&alice).await.unwrap();
    // Callers normalise; the store must not second-guess them (nor match by prefix).
    assert_eq!(db.find_by_email("USER1@EXAMPLE.TEST").await.unwrap(), None);
    assert_eq!(db.find_by_email("user1@example.tes").await.unwrap(), None);
    assert_eq!(db.find_by_email("user1@example.test ").await.unwrap(), None);
}

pub async fn a_second_account_with_the_same_email_is_a_conflict(db: Database) {
    let alice = account(1, 1_700_000_000);
    db.create(&alice).await.unwrap();

    let mut twin = account(2, 1_700_000_001);
    twin.email = alice.email.clone();
    let err = db.create(&twin).await.unwrap_err();
    assert!(matches!(err, PortError::Conflict(_)), "{err:?}");
    assert!(
        !err.to_string().contains(&alice.email),
        "no PII in errors: {err}"
    );

    let mut same_id = account(3, 1_700_000_002);
    same_id.id = alice.id.clone();
    let err = db.create(&same_id).await.unwrap_err();
    assert!(matches!(err, PortError::Conflict(_)), "{err:?}");

    assert_eq!(db.count().await.unwrap(), 1);
    assert_eq!(
        db.find_by_id(&alice.id).await.unwrap(),
        Some(alice),
        "the first account is untouched"
    );
}

pub async fn concurrent_creates_with_one_email_let_exactly_one_win(db: Database) {
    let mut tasks = Vec::new();
    for n in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut a = account(n, 1_700_000_000);
            a.email = "race@example.test".into();
            db.create(&a).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(PortError::Conflict(_)) => {}
            Err(other) => panic!("expected a conflict, got {other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(db.count().await.unwrap(), 1);
}

pub async fn marking_an_email_verified_sets_the_flag_and_the_update_time(db: Database) {
    let alice = account(1, 1_700_000_000);
    let bob = account(2, 1_700_000_000);
    db.create(&alice).await.unwrap();
    db.create(&bob).await.unwrap();

    assert!(
        db.mark_email_verified(&alice.id, 1_700_000_100)
            .await
            .unwrap()
    );
    let stored = db.find_by_id(&alice.id).await.unwrap().unwrap();
    assert!(stored.email_verified);
    assert_eq!(stored.updated_at, 1_700_000_100);
    assert_eq!(stored.created_at, 1_700_000_000);
    assert_eq!(
        db.find_by_id(&bob.id).await.unwrap(),
        Some(bob),
        "other accounts are untouched"
    );
}

pub async fn setting_a_password_hash_replaces_the_old_one(db: Database) {
    let alice = account(1, 1_700_000_000);
    db.create(&alice).await.unwrap();

    assert!(
        db.set_password_hash(&alice.id, "$argon2id$first", 1_700_000_010)
            .await
            .unwrap()
    );
    assert!(
        db.set_password_hash(&alice.id, "$argon2id$second", 1_700_000_020)
            .await
            .unwrap()
    );
    let stored = db.find_by_id(&alice.id).await.unwrap().unwrap();
    assert_eq!(stored.password_hash.as_deref(), Some("$argon2id$second"));
    assert_eq!(stored.updated_at, 1_700_000_020);
    assert!(!stored.email_verified, "other fields are untouched");
}

pub async fn unknown_ids_are_none_or_false(db: Database) {
    db.create(&account(1, 1_700_000_000)).await.unwrap();
    assert_eq!(db.find_by_id("nobody").await.unwrap(), None);
    assert_eq!(db.find_by_email("nobody@example.test").await.unwrap(), None);
    assert!(!db.mark_email_verified("nobody", 1).await.unwrap());
    assert!(
        !db.set_password_hash("nobody", "$argon2id$x", 1)
            .await
            .unwrap()
    );
    assert_eq!(db.find("nobody", "app").await.unwrap(), None);
    assert_eq!(db.find("acc-0001", "unknown-app").await.unwrap(), None);
    assert!(!db.revoke("nobody", "app").await.unwrap());
    assert!(!db.revoke("acc-0001", "app").await.unwrap());
    assert_eq!(db.list_for_account("nobody").await.unwrap(), vec![]);
    assert_eq!(db.count().await.unwrap(), 1);
}

pub async fn accounts_are_listed_oldest_first_in_stable_pages(db: Database) {
    // Inserted out of order, with ties on created_at that the id must break.
    let times = [(5, 300), (1, 100), (4, 200), (2, 200), (3, 200), (6, 50)];
    for (n, t) in times {
        db.create(&account(n, t)).await.unwrap();
    }
    let ids = |accounts: Vec<kunci_core::ports::Account>| {
        accounts.into_iter().map(|a| a.id).collect::<Vec<_>>()
    };
    let expected = [
        "acc-0006", "acc-0001", "acc-0002", "acc-0003", "acc-0004", "acc-0005",
    ];

    assert_eq!(ids(db.list(100, 0).await.unwrap()), expected);
    let mut paged = Vec::new();
    for page in 0..3 {
        let got = ids(db.list(2, page * 2).await.unwrap());
        assert_eq!(got.len(), 2, "page {page}");
        paged.extend(got);
    }
    assert_eq!(paged, expected, "pages neither overlap nor skip");
    assert_eq!(
        ids(db.list(4, 4).await.unwrap()),
        ["acc-0004", "acc-0005"],
        "short last page"
    );
    assert!(db.list(10, 6).await.unwrap().is_empty(), "past the end");
    assert!(db.list(0, 0).await.unwrap().is_empty(), "limit 0");
    assert_eq!(
        db.list(1, 0).await.unwrap()[0],
        account(6, 50),
        "full records come back"
    );
}

pub async fn count_counts_accounts(db: Database) {
    assert_eq!(db.count().await.unwrap(), 0);
    for n in 1..=3 {
        db.create(&account(n, 1_700_000_000 + i64::from(n)))
            .await
            .unwrap();
        assert_eq!(db.count().await.unwrap(), u64::from(n));
    }
}

pub async fn a_saved_consent_is_found_with_its_scopes_in_order(db: Database) {
    db.create(&account(1, 1_700_000_000)).await.unwrap();
    let c = consent(
        "acc-0001",
        "shop-web",
        &["email", "openid", "profile"],
        1_700_000_050,
    );
    db.save(&c).await.unwrap();
    assert_eq!(db.find("acc-0001", "shop-web").await.unwrap(), Some(c));

    let empty = consent("acc-0001", "no-scopes", &[], 1_700_000_060);
    db.save(&empty).await.unwrap();
    assert_eq!(db.find("acc-0001", "no-scopes").await.unwrap(), Some(empty));
}

pub async fn saving_a_consent_again_replaces_it(db: Database) {
    db.create(&account(1, 1_700_000_000)).await.unwrap();
    db.save(&consent("acc-0001", "shop-web", &["openid"], 1_700_000_050))
        .await
        .unwrap();
    let wider = consent(
        "acc-0001",
        "shop-web",
        &["email", "offline_access", "openid"],
        1_700_000_090,
    );
    db.save(&wider).await.unwrap();

    assert_eq!(
        db.find("acc-0001", "shop-web").await.unwrap(),
        Some(wider.clone())
    );
    assert_eq!(
        db.list_for_account("acc-0001").await.unwrap(),
        vec![wider],
        "replaced, not added"
    );
}

pub async fn revoking_a_consent_removes_only_that_consent(db: Database) {
    db.create(&account(1, 1_700_000_000)).await.unwrap();
    db.create(&account(2, 1_700_000_000)).await.unwrap();
    let keep_other_client = consent("acc-0001", "blog", &["openid"], 1_700_000_001);
    let keep_other_account = consent("acc-0002", "shop-web", &["openid"], 1_700_000_002);
    db.save(&consent("acc-0001", "shop-web", &["openid"], 1_700_000_003))
        .await
        .unwrap();
    db.save(&keep_other_client).await.unwrap();
    db.save(&keep_other_account).await.unwrap();

    assert!(db.revoke("acc-0001", "shop-web").await.unwrap());
    assert_eq!(db.find("acc-0001", "shop-web").await.unwrap(), None);
    assert!(
        !db.revoke("acc-0001", "shop-web").await.unwrap(),
        "nothing left to revoke"
    );
    assert_eq!(
        db.find("acc-0001", "blog").await.unwrap(),
        Some(keep_other_client)
    );
    assert_eq!(
        db.find("acc-0002", "shop-web").await.unwrap(),
        Some(keep_other_account)
    );
}

pub async fn consents_are_listed_per_account_by_client(db: Database) {
    db.create(&account(1, 1_700_000_000)).await.unwrap();
    db.create(&account(2, 1_700_000_000)).await.unwrap();
    let zeta = consent("acc-0001", "zeta", &["openid"], 1);
    let alpha = consent("acc-0001", "alpha", &["openid", "profile"], 2);
    let mid = consent("acc-0001", "mid", &["email"], 3);
    for c in [
        &zeta,
        &alpha,
        &mid,
        &consent("acc-0002", "alpha", &["openid"], 4),
    ] {
        db.save(c).await.unwrap();
    }
    assert_eq!(
        db.list_for_account("acc-0001").await.unwrap(),
        vec![alpha, mid, zeta]
    );
    assert_eq!(db.list_for_account("acc-0002").await.unwrap().len(), 1);
}

pub async fn a_consent_for_an_unknown_account_is_refused(db: Database) {
    let err = db
        .save(&consent("ghost", "shop-web", &["openid"], 1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PortError::Conflict(_)),
        "foreign keys are enforced: {err:?}"
    );
    assert_eq!(db.find("ghost", "shop-web").await.unwrap(), None);
}

pub async fn a_scope_that_would_not_read_back_is_refused(db: Database) {
    db.create(&account(1, 1_700_000_000)).await.unwrap();
    for bad in [
        &["openid", "two words"][..],
        &["openid", ""][..],
        &["tab\tscope"][..],
    ] {
        let err = db
            .save(&consent("acc-0001", "app", bad, 1))
            .await
            .unwrap_err();
        assert!(matches!(err, PortError::Corrupt(_)), "{bad:?}: {err:?}");
    }
    assert_eq!(db.find("acc-0001", "app").await.unwrap(), None);
}

pub async fn stored_signing_keys_are_listed_as_inserted(db: Database) {
    assert!(
        db.list_keys().await.unwrap().is_empty(),
        "a fresh store has no keys"
    );
    let mut rs = stored_key("kid-rs", "RS256", 1_700_000_000);
    // Sealed bytes are binary: every byte value must survive, NUL and high bytes included.
    rs.sealed = (0..=255u8).chain([0, 0, 255]).collect();
    let mut es = stored_key("kid-es", "ES256", 1_700_000_001);
    es.retired_at = Some(1_700_000_900);
    db.insert_key(&rs).await.unwrap();
    db.insert_key(&es).await.unwrap();
    assert_eq!(db.list_keys().await.unwrap(), vec![rs, es]);
}

pub async fn a_second_key_with_the_same_kid_is_a_conflict(db: Database) {
    let first = stored_key("kid-1", "ES256", 1_700_000_000);
    db.insert_key(&first).await.unwrap();
    let mut twin = stored_key("kid-1", "RS256", 1_700_000_005);
    twin.sealed = vec![9; 40];
    let err = db.insert_key(&twin).await.unwrap_err();
    assert!(matches!(err, PortError::Conflict(_)), "{err:?}");
    assert_eq!(
        db.list_keys().await.unwrap(),
        vec![first],
        "the first key is untouched"
    );
}

pub async fn concurrent_inserts_of_one_kid_let_exactly_one_win(db: Database) {
    let mut tasks = Vec::new();
    for n in 0..8u8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut k = stored_key("kid-race", "ES256", 1_700_000_000);
            k.sealed = vec![n; 48];
            db.insert_key(&k).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(PortError::Conflict(_)) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(db.list_keys().await.unwrap().len(), 1);
}

pub async fn keys_are_listed_by_creation_time_then_kid(db: Database) {
    // Every node must pick the same signing key, so the order is total and stable.
    let keys = [
        stored_key("kid-c", "RS256", 1_700_000_002),
        stored_key("kid-b", "ES256", 1_700_000_001),
        stored_key("kid-z", "ES256", 1_700_000_000),
        stored_key("kid-a", "RS256", 1_700_000_001),
        stored_key("kid-m", "RS256", 1_700_000_000),
    ];
    for k in &keys {
        db.insert_key(k).await.unwrap();
    }
    let order: Vec<String> = db
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(order, ["kid-m", "kid-z", "kid-a", "kid-b", "kid-c"]);
}

pub async fn a_key_is_added_only_while_its_algorithm_has_no_active_key(db: Database) {
    let mut old = stored_key("es-old", "ES256", 1_700_000_000);
    old.retired_at = Some(1_700_000_100);
    db.insert_key(&old).await.unwrap();
    let mut es = stored_key("es-1", "ES256", 1_700_000_200);
    es.sealed = (0..=255u8).rev().collect();
    assert!(
        db.insert_key_if_none_active(&es).await.unwrap(),
        "a retired key does not count as active"
    );
    assert!(
        !db.insert_key_if_none_active(&stored_key("es-2", "ES256", 1_700_000_300))
            .await
            .unwrap(),
        "an active ES256 key exists"
    );
    let rs = stored_key("rs-1", "RS256", 1_700_000_300);
    assert!(
        db.insert_key_if_none_active(&rs).await.unwrap(),
        "algorithms are independent"
    );
    let err = db
        .insert_key_if_none_active(&stored_key("es-1", "EdDSA", 1_700_000_400))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PortError::Conflict(_)),
        "a duplicate kid is still a conflict: {err:?}"
    );
    assert_eq!(db.list_keys().await.unwrap(), vec![old, es, rs]);
}

pub async fn racing_nodes_store_one_first_key_per_algorithm(db: Database) {
    let mut tasks = Vec::new();
    for n in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let alg = if n % 2 == 0 { "ES256" } else { "RS256" };
            let key = stored_key(&format!("kid-{n}"), alg, 1_700_000_000);
            db.insert_key_if_none_active(&key).await.unwrap()
        }));
    }
    let mut stored = 0;
    for t in tasks {
        stored += usize::from(t.await.unwrap());
    }
    let keys = db.list_keys().await.unwrap();
    assert_eq!(stored, 2, "{keys:?}");
    let mut algs: Vec<_> = keys.iter().map(|k| k.alg.as_str()).collect();
    algs.sort_unstable();
    assert_eq!(algs, ["ES256", "RS256"]);
}

pub async fn ping_answers(db: Database) {
    db.ping().await.unwrap();
    db.close();
    let err = db.ping().await.unwrap_err();
    assert!(
        matches!(err, PortError::Unavailable(_)),
        "a closed pool is unavailable: {err:?}"
    );
}

pub async fn migrating_again_applies_nothing(db: Database) {
    db.create(&account(1, 1_700_000_000)).await.unwrap();
    assert_eq!(db.migrate().await.unwrap(), 0);
    assert_eq!(db.migrate().await.unwrap(), 0);
    assert_eq!(db.count().await.unwrap(), 1, "data survives");
}
