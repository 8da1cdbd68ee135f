//! `kunci check-config`: the shipped example passes, and each kind of mistake is refused with a
//! message naming the file, the key and the problem.

use crate::support::{MINIMAL_CONFIG, Workdir};
use std::path::Path;

/// A valid file with one confidential and one public client; each test breaks one thing.
const VALID: &str = r#"version = 1
issuer = "https://id.example.com"
listen = "127.0.0.1:8080"

[tokens]
access_token_alg = "ES256"

[[clients]]
client_id = "web"
name = "Web app"
secret = "sha256:e4131025a29a30db379f9686b45151b18980a39f892d5e6911be5136441bbd23"
redirect_uris = ["https://app.example.com/callback"]
id_token_signed_response_alg = "RS256"

[[clients]]
client_id = "spa"
name = "Single-page app"
token_endpoint_auth_method = "none"
redirect_uris = ["http://localhost:5173/callback"]
"#;

/// `VALID` with the first `from` replaced by `to` (which must be there, or the test tests nothing).
fn broken(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "the fixture has no {from:?}");
    VALID.replacen(from, to, 1)
}

/// Runs `check-config` on `contents` and asserts it fails naming the file and every fragment.
fn assert_rejected(contents: &str, fragments: &[&str]) {
    let dir = Workdir::new();
    let file = dir.config(contents);
    let file = file.to_str().expect("UTF-8 path");
    dir.run(&["--config", file, "check-config"], None)
        .assert_failure_mentions(&[&[file], fragments].concat());
}

#[test]
fn the_shipped_example_configuration_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/kunci.example.toml");
    let example = example.canonicalize().expect("deploy/kunci.example.toml");
    let run = Workdir::new().run(
        &["--config", example.to_str().unwrap(), "check-config"],
        None,
    );
    run.assert_success();
    assert!(
        run.stdout.contains("configuration is valid (3 clients)"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_fixture_the_other_tests_break_is_valid() {
    let dir = Workdir::new();
    let file = dir.config(VALID);
    dir.run(&["--config", file.to_str().unwrap(), "check-config"], None)
        .assert_success();
}

#[test]
fn an_unknown_top_level_key_is_an_error() {
    assert_rejected(
        &broken("listen = ", "colour = \"blue\"\nlisten = "),
        &["unknown field", "colour"],
    );
}

#[test]
fn a_misspelt_client_key_is_an_error() {
    assert_rejected(
        &broken("secret = \"sha256:", "client_secret = \"sha256:"),
        &["unknown field", "client_secret"],
    );
}

#[test]
fn the_issuer_must_be_https_unless_it_is_loopback() {
    assert_rejected(
        &broken(
            "issuer = \"https://id.example.com\"",
            "issuer = \"http://id.example.com\"",
        ),
        &["issuer", "https://", "http://id.example.com"],
    );
}

#[test]
fn a_public_client_must_not_have_a_secret() {
    assert_rejected(
        &broken(
            "token_endpoint_auth_method = \"none\"",
            "token_endpoint_auth_method = \"none\"\nsecret = \"sha256:e4131025a29a30db379f9686b45151b18980a39f892d5e6911be5136441bbd23\"",
        ),
        &["clients[1]", "\"spa\"", "secret", "public client"],
    );
}

#[test]
fn a_confidential_client_needs_a_secret() {
    assert_rejected(
        &broken(
            "secret = \"sha256:e4131025a29a30db379f9686b45151b18980a39f892d5e6911be5136441bbd23\"\n",
            "",
        ),
        &["clients[0]", "\"web\"", "secret", "confidential client"],
    );
}

#[test]
fn a_secret_must_be_a_digest_or_an_environment_reference() {
    let dir = Workdir::new();
    let file = dir.config(&broken(
        "secret = \"sha256:e4131025a29a30db379f9686b45151b18980a39f892d5e6911be5136441bbd23\"",
        "secret = \"plain-text-secret-in-the-file-0123456789\"",
    ));
    let file = file.to_str().unwrap();
    dir.run(&["--config", file, "check-config"], None)
        .assert_failure_mentions(&[file, "clients[0]", "secret", "sha256:", "env:"])
        .assert_never_shows("plain-text-secret-in-the-file");
}

#[test]
fn a_sha256_secret_needs_64_hex_digits() {
    assert_rejected(
        &broken("secret = \"sha256:e4131025", "secret = \"sha256:"),
        &["clients[0]", "secret", "64 hex digits"],
    );
}

#[test]
fn an_env_secret_names_a_variable_that_is_set() {
    assert_rejected(
        &broken(
            "secret = \"sha256:e4131025a29a30db379f9686b45151b18980a39f892d5e6911be5136441bbd23\"",
            "secret = \"env:WEB_CLIENT_SECRET_NOT_SET_IN_TESTS\"",
        ),
        &["secret", "WEB_CLIENT_SECRET_NOT_SET_IN_TESTS", "not set"],
    );
}

#[test]
fn an_env_secret_is_read_from_the_environment() {
    let dir = Workdir::new();
    let file = dir.config(&broken(
        "secret = \"sha256:e4131025a29a30db379f9686b45151b18980a39f892d5e6911be5136441bbd23\"",
        "secret = \"env:WEB_CLIENT_SECRET\"",
    ));
    let mut cmd = dir.command(&["--config", file.to_str().unwrap(), "check-config"]);
    cmd.env(
        "WEB_CLIENT_SECRET",
        "an-environment-secret-0123456789abcdef",
    );
    dir.run_command(cmd, None)
        .assert_success()
        .assert_never_shows("an-environment-secret");
}

#[test]
fn a_redirect_uri_must_not_have_a_fragment() {
    assert_rejected(
        &broken(
            "\"https://app.example.com/callback\"",
            "\"https://app.example.com/callback#done\"",
        ),
        &["clients[0]", "redirect_uris[0]", "fragment"],
    );
}

#[test]
fn a_client_id_may_be_registered_only_once() {
    assert_rejected(
        &broken("client_id = \"spa\"", "client_id = \"web\""),
        &["clients[1].client_id", "\"web\"", "twice"],
    );
}

#[test]
fn an_id_token_algorithm_must_be_rs256_or_es256() {
    assert_rejected(
        &broken(
            "id_token_signed_response_alg = \"RS256\"",
            "id_token_signed_response_alg = \"HS256\"",
        ),
        &["clients[0]", "id_token_signed_response_alg", "HS256"],
    );
}

#[test]
fn an_access_token_algorithm_must_be_rs256_or_es256() {
    assert_rejected(
        &broken(
            "access_token_alg = \"ES256\"",
            "access_token_alg = \"none\"",
        ),
        &["tokens.access_token_alg", "\"none\""],
    );
}

#[test]
fn a_missing_config_file_is_an_error() {
    let dir = Workdir::new();
    let missing = dir.path().join("no-such-kunci.toml");
    let missing = missing.to_str().unwrap();
    dir.run(&["--config", missing, "check-config"], None)
        .assert_failure_mentions(&[missing, "does not exist"]);
}

// --- Pairwise subject identifiers (OIDC Core §8.1) -------------------------------------------

/// `VALID` with the web client pairwise, and `top` added to the top level.
fn pairwise(top: &str, client_extra: &str) -> String {
    broken(
        "listen = \"127.0.0.1:8080\"\n",
        &format!("listen = \"127.0.0.1:8080\"\n{top}"),
    )
    .replacen(
        "id_token_signed_response_alg = \"RS256\"\n",
        &format!(
            "id_token_signed_response_alg = \"RS256\"\nsubject_type = \"pairwise\"\n{client_extra}"
        ),
        1,
    )
}

const SALT_LINE: &str = "pairwise_salt = \"0123456789abcdef0123456789abcdef\"\n";

#[test]
fn a_pairwise_client_with_a_salt_and_one_redirect_host_is_valid() {
    let dir = Workdir::new();
    let file = dir.config(&pairwise(SALT_LINE, ""));
    dir.run(&["--config", file.to_str().unwrap(), "check-config"], None)
        .assert_success();
}

#[test]
fn a_pairwise_client_needs_a_pairwise_salt() {
    assert_rejected(
        &pairwise("", ""),
        &["pairwise_salt", "clients[0]", "\"web\""],
    );
}

#[test]
fn a_short_pairwise_salt_is_refused_without_showing_it() {
    let dir = Workdir::new();
    let file = dir.config(&pairwise("pairwise_salt = \"tiny-salt\"\n", ""));
    let run = dir.run(&["--config", file.to_str().unwrap(), "check-config"], None);
    run.assert_failure_mentions(&["pairwise_salt", "at least 32"]);
    assert!(!run.stderr.contains("tiny-salt"), "{}", run.stderr);
}

#[test]
fn a_pairwise_client_with_several_redirect_hosts_needs_a_sector_identifier() {
    let several = pairwise(SALT_LINE, "").replacen(
        "redirect_uris = [\"https://app.example.com/callback\"]",
        "redirect_uris = [\"https://app.example.com/callback\", \"https://m.example.com/cb\"]",
        1,
    );
    assert_rejected(
        &several,
        &["clients[0]", "sector_identifier", "several hosts"],
    );
    let dir = Workdir::new();
    let file = dir.config(&several.replacen(
        "subject_type = \"pairwise\"\n",
        "subject_type = \"pairwise\"\nsector_identifier = \"example.com\"\n",
        1,
    ));
    dir.run(&["--config", file.to_str().unwrap(), "check-config"], None)
        .assert_success();
}

#[test]
fn subject_type_is_public_or_pairwise() {
    assert_rejected(
        &broken(
            "id_token_signed_response_alg = \"RS256\"\n",
            "id_token_signed_response_alg = \"RS256\"\nsubject_type = \"secret\"\n",
        ),
        &["clients[0]", "subject_type", "\"secret\""],
    );
}

#[test]
fn a_client_secret_kept_in_a_kunci_prefixed_variable_is_not_mistaken_for_a_setting() {
    let dir = Workdir::new();
    let config = dir.config(&format!(
        "{MINIMAL_CONFIG}\n[[clients]]\nclient_id = \"shop\"\nname = \"Shop\"\nsecret = \"env:KUNCI_SHOP_SECRET\"\nredirect_uris = [\"https://shop.example/cb\"]\n"
    ));
    let mut cmd = dir.command(&["--config", config.to_str().unwrap(), "check-config"]);
    cmd.env(
        "KUNCI_SHOP_SECRET",
        "a-long-random-client-secret-0123456789",
    );
    dir.run_command(cmd, None)
        .assert_success()
        .assert_never_shows("a-long-random-client-secret-0123456789");
}

// --- FAPI 2.0 Security Profile (client `profile = "fapi2"`) -----------------------------------

/// A client that meets FAPI 2.0: `private_key_jwt`, ES256 ID tokens, https redirect URIs.
const FAPI2_CLIENT: &str = r#"
[[clients]]
client_id = "bank"
name = "Bank app"
token_endpoint_auth_method = "private_key_jwt"
jwks = '{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}'
redirect_uris = ["https://bank.example.com/callback"]
id_token_signed_response_alg = "ES256"
profile = "fapi2"
"#;

fn with_fapi2_client(from: &str, to: &str) -> String {
    assert!(FAPI2_CLIENT.contains(from), "the fixture has no {from:?}");
    format!("{VALID}{}", FAPI2_CLIENT.replacen(from, to, 1))
}

#[test]
fn a_fapi2_client_that_meets_the_profile_is_valid() {
    let dir = Workdir::new();
    let file = dir.config(&with_fapi2_client("", ""));
    dir.run(&["--config", file.to_str().unwrap(), "check-config"], None)
        .assert_success();
}

#[test]
fn a_fapi2_client_authenticates_with_private_key_jwt() {
    assert_rejected(
        &with_fapi2_client(
            "token_endpoint_auth_method = \"private_key_jwt\"\njwks = ",
            "secret = \"sha256:e4131025a29a30db379f9686b45151b18980a39f892d5e6911be5136441bbd23\"\n# jwks = ",
        ),
        &[
            "clients[2]",
            "token_endpoint_auth_method",
            "fapi2",
            "private_key_jwt",
        ],
    );
}

#[test]
fn a_fapi2_client_signs_with_ps256_es256_or_eddsa() {
    assert_rejected(
        &with_fapi2_client("\"ES256\"", "\"RS256\""),
        &[
            "id_token_signed_response_alg",
            "fapi2",
            "PS256, ES256 or EdDSA",
        ],
    );
}

#[test]
fn a_fapi2_clients_jwt_access_tokens_are_not_rs256() {
    let config = with_fapi2_client("", "").replacen(
        "access_token_alg = \"ES256\"",
        "access_token_alg = \"RS256\"",
        1,
    );
    assert!(config.contains("access_token_alg = \"RS256\""));
    assert_rejected(
        &config,
        &["clients[2]", "tokens.access_token_alg", "fapi2", "RS256"],
    );
    let opaque = config.replacen(
        "profile = \"fapi2\"",
        "profile = \"fapi2\"\naccess_token_format = \"opaque\"",
        1,
    );
    let dir = Workdir::new();
    let file = dir.config(&opaque);
    dir.run(&["--config", file.to_str().unwrap(), "check-config"], None)
        .assert_success();
}

#[test]
fn a_fapi2_client_has_https_redirect_uris_only() {
    assert_rejected(
        &with_fapi2_client("https://bank.example.com", "http://127.0.0.1:9000"),
        &["redirect_uris", "fapi2", "https"],
    );
}

#[test]
fn an_unknown_profile_is_an_error() {
    assert_rejected(
        &with_fapi2_client("\"fapi2\"", "\"fapi1\""),
        &["profile", "fapi1", "known"],
    );
}

#[test]
fn the_device_code_lifetime_is_bounded() {
    assert_rejected(
        &broken(
            "access_token_alg = \"ES256\"",
            "access_token_alg = \"ES256\"\ndevice_code_ttl_secs = 5",
        ),
        &["tokens.device_code_ttl_secs", "between 60 and 3600"],
    );
}

/// RFC 8628: a device client needs no redirect URI and may hold refresh tokens.
#[test]
fn a_device_client_with_refresh_tokens_is_valid() {
    let device = r#"
[[clients]]
client_id = "tv"
name = "TV app"
token_endpoint_auth_method = "none"
redirect_uris = []
grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]
refresh_tokens = true
"#;
    let dir = Workdir::new();
    let file = dir.config(&format!("{VALID}{device}"));
    dir.run(&["--config", file.to_str().unwrap(), "check-config"], None)
        .assert_success();
    assert_rejected(
        &format!(
            "{VALID}{}",
            device.replace(
                "urn:ietf:params:oauth:grant-type:device_code",
                "device_code"
            )
        ),
        &[
            "grant_types",
            "\"device_code\" is not supported",
            "urn:ietf:params:oauth:grant-type:device_code",
        ],
    );
}

#[test]
fn a_public_client_keeps_rotation_unless_its_tokens_are_dpop_bound() {
    let spa = "token_endpoint_auth_method = \"none\"\n";
    assert_rejected(
        &broken(
            spa,
            &format!("{spa}refresh_tokens = true\nrefresh_token_rotation = false\n"),
        ),
        &[
            "clients[1]",
            "refresh_token_rotation",
            "dpop_bound_access_tokens",
        ],
    );
    let dir = Workdir::new();
    let file = dir.config(&broken(
        spa,
        &format!("{spa}refresh_tokens = true\nrefresh_token_rotation = false\ndpop_bound_access_tokens = true\n"),
    ));
    dir.run(&["--config", file.to_str().unwrap(), "check-config"], None)
        .assert_success();
}

#[test]
fn a_trusted_proxy_is_an_address_or_a_network() {
    assert_rejected(
        &broken(
            "listen = ",
            "trusted_proxies = [\"10.0.0.0/8\", \"proxy.internal\"]\nlisten = ",
        ),
        &["trusted_proxies[1]", "proxy.internal", "CIDR"],
    );
    let dir = Workdir::new();
    let file = dir.config(&broken(
        "listen = ",
        "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nlisten = ",
    ));
    dir.run(&["--config", file.to_str().unwrap(), "check-config"], None)
        .assert_success();
}
