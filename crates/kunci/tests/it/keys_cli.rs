//! `kunci keys rotate` and `kunci keys list`, as an operator runs them: a rotation publishes a
//! new key that signs only after the overlap, a second rotation waits for the first, the list
//! shows each key's state and dates and never key material, on file and database storage.

use crate::support::{Run, Served, Workdir, free_port, serve_config};
use base64::Engine;
use std::process::Command;

const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A workdir whose configuration (`extra` appended) has been served once, so every enabled
/// algorithm has its first key; returns the config path.
async fn served_once(extra: &str) -> (Workdir, String) {
    let dir = Workdir::new();
    let port = free_port();
    let config = dir.config(&format!("{}{extra}", serve_config(port)));
    let config = config.to_str().expect("UTF-8 path").to_owned();
    let cmd = command(&dir, &["--config", &config, "serve"]);
    Served::start(cmd, &dir, port).await.stop().await;
    (dir, config)
}

/// The binary with the master key in the environment (unused with file storage).
fn command(dir: &Workdir, args: &[&str]) -> Command {
    let mut cmd = dir.command(args);
    cmd.env("KUNCI_MASTER_KEY", MASTER_KEY);
    cmd
}

fn keys(dir: &Workdir, config: &str, args: &[&str]) -> Run {
    let mut all = vec!["--config", config, "keys"];
    all.extend_from_slice(args);
    dir.run_command(command(dir, &all), None)
}

/// `(alg, state)` of each listed key, in list order.
fn states(list: &Run) -> Vec<(String, String)> {
    list.stdout
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with('('))
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols[1].to_owned(), cols[2].to_owned())
        })
        .collect()
}

fn count(states: &[(String, String)], alg: &str, state: &str) -> usize {
    states
        .iter()
        .filter(|(a, s)| a == alg && s == state)
        .count()
}

#[tokio::test]
async fn a_rotation_publishes_a_key_that_signs_after_the_overlap() {
    let (dir, config) = served_once("").await;
    let before = keys(&dir, &config, &["list"]);
    before.assert_success();
    let s = states(&before);
    assert_eq!(s.len(), 2, "{}", before.stdout);
    assert_eq!(
        count(&s, "RS256", "active") + count(&s, "ES256", "active"),
        2
    );

    let rotate = keys(&dir, &config, &["rotate", "--alg", "ES256"]);
    rotate.assert_success();
    assert!(
        rotate.stdout.contains("ES256: new key")
            && rotate.stdout.contains("is published now and signs from")
            && rotate.stdout.contains("(in 600 s)")
            && rotate
                .stdout
                .contains("signs until then and stays published until"),
        "{}",
        rotate.stdout
    );
    assert!(!rotate.stdout.contains("RS256"), "only ES256 was rotated");

    let after = keys(&dir, &config, &["list"]);
    after.assert_success();
    let s = states(&after);
    assert_eq!(s.len(), 3, "{}", after.stdout);
    assert_eq!(
        count(&s, "ES256", "active"),
        1,
        "the old key signs until then"
    );
    assert_eq!(count(&s, "ES256", "next"), 1, "{}", after.stdout);
    assert_eq!(count(&s, "RS256", "active"), 1);
    assert!(after.stdout.contains("(3 keys, times in UTC)"));

    // Nothing private is shown: not the key files' contents, in any encoding.
    let key_dir = dir.path().join("data/keys");
    for entry in std::fs::read_dir(&key_dir).expect("data/keys") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|x| x == "pk8") {
            let der = std::fs::read(&path).expect("key file");
            for shown in [&rotate, &after] {
                shown
                    .assert_never_shows(&base64::engine::general_purpose::STANDARD.encode(&der))
                    .assert_never_shows(
                        &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&der[..24]),
                    );
            }
        }
    }

    keys(&dir, &config, &["rotate", "--alg", "ES256"])
        .assert_failure_mentions(&["rotation of ES256 is under way", "rotate again after that"]);
}

#[tokio::test]
async fn a_rotation_without_overlap_retires_the_old_keys_at_once() {
    let (dir, config) = served_once("").await;
    keys(&dir, &config, &["rotate", "--overlap-secs", "0"]).assert_success();
    let list = keys(&dir, &config, &["list"]);
    let s = states(&list);
    for alg in ["RS256", "ES256"] {
        assert_eq!(count(&s, alg, "retired"), 1, "{}", list.stdout);
        assert_eq!(count(&s, alg, "active"), 1, "{}", list.stdout);
    }
}

#[tokio::test]
async fn only_enabled_algorithms_are_rotated() {
    let dir = Workdir::new();
    let config = dir.config("version = 1\n");
    let config = config.to_str().unwrap();
    keys(&dir, config, &["rotate", "--alg", "EdDSA"])
        .assert_failure_mentions(&["--alg EdDSA", "not in keys.algorithms"]);
    keys(&dir, config, &["rotate", "--alg", "eddsa"])
        .assert_failure_mentions(&["--alg \"eddsa\"", "case-sensitive"]);
    keys(&dir, config, &["rotate"])
        .assert_failure_mentions(&["no RS256 key signs yet", "start Kunci once"]);
    let empty = keys(&dir, config, &["list"]);
    empty.assert_success();
    assert!(empty.stdout.contains("(0 keys"), "{}", empty.stdout);
}

#[tokio::test]
async fn keys_in_the_database_rotate_and_list_without_showing_the_master_key() {
    let extra = "[keys]\nstorage = \"database\"\nmaster_key = \"env:KUNCI_MASTER_KEY\"\nalgorithms = [\"RS256\", \"ES256\", \"EdDSA\", \"PS256\"]\n";
    let (dir, config) = served_once(extra).await;
    let rotate = keys(
        &dir,
        &config,
        &["rotate", "--alg", "EdDSA", "--overlap-secs", "30"],
    );
    rotate.assert_success().assert_never_shows(MASTER_KEY);
    assert!(rotate.stdout.contains("(in 30 s)"), "{}", rotate.stdout);
    let list = keys(&dir, &config, &["list"]);
    list.assert_success().assert_never_shows(MASTER_KEY);
    let s = states(&list);
    assert_eq!(s.len(), 5, "{}", list.stdout);
    for alg in ["RS256", "ES256", "PS256", "EdDSA"] {
        assert_eq!(count(&s, alg, "active"), 1, "{alg}: {}", list.stdout);
    }
    assert_eq!(count(&s, "EdDSA", "next"), 1);

    // Listing decrypts nothing: it works even with a different master key.
    let mut cmd = dir.command(&["--config", &config, "keys", "list"]);
    cmd.env(
        "KUNCI_MASTER_KEY",
        "GfRb/iDEC0z6QapXKDwwk+vn57YFMl2DZh9tD/vKBqc=",
    );
    dir.run_command(cmd, None).assert_success();
}
