//! Conformance cases for `RefreshTokenRepo`: what every backend must do with refresh token
//! families. Re-exported by `conformance`, so `main.rs` runs each on SQLite and PostgreSQL.

use crate::support::account;
use kunci_core::PortError;
use kunci_core::claims_request::ClaimsRequest;
use kunci_core::ports::{AccountRepo, RefreshToken, RefreshTokenRepo};
use kunci_store::Database;

const T0: i64 = 1_700_000_000;

/// A live token of `family` for `account_id`; `n` keeps hashes apart.
fn token(n: u32, family: &str, account_id: &str) -> RefreshToken {
    RefreshToken {
        token_hash: format!("hash-{family}-{n:03}"),
        family_id: family.into(),
        client_id: "app".into(),
        account_id: account_id.into(),
        scopes: vec!["openid".into(), "offline_access".into(), "email".into()],
        session_id: "sess-1".into(),
        auth_time: T0 - 30,
        amr: vec!["pwd".into(), "otp".into()],
        created_at: T0,
        absolute_expires_at: T0 + 90 * 86_400,
        idle_expires_at: T0 + 30 * 86_400,
        used_at: None,
        claims: Some(
            ClaimsRequest::parse(r#"{"id_token":{"acr":{"essential":true,"values":["a"]}}}"#)
                .unwrap(),
        ),
        dpop_jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
    }
}

/// A database with one account, and that account's id.
async fn with_account(db: &Database) -> String {
    let a = account(1, T0 - 100);
    db.create(&a).await.unwrap();
    a.id
}

fn successor(of: &RefreshToken, n: u32, now: i64) -> RefreshToken {
    RefreshToken {
        token_hash: format!("hash-{}-{n:03}", of.family_id),
        created_at: now,
        idle_expires_at: now + 30 * 86_400,
        used_at: None,
        ..of.clone()
    }
}

pub async fn an_inserted_refresh_token_is_found_with_every_field(db: Database) {
    let acc = with_account(&db).await;
    let t = token(1, "fam-a", &acc);
    db.insert_refresh_token(&t).await.unwrap();
    assert_eq!(db.find_refresh_token(&t.token_hash).await.unwrap(), Some(t));
    assert_eq!(db.find_refresh_token("hash-unknown").await.unwrap(), None);
}

pub async fn a_second_refresh_token_with_the_same_hash_is_a_conflict(db: Database) {
    let acc = with_account(&db).await;
    let t = token(1, "fam-a", &acc);
    db.insert_refresh_token(&t).await.unwrap();
    let mut twin = token(1, "fam-b", &acc);
    twin.token_hash = t.token_hash.clone();
    let err = db.insert_refresh_token(&twin).await.unwrap_err();
    assert!(matches!(err, PortError::Conflict(_)), "{err:?}");
    assert_eq!(
        db.find_refresh_token(&t.token_hash).await.unwrap(),
        Some(t),
        "the first token is untouched"
    );
}

pub async fn a_refresh_token_for_an_unknown_account_is_refused(db: Database) {
    let err = db
        .insert_refresh_token(&token(1, "fam-a", "no-such-account"))
        .await
        .unwrap_err();
    assert!(matches!(err, PortError::Conflict(_)), "{err:?}");
}

pub async fn a_list_entry_that_would_not_read_back_is_refused(db: Database) {
    let acc = with_account(&db).await;
    let mut t = token(1, "fam-a", &acc);
    t.scopes = vec!["openid email".into()];
    let err = db.insert_refresh_token(&t).await.unwrap_err();
    assert!(matches!(err, PortError::Corrupt(_)), "{err:?}");
    let mut t = token(2, "fam-a", &acc);
    t.amr = vec![String::new()];
    assert!(db.insert_refresh_token(&t).await.is_err());
    assert_eq!(db.find_refresh_token(&t.token_hash).await.unwrap(), None);
}

pub async fn rotation_marks_the_token_used_and_stores_its_successor(db: Database) {
    let acc = with_account(&db).await;
    let first = token(1, "fam-a", &acc);
    db.insert_refresh_token(&first).await.unwrap();
    let next = successor(&first, 2, T0 + 60);

    assert!(
        db.rotate_refresh_token(&first.token_hash, &next, T0 + 60)
            .await
            .unwrap()
    );
    let old = db
        .find_refresh_token(&first.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.used_at, Some(T0 + 60));
    assert_eq!(
        RefreshToken {
            used_at: None,
            ..old
        },
        first,
        "nothing else about the old token changes"
    );
    assert_eq!(
        db.find_refresh_token(&next.token_hash).await.unwrap(),
        Some(next)
    );
}

pub async fn a_used_or_unknown_token_does_not_rotate_and_stores_nothing(db: Database) {
    let acc = with_account(&db).await;
    let first = token(1, "fam-a", &acc);
    db.insert_refresh_token(&first).await.unwrap();
    assert!(
        db.rotate_refresh_token(&first.token_hash, &successor(&first, 2, T0 + 1), T0 + 1)
            .await
            .unwrap()
    );

    let again = successor(&first, 3, T0 + 2);
    assert!(
        !db.rotate_refresh_token(&first.token_hash, &again, T0 + 2)
            .await
            .unwrap(),
        "a used token rotates once only"
    );
    assert_eq!(
        db.find_refresh_token(&again.token_hash).await.unwrap(),
        None
    );
    assert_eq!(
        db.find_refresh_token(&first.token_hash)
            .await
            .unwrap()
            .unwrap()
            .used_at,
        Some(T0 + 1),
        "the first use's time is kept"
    );

    let stray = successor(&first, 4, T0 + 3);
    assert!(
        !db.rotate_refresh_token("hash-unknown", &stray, T0 + 3)
            .await
            .unwrap()
    );
    assert_eq!(
        db.find_refresh_token(&stray.token_hash).await.unwrap(),
        None
    );
}

pub async fn concurrent_rotations_of_one_token_let_exactly_one_win(db: Database) {
    let acc = with_account(&db).await;
    let first = token(1, "fam-a", &acc);
    db.insert_refresh_token(&first).await.unwrap();
    let mut tasks = Vec::new();
    for n in 0..8 {
        let db = db.clone();
        let first = first.clone();
        tasks.push(tokio::spawn(async move {
            let next = successor(&first, 100 + n, T0 + 5);
            let won = db
                .rotate_refresh_token(&first.token_hash, &next, T0 + 5)
                .await
                .unwrap();
            (won, next.token_hash)
        }));
    }
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for t in tasks {
        let (won, hash) = t.await.unwrap();
        if won {
            winners.push(hash);
        } else {
            losers.push(hash);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation wins");
    assert!(
        db.find_refresh_token(&winners[0]).await.unwrap().is_some(),
        "the winner's successor is stored"
    );
    for hash in losers {
        assert_eq!(
            db.find_refresh_token(&hash).await.unwrap(),
            None,
            "a losing rotation stores nothing"
        );
    }
}

pub async fn revoking_a_family_deletes_all_its_tokens_and_only_those(db: Database) {
    let acc = with_account(&db).await;
    let a1 = token(1, "fam-a", &acc);
    db.insert_refresh_token(&a1).await.unwrap();
    let a2 = successor(&a1, 2, T0 + 1);
    assert!(
        db.rotate_refresh_token(&a1.token_hash, &a2, T0 + 1)
            .await
            .unwrap()
    );
    let b1 = token(1, "fam-b", &acc);
    db.insert_refresh_token(&b1).await.unwrap();

    assert_eq!(db.revoke_refresh_family("fam-a").await.unwrap(), 2);
    assert_eq!(db.find_refresh_token(&a1.token_hash).await.unwrap(), None);
    assert_eq!(db.find_refresh_token(&a2.token_hash).await.unwrap(), None);
    assert_eq!(
        db.find_refresh_token(&b1.token_hash).await.unwrap(),
        Some(b1),
        "other families are untouched"
    );
    assert_eq!(
        db.revoke_refresh_family("fam-a").await.unwrap(),
        0,
        "revoking again finds nothing"
    );
}

pub async fn purging_removes_what_can_no_longer_be_used_and_keeps_replay_evidence(db: Database) {
    let acc = with_account(&db).await;
    let now = T0 + 40 * 86_400;
    // Past its family's absolute end.
    let mut dead = token(1, "fam-dead", &acc);
    dead.absolute_expires_at = now - 1;
    dead.idle_expires_at = now - 1;
    // Unused and idle for too long.
    let mut idle = token(1, "fam-idle", &acc);
    idle.idle_expires_at = now;
    // Used (rotated) and past its own idle end, but the family lives: kept, so a replay of
    // it is still recognised.
    let mut used = token(1, "fam-live", &acc);
    used.idle_expires_at = now - 10;
    used.used_at = Some(now - 20);
    // The family's live token, used recently.
    let mut live = token(2, "fam-live", &acc);
    live.idle_expires_at = now + 86_400;
    for t in [&dead, &idle, &used, &live] {
        db.insert_refresh_token(t).await.unwrap();
    }

    assert_eq!(db.purge_expired_refresh_tokens(now).await.unwrap(), 2);
    assert_eq!(db.find_refresh_token(&dead.token_hash).await.unwrap(), None);
    assert_eq!(db.find_refresh_token(&idle.token_hash).await.unwrap(), None);
    assert_eq!(
        db.find_refresh_token(&used.token_hash).await.unwrap(),
        Some(used)
    );
    assert_eq!(
        db.find_refresh_token(&live.token_hash).await.unwrap(),
        Some(live)
    );
}

pub async fn extending_restarts_the_idle_lifetime_of_an_unused_token_only(db: Database) {
    let account_id = with_account(&db).await;
    let t = token(1, "fam-x", &account_id);
    db.insert_refresh_token(&t).await.unwrap();
    let later = t.idle_expires_at + 1000;
    assert!(db.extend_refresh_token(&t.token_hash, later).await.unwrap());
    let found = db.find_refresh_token(&t.token_hash).await.unwrap().unwrap();
    assert_eq!(found.idle_expires_at, later);
    assert_eq!(found.used_at, None, "extending is not using");
    assert!(
        !db.extend_refresh_token("hash-unknown", later)
            .await
            .unwrap()
    );
    // A used (rotated) token is never brought back to life.
    let next = successor(&t, 2, T0 + 10);
    assert!(
        db.rotate_refresh_token(&t.token_hash, &next, T0 + 10)
            .await
            .unwrap()
    );
    assert!(
        !db.extend_refresh_token(&t.token_hash, later + 1)
            .await
            .unwrap()
    );
    let used = db.find_refresh_token(&t.token_hash).await.unwrap().unwrap();
    assert_eq!(used.idle_expires_at, later);
}
