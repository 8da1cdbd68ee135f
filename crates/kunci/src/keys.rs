//! The signing keys, from one of two homes (`keys.storage`):
//!
//! - **files** (the embedded default, one node): PKCS#8 files in `<data_dir>/keys/`, generated
//!   on first start (directory 0700, files 0600) and loaded on every later start;
//! - **database** (many nodes): rows of the `signing_keys` table, each private key sealed with
//!   AES-256-GCM under the master key (`kunci_core::sealing`), so every node publishes the same
//!   JWKS and signs with the same keys. See `docs/adr/0002-shared-signing-keys.md`.
//!
//! Either way a key is generated only when missing (an RSA key takes a noticeable fraction of
//! a second), so start-up stays fast.

use anyhow::{Context, anyhow, bail};
use kunci_core::UnixTime;
use kunci_core::jose::{Alg, KeySet, SigningKey, generate_pkcs8};
use kunci_core::ports::{KeyRepo, StoredKey};
use kunci_core::sealing::{MasterKey, SealError};
use std::path::Path;

/// The algorithms Kunci always has a key for.
const ALGS: [Alg; 2] = [Alg::RS256, Alg::ES256];

/// Loads (or creates) one key per algorithm from `<data_dir>/keys/`.
pub fn load_or_generate(data_dir: &Path) -> anyhow::Result<KeySet> {
    let dir = data_dir.join("keys");
    create_private_dir(&dir)
        .with_context(|| format!("cannot create key directory {}", dir.display()))?;
    let mut keys = Vec::new();
    for alg in ALGS {
        let path = dir.join(format!("{}.pk8", alg.as_str().to_lowercase()));
        let der = if path.exists() {
            std::fs::read(&path)
                .with_context(|| format!("cannot read signing key {}", path.display()))?
        } else {
            let der = generate_pkcs8(alg).context("key generation failed")?;
            write_private(&path, &der)
                .with_context(|| format!("cannot write signing key {}", path.display()))?;
            tracing::info!(path = %path.display(), alg = alg.as_str(), "generated a new signing key");
            der
        };
        let key = SigningKey::from_pkcs8(alg, &der).with_context(|| {
            format!(
                "signing key {} is not a valid {} key",
                path.display(),
                alg.as_str()
            )
        })?;
        keys.push(key);
    }
    Ok(KeySet::new(keys))
}

/// Loads the keys every node shares from the database, first storing a new one for each
/// algorithm that has no active key.
///
/// Every key is published (retired ones too, so tokens they signed still verify); for each
/// algorithm the oldest active key (by `created_at`, then `kid`) signs. Nodes that read the
/// same rows therefore sign with the same keys, and a key added later (by rotation) is
/// published by every node before any node signs with it.
///
/// A key that does not decrypt stops start-up: the master key differs from the one the key
/// was sealed with, and signing with anything else would split the nodes.
pub async fn load_or_generate_shared(
    repo: &dyn KeyRepo,
    master: &MasterKey,
    now: UnixTime,
) -> anyhow::Result<KeySet> {
    let mut keys = open_all(repo, master).await?;
    let missing: Vec<Alg> = ALGS
        .into_iter()
        .filter(|alg| !keys.iter().any(|k| k.active && k.key.alg() == *alg))
        .collect();
    if !missing.is_empty() {
        for alg in missing {
            store_new_key(repo, master, alg, now).await?;
        }
        // Read again: when nodes start together, another node's key may have been stored
        // instead of ours, and everyone must use the same one.
        keys = open_all(repo, master).await?;
    }
    // Active before retired, then oldest first: `KeySet` signs with the first key of each alg.
    keys.sort_by(|a, b| {
        (!a.active, a.created_at, a.key.kid()).cmp(&(!b.active, b.created_at, b.key.kid()))
    });
    tracing::info!(
        keys = keys.len(),
        signing = ?keys.iter().filter(|k| k.active).map(|k| k.key.kid()).collect::<Vec<_>>(),
        "signing keys loaded from the database"
    );
    Ok(KeySet::new(keys.into_iter().map(|k| k.key).collect()))
}

/// A stored key, decrypted.
struct Opened {
    key: SigningKey,
    created_at: UnixTime,
    active: bool,
}

/// Reads and decrypts every stored key of an algorithm this version knows.
async fn open_all(repo: &dyn KeyRepo, master: &MasterKey) -> anyhow::Result<Vec<Opened>> {
    let rows = repo.list_keys().await.context(
        "cannot read the signing keys from the database (are its migrations applied? `kunci migrate`)",
    )?;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(alg) = Alg::parse(&row.alg) else {
            // Written by a newer version (e.g. during a rolling upgrade): not ours to use.
            tracing::warn!(kid = %row.kid, alg = %row.alg, "skipping a signing key of an unknown algorithm");
            continue;
        };
        keys.push(Opened {
            key: open(master, &row, alg)?,
            created_at: row.created_at,
            active: row.retired_at.is_none(),
        });
    }
    Ok(keys)
}

fn open(master: &MasterKey, row: &StoredKey, alg: Alg) -> anyhow::Result<SigningKey> {
    let kid = &row.kid;
    let der = master.open(kid.as_bytes(), &row.sealed).map_err(|e| match e {
        SealError::Rejected => anyhow!(
            "signing key {kid} in the database cannot be decrypted: keys.master_key is not the master key it was sealed with (every node sharing this database needs the same master key), or the row was altered"
        ),
        other => anyhow!("signing key {kid} in the database cannot be decrypted: {other}"),
    })?;
    let key = SigningKey::from_pkcs8(alg, &der).with_context(|| {
        format!(
            "signing key {kid} in the database is not a valid {} key",
            alg.as_str()
        )
    })?;
    if key.kid() != kid {
        bail!(
            "signing key {kid} in the database holds a different key (kid {}); the row was altered",
            key.kid()
        );
    }
    Ok(key)
}

/// Generates, seals and stores a key for `alg`, unless another node stored one first.
async fn store_new_key(
    repo: &dyn KeyRepo,
    master: &MasterKey,
    alg: Alg,
    now: UnixTime,
) -> anyhow::Result<()> {
    // RSA generation is CPU work worth a fraction of a second: keep it off the async workers.
    let der = tokio::task::spawn_blocking(move || generate_pkcs8(alg))
        .await
        .context("key generation was interrupted")?
        .context("key generation failed")?;
    let key = SigningKey::from_pkcs8(alg, &der).context("a freshly generated key is invalid")?;
    let stored = StoredKey {
        kid: key.kid().to_owned(),
        alg: alg.as_str().to_owned(),
        sealed: master
            .seal(key.kid().as_bytes(), &der)
            .context("cannot seal the new signing key")?,
        created_at: now,
        retired_at: None,
    };
    let inserted = repo
        .insert_key_if_none_active(&stored)
        .await
        .context("cannot store the new signing key in the database")?;
    if inserted {
        tracing::info!(kid = %stored.kid, alg = alg.as_str(), "generated a new signing key");
    } else {
        tracing::info!(
            alg = alg.as_str(),
            "another node stored a signing key first; using it"
        );
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes a file readable only by its owner, created with that mode so it is never exposed.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kunci_store::{Database, PoolOptions};

    async fn temp_db(dir: &tempfile::TempDir) -> Database {
        let url = format!("sqlite://{}", dir.path().join("kunci.db").display());
        let db = Database::connect(&url, &PoolOptions::default())
            .await
            .unwrap();
        db.migrate().await.unwrap();
        db
    }

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_bytes(&[byte; 32])
    }

    /// A new key of `alg`, sealed under `master` as the loader would store it.
    fn sealed(master: &MasterKey, alg: Alg, created_at: UnixTime) -> StoredKey {
        let der = generate_pkcs8(alg).unwrap();
        let kid = SigningKey::from_pkcs8(alg, &der).unwrap().kid().to_owned();
        StoredKey {
            sealed: master.seal(kid.as_bytes(), &der).unwrap(),
            kid,
            alg: alg.as_str().into(),
            created_at,
            retired_at: None,
        }
    }

    fn kids(set: &KeySet) -> Vec<String> {
        set.jwks().keys.iter().map(|k| k.kid.clone()).collect()
    }

    fn signer(set: &KeySet, alg: Alg) -> String {
        set.signing_key(alg).unwrap().kid().to_owned()
    }

    #[tokio::test]
    async fn the_first_start_stores_one_sealed_key_per_algorithm_and_later_starts_reuse_them() {
        let dir = tempfile::tempdir().unwrap();
        let db = temp_db(&dir).await;
        let first = load_or_generate_shared(&db, &master(1), 100).await.unwrap();
        let rows = db.list_keys().await.unwrap();
        assert_eq!(rows.len(), 2);
        assert!(
            rows.iter()
                .all(|r| r.created_at == 100 && r.retired_at.is_none())
        );
        for alg in ALGS {
            assert!(
                rows.iter()
                    .any(|r| r.alg == alg.as_str() && r.kid == signer(&first, alg))
            );
        }

        let again = load_or_generate_shared(&db, &master(1), 200).await.unwrap();
        assert_eq!(
            db.list_keys().await.unwrap(),
            rows,
            "nothing new was stored"
        );
        assert_eq!(kids(&again), kids(&first));
        let jwt = again
            .signing_key(Alg::ES256)
            .unwrap()
            .sign("JWT", &serde_json::json!({"a": 1}));
        assert_eq!(first.verify(&jwt).unwrap().1["a"], 1);
    }

    #[tokio::test]
    async fn a_different_master_key_stops_start_up_and_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let db = temp_db(&dir).await;
        let set = load_or_generate_shared(&db, &master(1), 100).await.unwrap();
        let err = load_or_generate_shared(&db, &master(2), 200)
            .await
            .unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("keys.master_key is not the master key"),
            "{msg}"
        );
        assert!(
            kids(&set).iter().any(|kid| msg.contains(kid.as_str())),
            "{msg}"
        );
        assert_eq!(db.list_keys().await.unwrap().len(), 2, "nothing was stored");
    }

    #[tokio::test]
    async fn the_oldest_active_key_signs_and_every_key_is_published() {
        let dir = tempfile::tempdir().unwrap();
        let db = temp_db(&dir).await;
        let m = master(1);
        let mut retired_es = sealed(&m, Alg::ES256, 10);
        retired_es.retired_at = Some(20);
        let oldest_es = sealed(&m, Alg::ES256, 30);
        let newer_es = sealed(&m, Alg::ES256, 40);
        let mut retired_rs = sealed(&m, Alg::RS256, 5);
        retired_rs.retired_at = Some(6);
        for k in [&newer_es, &retired_rs, &oldest_es, &retired_es] {
            db.insert_key(k).await.unwrap();
        }

        let set = load_or_generate_shared(&db, &m, 100).await.unwrap();
        assert_eq!(signer(&set, Alg::ES256), oldest_es.kid);
        let rows = db.list_keys().await.unwrap();
        assert_eq!(
            rows.len(),
            5,
            "RS256 had only a retired key, so one was generated"
        );
        let new_rs = rows.iter().find(|r| r.created_at == 100).unwrap();
        assert_eq!(
            signer(&set, Alg::RS256),
            new_rs.kid,
            "a retired key never signs"
        );
        let published = kids(&set);
        for row in &rows {
            assert!(published.contains(&row.kid), "{} is published", row.kid);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nodes_starting_together_sign_with_the_same_keys() {
        let dir = tempfile::tempdir().unwrap();
        let a = temp_db(&dir).await;
        let url = format!("sqlite://{}", dir.path().join("kunci.db").display());
        let b = Database::connect(&url, &PoolOptions::default())
            .await
            .unwrap();
        let m = master(1);
        let (sa, sb) = tokio::join!(
            load_or_generate_shared(&a, &m, 100),
            load_or_generate_shared(&b, &m, 100)
        );
        let (sa, sb) = (sa.unwrap(), sb.unwrap());
        assert_eq!(db_kids(&a).await.len(), 2, "one key per algorithm was kept");
        assert_eq!(kids(&sa), kids(&sb));
        for alg in ALGS {
            assert_eq!(signer(&sa, alg), signer(&sb, alg));
        }
    }

    async fn db_kids(db: &Database) -> Vec<String> {
        db.list_keys()
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.kid)
            .collect()
    }

    #[tokio::test]
    async fn rows_of_unknown_algorithms_are_skipped_and_mislabelled_rows_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = temp_db(&dir).await;
        let m = master(1);
        let mut future = sealed(&m, Alg::ES256, 1);
        future.alg = "EdDSA".into();
        db.insert_key(&future).await.unwrap();
        let set = load_or_generate_shared(&db, &m, 100).await.unwrap();
        assert!(
            !kids(&set).contains(&future.kid),
            "not published by this version"
        );
        assert_eq!(
            db.list_keys().await.unwrap().len(),
            3,
            "RS256 and ES256 generated"
        );

        // Sealed for the kid it claims, but holding another key: only a master-key holder
        // could write this, and it still must not be trusted.
        let real = sealed(&m, Alg::ES256, 1);
        let der = m.open(real.kid.as_bytes(), &real.sealed).unwrap();
        let liar = StoredKey {
            kid: "not-the-thumbprint".into(),
            sealed: m.seal(b"not-the-thumbprint", &der).unwrap(),
            ..real
        };
        db.insert_key(&liar).await.unwrap();
        let msg = format!(
            "{:#}",
            load_or_generate_shared(&db, &m, 200).await.unwrap_err()
        );
        assert!(
            msg.contains("not-the-thumbprint") && msg.contains("different key"),
            "{msg}"
        );
    }
}
