//! `kunci client hash-secret`: the `sha256:` line it prints is the digest of the secret, whether
//! the secret comes from standard input or is generated.

use crate::support::Workdir;

/// The demo secret documented in `deploy/kunci.example.toml`, and the digest that file holds.
const DEMO_SECRET: &str = "kunci-demo-secret-change-me-0123456789";
const DEMO_DIGEST: &str = "e4131025a29a30db379f9686b45151b18980a39f892d5e6911be5136441bbd23";

/// SHA-256 in lowercase hex, computed here independently of Kunci's own helper.
fn sha256_hex(data: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, data.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The hex digest from the `secret = "sha256:…"` line of `stdout`.
fn printed_digest(stdout: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("secret = \"sha256:"))
        .unwrap_or_else(|| panic!("no secret = \"sha256:…\" line in:\n{stdout}"));
    line.strip_prefix("secret = \"sha256:")
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| panic!("malformed line {line:?}"))
        .to_owned()
}

#[test]
fn a_secret_from_standard_input_becomes_its_sha256_line() {
    let run = Workdir::new().run(
        &["client", "hash-secret"],
        Some(&format!("{DEMO_SECRET}\n")),
    );
    run.assert_success();
    assert_eq!(printed_digest(&run.stdout), DEMO_DIGEST);
    assert_eq!(
        sha256_hex(DEMO_SECRET),
        DEMO_DIGEST,
        "the example file is right"
    );
    assert!(!run.stdout.contains(DEMO_SECRET), "{}", run.stdout);
}

#[test]
fn a_generated_secret_matches_the_digest_printed_with_it() {
    let run = Workdir::new().run(&["client", "hash-secret", "--generate"], None);
    run.assert_success();
    let secret = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("secret (give this to the client, it is not stored): "))
        .unwrap_or_else(|| panic!("no generated secret in:\n{}", run.stdout))
        .trim();
    assert!(secret.len() >= 32, "a short secret: {secret:?}");
    assert_eq!(printed_digest(&run.stdout), sha256_hex(secret));
}

#[test]
fn two_generated_secrets_differ() {
    let dir = Workdir::new();
    let a = dir.run(&["client", "hash-secret", "--generate"], None);
    let b = dir.run(&["client", "hash-secret", "--generate"], None);
    assert_ne!(printed_digest(&a.stdout), printed_digest(&b.stdout));
}

#[test]
fn a_short_secret_is_refused() {
    Workdir::new()
        .run(&["client", "hash-secret"], Some("too-short\n"))
        .assert_failure_mentions(&["at least 32 characters", "--generate"])
        .assert_never_shows("too-short");
}
