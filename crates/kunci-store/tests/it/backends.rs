//! What only one backend has: SQLite's files and settings, PostgreSQL's TLS and locking,
//! and migrations under both kinds of tokio runtime.

use crate::support::{PgDatabase, account, sqlite_in};
use kunci_core::ports::AccountRepo;
use kunci_store::{BackendKind, Database, PoolOptions, StoreError};

mod sqlite {
    use super::*;

    #[tokio::test]
    async fn creates_missing_directories_and_writes_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_in(&dir).await;
        assert_eq!(db.kind(), BackendKind::Sqlite);
        db.create(&account(1, 1_700_000_000)).await.unwrap();
        let file = dir.path().join("nested/data/kunci.db");
        assert!(file.is_file());
        assert!(
            dir.path().join("nested/data/kunci.db-wal").is_file(),
            "journal_mode=WAL"
        );
        db.close();
    }

    #[tokio::test]
    async fn data_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_in(&dir).await;
        let alice = account(1, 1_700_000_000);
        db.create(&alice).await.unwrap();
        db.close();
        drop(db);

        let url = format!(
            "sqlite://{}",
            dir.path().join("nested/data/kunci.db").display()
        );
        let again = Database::connect(&url, &PoolOptions::default())
            .await
            .unwrap();
        assert_eq!(again.migrate().await.unwrap(), 0);
        assert_eq!(again.find_by_id(&alice.id).await.unwrap(), Some(alice));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn migrates_on_a_multi_thread_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_in(&dir).await; // migrates
        assert_eq!(db.migrate().await.unwrap(), 0);
        db.create(&account(1, 1)).await.unwrap();
    }
}

mod postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn migrates_on_a_multi_thread_runtime() {
        let Some(pg) = PgDatabase::create().await else {
            return;
        };
        let result = async {
            let db = Database::connect(&pg.url, &PoolOptions::default()).await?;
            let first = db.migrate().await?;
            let second = db.migrate().await?;
            db.close();
            Ok::<_, StoreError>((db.kind(), first, second))
        }
        .await;
        pg.drop().await;
        let (kind, first, second) = result.unwrap();
        assert_eq!(kind, BackendKind::Postgres);
        assert!(first > 0);
        assert_eq!(second, 0);
    }

    #[tokio::test]
    async fn nodes_migrating_at_once_take_turns() {
        let Some(pg) = PgDatabase::create().await else {
            return;
        };
        let result = async {
            let a = Database::connect(&pg.url, &PoolOptions::default()).await?;
            let b = Database::connect(&pg.url, &PoolOptions::default()).await?;
            let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
            a.close();
            b.close();
            Ok::<_, StoreError>((ra?, rb?))
        }
        .await;
        pg.drop().await;
        let (ra, rb) = result.unwrap();
        assert!(
            ra + rb > 0 && (ra == 0 || rb == 0),
            "one node applied everything: {ra} and {rb}"
        );
    }

    #[tokio::test]
    async fn sslmode_require_never_falls_back_to_plain_text() {
        // The local test server speaks plain text (or TLS with a certificate no public CA
        // signed); either way `require` must refuse it rather than connect unencrypted.
        let Some(pg) = PgDatabase::create().await else {
            return;
        };
        let sep = if pg.url.contains('?') { '&' } else { '?' };
        let url = format!("{}{sep}sslmode=require", pg.url);
        let result = Database::connect(&url, &PoolOptions::default()).await;
        pg.drop().await;
        let err = result.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    }
}
