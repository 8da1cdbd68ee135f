//! `kunci check-config` on the per-client token settings: refresh tokens and their lifetimes,
//! client credentials, access token format, audiences and resource servers. Each mistake is
//! refused with a message naming the client and the key.

use crate::support::Workdir;

/// A valid file with a refresh-token client, a service and a resource server; each test
/// breaks one thing.
const VALID: &str = r#"version = 1
issuer = "https://id.example.com"

[[clients]]
client_id = "app"
name = "Mobile app"
token_endpoint_auth_method = "none"
redirect_uris = ["com.example.app:/callback"]
refresh_tokens = true
refresh_token_idle_ttl_secs = 86400
refresh_token_absolute_ttl_secs = 2592000
access_token_format = "opaque"

[[clients]]
client_id = "billing"
name = "Billing service"
secret = "sha256:e4131025a29a30db379f9686b45151b18980a39f892d5e6911be5136441bbd23"
redirect_uris = []
grant_types = ["client_credentials"]
scopes = ["orders:read", "orders:write"]
audiences = ["https://orders.example.com"]

[[clients]]
client_id = "orders-api"
name = "Orders API"
secret = "sha256:e4131025a29a30db379f9686b45151b18980a39f892d5e6911be5136441bbd23"
redirect_uris = []
grant_types = []
scopes = []
resource_server = true
audiences = ["https://orders.example.com"]
"#;

/// `VALID` with the first `from` replaced by `to` (which must be there).
fn broken(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "the fixture has no {from:?}");
    VALID.replacen(from, to, 1)
}

fn assert_rejected(contents: &str, fragments: &[&str]) {
    let dir = Workdir::new();
    let file = dir.config(contents);
    let file = file.to_str().expect("UTF-8 path");
    dir.run(&["--config", file, "check-config"], None)
        .assert_failure_mentions(&[&[file], fragments].concat());
}

#[test]
fn the_fixture_is_valid() {
    let dir = Workdir::new();
    let file = dir.config(VALID);
    let run = dir.run(&["--config", file.to_str().unwrap(), "check-config"], None);
    run.assert_success();
    assert!(run.stdout.contains("(3 clients)"), "{}", run.stdout);
}

#[test]
fn the_refresh_token_grant_and_offline_access_need_refresh_tokens_on() {
    let off = broken("refresh_tokens = true", "refresh_tokens = false");
    assert_rejected(
        &off.replacen(
            "access_token_format",
            "grant_types = [\"authorization_code\", \"refresh_token\"]\naccess_token_format",
            1,
        ),
        &[
            "clients[0]",
            "\"app\"",
            "grant_types",
            "refresh_tokens = true",
        ],
    );
    assert_rejected(
        &off.replacen(
            "access_token_format",
            "scopes = [\"openid\", \"offline_access\"]\naccess_token_format",
            1,
        ),
        &[
            "clients[0]",
            "scopes",
            "offline_access",
            "refresh_tokens = true",
        ],
    );
}

#[test]
fn refresh_tokens_need_the_authorization_code_grant() {
    assert_rejected(
        &broken(
            "refresh_tokens = true",
            "refresh_tokens = true\ngrant_types = [\"client_credentials\"]",
        ),
        // A public client may not use client_credentials either; the refresh rule comes first.
        &["clients[0]", "refresh_tokens", "authorization_code"],
    );
}

#[test]
fn refresh_token_lifetimes_must_be_ordered() {
    assert_rejected(
        &broken(
            "refresh_token_absolute_ttl_secs = 2592000",
            "refresh_token_absolute_ttl_secs = 3600",
        ),
        &[
            "clients[0]",
            "refresh_token_absolute_ttl_secs",
            "3600 < 86400",
        ],
    );
    assert_rejected(
        &broken(
            "refresh_token_idle_ttl_secs = 86400",
            "refresh_token_idle_ttl_secs = 0",
        ),
        &["clients[0]", "refresh_token_idle_ttl_secs"],
    );
}

#[test]
fn the_access_token_format_is_jwt_or_opaque() {
    assert_rejected(
        &broken(
            "access_token_format = \"opaque\"",
            "access_token_format = \"paseto\"",
        ),
        &["clients[0]", "access_token_format", "paseto"],
    );
}

#[test]
fn client_credentials_are_for_confidential_clients_only() {
    assert_rejected(
        &broken(
            "secret = \"sha256:e4131025a29a30db379f9686b45151b18980a39f892d5e6911be5136441bbd23\"\nredirect_uris = []\ngrant_types = [\"client_credentials\"]",
            "token_endpoint_auth_method = \"none\"\nredirect_uris = []\ngrant_types = [\"client_credentials\"]",
        ),
        &[
            "clients[1]",
            "\"billing\"",
            "grant_types",
            "client_credentials",
            "confidential",
        ],
    );
}

#[test]
fn unknown_grants_and_malformed_scopes_are_refused() {
    assert_rejected(
        &broken(
            "grant_types = [\"client_credentials\"]",
            "grant_types = [\"password\"]",
        ),
        &["clients[1]", "grant_types", "password"],
    );
    assert_rejected(
        &broken("scopes = [\"orders:read\",", "scopes = [\"orders read\","),
        &["clients[1]", "scopes", "orders read"],
    );
}

#[test]
fn redirect_uris_are_required_only_for_the_code_flow() {
    assert_rejected(
        &broken(
            "redirect_uris = [\"com.example.app:/callback\"]",
            "redirect_uris = []",
        ),
        &["clients[0]", "redirect_uris", "authorization_code"],
    );
}

#[test]
fn audiences_are_absolute_uris() {
    assert_rejected(
        &broken(
            "audiences = [\"https://orders.example.com\"]",
            "audiences = [\"orders\"]",
        ),
        &["clients[1]", "audiences[0]", "\"orders\"", "RFC 8707"],
    );
}

#[test]
fn a_resource_server_needs_audiences_and_a_secret() {
    let without_audiences = VALID.replacen(
        "resource_server = true\naudiences = [\"https://orders.example.com\"]",
        "resource_server = true",
        1,
    );
    assert_ne!(without_audiences, VALID);
    assert_rejected(
        &without_audiences,
        &[
            "clients[2]",
            "\"orders-api\"",
            "audiences",
            "resource server",
        ],
    );
    let public = VALID.replacen(
        "secret = \"sha256:e4131025a29a30db379f9686b45151b18980a39f892d5e6911be5136441bbd23\"\nredirect_uris = []\ngrant_types = []",
        "token_endpoint_auth_method = \"none\"\nredirect_uris = []\ngrant_types = []",
        1,
    );
    assert_ne!(public, VALID);
    assert_rejected(&public, &["clients[2]", "resource_server", "secret"]);
}
