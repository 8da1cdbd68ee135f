//! Conformance cases for key rotation in `KeyRepo`: the successor and the retirement it
//! schedules are one step, pending rotations are not stacked, racing rotations keep one, and
//! only keys retired long enough are deleted. Re-exported by `conformance`, so `main.rs` runs
//! each on SQLite and PostgreSQL.

use crate::support::stored_key;
use kunci_core::ports::{KeyRepo, StoredKey};
use kunci_store::Database;

const T0: i64 = 1_700_000_000;

/// A successor of `alg` made at `created_at` that signs from `activates_at`.
fn successor(kid: &str, alg: &str, created_at: i64, activates_at: i64) -> StoredKey {
    StoredKey {
        activates_at,
        ..stored_key(kid, alg, created_at)
    }
}

pub async fn a_rotation_stores_the_successor_and_schedules_the_retirement_of_the_signer(
    db: Database,
) {
    let old = stored_key("es-old", "ES256", T0);
    let rs = stored_key("rs-1", "RS256", T0);
    let mut long_retired = stored_key("es-older", "ES256", T0 - 100);
    long_retired.retired_at = Some(T0 - 50);
    for k in [&old, &rs, &long_retired] {
        db.insert_key(k).await.unwrap();
    }
    let new = successor("es-new", "ES256", T0 + 1_000, T0 + 1_600);
    assert!(db.rotate_key(&new, T0 + 1_000).await.unwrap());

    let mut expected_old = old.clone();
    expected_old.retired_at = Some(T0 + 1_600);
    assert_eq!(
        db.list_keys().await.unwrap(),
        vec![long_retired, expected_old, rs, new],
        "the signer retires when its successor activates; other keys are untouched"
    );
}

pub async fn a_pending_rotation_is_not_stacked(db: Database) {
    db.insert_key(&stored_key("es-old", "ES256", T0))
        .await
        .unwrap();
    let first = successor("es-1", "ES256", T0 + 10, T0 + 610);
    assert!(db.rotate_key(&first, T0 + 10).await.unwrap());
    let before = db.list_keys().await.unwrap();
    let second = successor("es-2", "ES256", T0 + 20, T0 + 620);
    assert!(
        !db.rotate_key(&second, T0 + 20).await.unwrap(),
        "es-1 has not activated yet"
    );
    assert_eq!(db.list_keys().await.unwrap(), before, "nothing changed");

    // Once es-1 signs, rotating again retires es-1 and leaves es-old's date alone.
    assert!(db.rotate_key(&second, T0 + 610).await.unwrap());
    let retired: Vec<(String, Option<i64>)> = db
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.kid, k.retired_at))
        .collect();
    assert_eq!(
        retired,
        [
            ("es-old".to_owned(), Some(T0 + 610)),
            ("es-1".to_owned(), Some(T0 + 620)),
            ("es-2".to_owned(), None),
        ]
    );
}

pub async fn concurrent_rotations_of_one_algorithm_let_exactly_one_win(db: Database) {
    db.insert_key(&stored_key("es-old", "ES256", T0))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for n in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let key = successor(&format!("es-{n}"), "ES256", T0 + 5, T0 + 600 + n);
            db.rotate_key(&key, T0 + 5).await.unwrap()
        }));
    }
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    let keys = db.list_keys().await.unwrap();
    assert_eq!(won, 1, "{keys:?}");
    assert_eq!(keys.len(), 2, "{keys:?}");
    let winner = keys.iter().find(|k| k.kid != "es-old").unwrap();
    let old = keys.iter().find(|k| k.kid == "es-old").unwrap();
    assert_eq!(old.retired_at, Some(winner.activates_at));
    assert_eq!(winner.retired_at, None);
}

pub async fn retired_keys_are_deleted_only_once_retired_long_enough(db: Database) {
    let mut a = stored_key("retired-early", "ES256", T0);
    a.retired_at = Some(T0 + 100);
    let mut b = stored_key("retired-later", "RS256", T0);
    b.retired_at = Some(T0 + 200);
    let mut c = stored_key("retires-soon", "ES256", T0 + 50);
    c.retired_at = Some(T0 + 900);
    let d = stored_key("signing", "RS256", T0 + 150);
    for k in [&a, &b, &c, &d] {
        db.insert_key(k).await.unwrap();
    }
    assert_eq!(db.delete_retired_keys(T0 + 99).await.unwrap(), 0);
    assert_eq!(db.delete_retired_keys(T0 + 200).await.unwrap(), 2);
    assert_eq!(db.delete_retired_keys(T0 + 200).await.unwrap(), 0);
    assert_eq!(db.list_keys().await.unwrap(), vec![c, d.clone()]);
    db.delete_retired_keys(i64::MAX).await.unwrap();
    assert_eq!(
        db.list_keys().await.unwrap(),
        vec![d],
        "an unretired key is never deleted"
    );
}
