//! Key storage on both homes: first start, shared keys between nodes, rotation with overlap,
//! reloading, and deletion once every token a key signed has expired.

use super::*;
use kunci_store::{Database, PoolOptions};

const RETENTION: i64 = 660;

fn policy(algs: &[Alg]) -> KeyPolicy {
    KeyPolicy {
        algs: algs.to_vec(),
        retention: RETENTION,
    }
}

fn default_policy() -> KeyPolicy {
    policy(&[Alg::RS256, Alg::ES256])
}

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

fn shared(db: &Database, byte: u8) -> KeySource {
    KeySource::Database {
        repo: Arc::new(db.clone()),
        master: Arc::new(master(byte)),
    }
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
        activates_at: created_at,
        retired_at: None,
    }
}

fn kids(set: &KeySet) -> Vec<String> {
    set.jwks().keys.iter().map(|k| k.kid.clone()).collect()
}

fn signer(set: &KeySet, alg: Alg) -> String {
    set.signing_key(alg).unwrap().kid().to_owned()
}

#[test]
fn the_default_overlap_outlasts_the_jwks_cache_and_the_reload_interval() {
    let floor = JWKS_MAX_AGE_SECS as u64 + RELOAD_INTERVAL.as_secs();
    assert!(DEFAULT_OVERLAP_SECS > floor);
}

#[test]
fn retired_keys_stay_published_for_the_longest_token_lifetime_plus_margin() {
    let mut config = Config::default();
    config.tokens.access_token_ttl_secs = 900;
    config.tokens.id_token_ttl_secs = 300;
    let p = KeyPolicy::from_config(&config);
    assert_eq!(p.retention, 900 + RETENTION_MARGIN_SECS);
    assert_eq!(p.algs, [Alg::RS256, Alg::ES256]);
    config.tokens.access_token_ttl_secs = 10;
    config.tokens.id_token_ttl_secs = 10;
    let p = KeyPolicy::from_config(&config);
    assert_eq!(p.retention, LOGOUT_TOKEN_TTL + RETENTION_MARGIN_SECS);
}

#[tokio::test]
async fn the_first_start_stores_one_sealed_key_per_algorithm_and_later_starts_reuse_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(&dir).await;
    let source = shared(&db, 1);
    let first = source
        .load_or_generate(&default_policy(), 100)
        .await
        .unwrap();
    let rows = db.list_keys().await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r.created_at == 100 && r.activates_at == 100 && r.retired_at.is_none())
    );
    for alg in [Alg::RS256, Alg::ES256] {
        assert!(
            rows.iter()
                .any(|r| r.alg == alg.as_str() && r.kid == signer(&first, alg))
        );
    }

    let again = source
        .load_or_generate(&default_policy(), 200)
        .await
        .unwrap();
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
async fn enabled_algorithms_get_keys_and_disabled_ones_are_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(&dir).await;
    let all = policy(&[Alg::RS256, Alg::ES256, Alg::EdDSA, Alg::PS256]);
    let set = shared(&db, 1).load_or_generate(&all, 100).await.unwrap();
    assert_eq!(set.algs().len(), 4);
    let jwks: serde_json::Value = serde_json::from_str(set.jwks_json()).unwrap();
    let ktys: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kty"].as_str().unwrap())
        .collect();
    assert!(ktys.contains(&"OKP"), "{ktys:?}");
    assert_ne!(
        signer(&set, Alg::RS256),
        signer(&set, Alg::PS256),
        "PS256 has an RSA key of its own"
    );

    let fewer = shared(&db, 1)
        .load_or_generate(&default_policy(), 200)
        .await
        .unwrap();
    assert_eq!(fewer.algs(), [Alg::RS256, Alg::ES256]);
    assert_eq!(db.list_keys().await.unwrap().len(), 4, "nothing deleted");
}

#[tokio::test]
async fn a_different_master_key_stops_start_up_and_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(&dir).await;
    let set = shared(&db, 1)
        .load_or_generate(&default_policy(), 100)
        .await
        .unwrap();
    let err = shared(&db, 2)
        .load_or_generate(&default_policy(), 200)
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
async fn the_oldest_active_key_signs_and_every_unexpired_key_is_published() {
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

    let set = shared(&db, 1)
        .load_or_generate(&default_policy(), 100)
        .await
        .unwrap();
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

    // Once every token they signed has expired, retired keys leave the JWKS.
    let later = shared(&db, 1)
        .load(&default_policy(), 20 + RETENTION)
        .await
        .unwrap();
    let published = kids(&later);
    assert!(!published.contains(&retired_es.kid) && !published.contains(&retired_rs.kid));
    assert_eq!(published.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_sign_with_the_same_keys() {
    let dir = tempfile::tempdir().unwrap();
    let a = temp_db(&dir).await;
    let url = format!("sqlite://{}", dir.path().join("kunci.db").display());
    let b = Database::connect(&url, &PoolOptions::default())
        .await
        .unwrap();
    let (sa, sb) = (shared(&a, 1), shared(&b, 1));
    let p = default_policy();
    let (sa, sb) = tokio::join!(sa.load_or_generate(&p, 100), sb.load_or_generate(&p, 100));
    let (sa, sb) = (sa.unwrap(), sb.unwrap());
    assert_eq!(
        a.list_keys().await.unwrap().len(),
        2,
        "one key per algorithm was kept"
    );
    assert_eq!(kids(&sa), kids(&sb));
    for alg in [Alg::RS256, Alg::ES256] {
        assert_eq!(signer(&sa, alg), signer(&sb, alg));
    }
}

#[tokio::test]
async fn rows_of_unknown_algorithms_are_skipped_and_mislabelled_rows_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(&dir).await;
    let m = master(1);
    let mut future = sealed(&m, Alg::ES256, 1);
    future.alg = "ML-DSA-44".into();
    db.insert_key(&future).await.unwrap();
    let set = shared(&db, 1)
        .load_or_generate(&default_policy(), 100)
        .await
        .unwrap();
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
        shared(&db, 1)
            .load_or_generate(&default_policy(), 200)
            .await
            .unwrap_err()
    );
    assert!(
        msg.contains("not-the-thumbprint") && msg.contains("different key"),
        "{msg}"
    );
}

/// `(kid, state)` of the ES256 keys at `now`, the key `first` first.
async fn es256_states(
    source: &KeySource,
    p: &KeyPolicy,
    first: &str,
    now: UnixTime,
) -> Vec<(String, &'static str)> {
    let mut v: Vec<(String, &'static str)> = source
        .list()
        .await
        .unwrap()
        .iter()
        .filter(|k| k.alg == "ES256")
        .map(|k| (k.kid.clone(), state_of(k, p, now).as_str()))
        .collect();
    v.sort_by_key(|(kid, _)| kid != first);
    v
}

/// The rotation story, told once per home: the new key is published before it signs, the
/// old one signs until then and stays published until its tokens have expired.
async fn rotation_overlaps_then_hands_over_then_forgets_the_old_key(source: KeySource) {
    let p = default_policy();
    let keys = SharedKeys::new(source.load_or_generate(&p, 1_000).await.unwrap());
    let old = signer(&keys.current(), Alg::ES256);
    let old_rs = signer(&keys.current(), Alg::RS256);

    let r = source.rotate(Alg::ES256, 600, 2_000).await.unwrap();
    assert_eq!(
        (r.activates_at, r.retiring.clone()),
        (2_600, vec![old.clone()])
    );
    let err = source.rotate(Alg::ES256, 600, 2_100).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("rotation of ES256 is under way"),
        "{err:#}"
    );
    assert_eq!(
        es256_states(&source, &p, &old, 2_100).await,
        [(old.clone(), "active"), (r.kid.clone(), "next")]
    );

    // A running node picks the new key up at its next reload, and publishes it at once.
    assert!(reload(&source, &p, &keys, 2_060).await.unwrap());
    assert!(
        !reload(&source, &p, &keys, 2_120).await.unwrap(),
        "unchanged"
    );
    let set = keys.current();
    assert!(kids(&set).contains(&r.kid) && kids(&set).contains(&old));
    assert_eq!(set.signing_key_at(Alg::ES256, 2_599).unwrap().kid(), old);
    assert_eq!(set.signing_key_at(Alg::ES256, 2_600).unwrap().kid(), r.kid);
    assert_eq!(set.signing_key_at(Alg::RS256, 2_600).unwrap().kid(), old_rs);
    assert_eq!(
        es256_states(&source, &p, &old, 2_600).await,
        [(old.clone(), "retired"), (r.kid.clone(), "active")]
    );

    // Until retention has passed, the old key is kept and published.
    assert_eq!(source.prune(&p, 2_600 + RETENTION - 1).await.unwrap(), 0);
    reload(&source, &p, &keys, 2_600 + RETENTION - 1)
        .await
        .unwrap();
    assert!(kids(&keys.current()).contains(&old));
    assert!(reload(&source, &p, &keys, 2_600 + RETENTION).await.unwrap());
    assert!(!kids(&keys.current()).contains(&old), "left the JWKS");
    assert_eq!(
        es256_states(&source, &p, &old, 2_600 + RETENTION).await[0],
        (old.clone(), "expired")
    );
    assert_eq!(source.prune(&p, 2_600 + RETENTION).await.unwrap(), 1);
    assert_eq!(
        source.list().await.unwrap().len(),
        2,
        "old ES256 key deleted"
    );

    // The next rotation may start now that the last one is done.
    source.rotate(Alg::ES256, 0, 3_500).await.unwrap();
}

#[tokio::test]
async fn rotation_in_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(&dir).await;
    rotation_overlaps_then_hands_over_then_forgets_the_old_key(shared(&db, 1)).await;
}

#[tokio::test]
async fn rotation_in_files() {
    let dir = tempfile::tempdir().unwrap();
    rotation_overlaps_then_hands_over_then_forgets_the_old_key(KeySource::Files(KeyDir::new(
        dir.path(),
    )))
    .await;
}

#[tokio::test]
async fn rotating_an_algorithm_without_a_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let source = KeySource::Files(KeyDir::new(dir.path()));
    source
        .load_or_generate(&default_policy(), 100)
        .await
        .unwrap();
    let err = source.rotate(Alg::EdDSA, 600, 200).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("no EdDSA key signs yet"),
        "{err:#}"
    );
}

/// Key files of versions before rotation (`es256.pk8`, no metadata) keep working, and get a
/// metadata file when they retire.
#[tokio::test]
async fn old_key_files_are_read_and_rotated() {
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join("keys");
    std::fs::create_dir_all(&keys_dir).unwrap();
    let mut old_kids = Vec::new();
    for alg in [Alg::RS256, Alg::ES256] {
        let der = generate_pkcs8(alg).unwrap();
        old_kids.push(SigningKey::from_pkcs8(alg, &der).unwrap().kid().to_owned());
        let name = format!("{}.pk8", alg.as_str().to_lowercase());
        std::fs::write(keys_dir.join(name), der).unwrap();
    }
    let source = KeySource::Files(KeyDir::new(dir.path()));
    let set = source
        .load_or_generate(&default_policy(), 100)
        .await
        .unwrap();
    let mut loaded = kids(&set);
    loaded.sort();
    let mut expected = old_kids.clone();
    expected.sort();
    assert_eq!(loaded, expected, "nothing generated");

    let r = source.rotate(Alg::ES256, 600, 200).await.unwrap();
    assert_eq!(r.retiring, [old_kids[1].clone()]);
    let meta = std::fs::read_to_string(keys_dir.join("es256.json")).unwrap();
    assert!(meta.contains("\"retired_at\": 800"), "{meta}");
    let new_files: Vec<String> = std::fs::read_dir(&keys_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(&r.kid))
        .collect();
    let mut new_files = new_files;
    new_files.sort();
    assert_eq!(
        new_files,
        [
            format!("es256-{}.json", r.kid),
            format!("es256-{}.pk8", r.kid)
        ]
    );
    #[cfg(unix)]
    for name in &new_files {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys_dir.join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
}

#[tokio::test]
async fn a_key_file_without_metadata_stops_loading_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join("keys");
    std::fs::create_dir_all(&keys_dir).unwrap();
    std::fs::write(
        keys_dir.join("mystery.pk8"),
        generate_pkcs8(Alg::ES256).unwrap(),
    )
    .unwrap();
    let err = KeySource::Files(KeyDir::new(dir.path()))
        .load_or_generate(&default_policy(), 100)
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("mystery.pk8 has no metadata file"),
        "{err:#}"
    );
}

#[tokio::test]
async fn a_failed_reload_keeps_the_keys_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let db = temp_db(&dir).await;
    let source = shared(&db, 1);
    let p = default_policy();
    let keys = SharedKeys::new(source.load_or_generate(&p, 100).await.unwrap());
    let before = kids(&keys.current());
    let err = reload(&shared(&db, 2), &p, &keys, 200).await.unwrap_err();
    assert!(
        format!("{err:#}").contains("cannot be decrypted"),
        "{err:#}"
    );
    assert_eq!(kids(&keys.current()), before);
}
