//! `kunci serve`: it answers on the configured port under the configured issuer, keeps its signing
//! keys private, reuses them across restarts, stops on SIGTERM, and lets `KUNCI_*` variables
//! override the file.

use crate::support::{Served, Workdir, free_port, mode, serve_config};
use std::collections::BTreeSet;

/// The `kid`s the JWKS publishes.
async fn kids(server: &Served) -> BTreeSet<String> {
    let jwks = server.json("/jwks").await;
    let keys = jwks["keys"].as_array().expect("a keys array");
    assert!(!keys.is_empty(), "no keys published: {jwks}");
    keys.iter()
        .map(|k| k["kid"].as_str().expect("every key has a kid").to_owned())
        .collect()
}

async fn discovered_issuer(server: &Served) -> String {
    let doc = server.json("/.well-known/openid-configuration").await;
    doc["issuer"].as_str().expect("issuer").to_owned()
}

#[tokio::test]
async fn serve_keeps_its_keys_private_and_reuses_them_after_a_restart() {
    let dir = Workdir::new();
    let port = free_port();
    let config = dir.config(&serve_config(port));
    let args = ["--config", config.to_str().unwrap(), "serve"];

    let first = Served::start(dir.command(&args), &dir, port).await;
    assert_eq!(
        discovered_issuer(&first).await,
        format!("http://127.0.0.1:{port}")
    );
    let kids_before = kids(&first).await;
    first.stop().await;

    let data = dir.path().join("data");
    assert_eq!(mode(&data), 0o700, "data_dir is owner-only");
    let key_files: Vec<_> = std::fs::read_dir(data.join("keys"))
        .expect("data/keys exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "pk8"))
        .collect();
    assert!(!key_files.is_empty(), "no data/keys/*.pk8 files");
    for key in &key_files {
        assert_eq!(mode(key), 0o600, "{} is owner-only", key.display());
    }

    let second = Served::start(dir.command(&args), &dir, port).await;
    assert_eq!(
        kids(&second).await,
        kids_before,
        "the restarted server signs with the same keys"
    );
    second.stop().await;
}

#[tokio::test]
async fn an_issuer_from_the_environment_beats_the_file() {
    let dir = Workdir::new();
    let port = free_port();
    let config = dir.config(&serve_config(port));
    let mut cmd = dir.command(&["--config", config.to_str().unwrap(), "serve"]);
    let from_env = format!("http://localhost:{port}");
    cmd.env("KUNCI_ISSUER", &from_env);

    let server = Served::start(cmd, &dir, port).await;
    assert_eq!(discovered_issuer(&server).await, from_env);
    assert!(
        server.output().contains(&format!("issuer {from_env}")),
        "the start-up banner names the issuer in use:\n{}",
        server.output()
    );
}
