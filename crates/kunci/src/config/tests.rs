//! Unit tests of configuration loading and validation.

use super::*;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // bytes 0..32

fn database_keys(master_key: &str) -> Config {
    let mut config = Config::default();
    config.keys.storage = KeyStorage::Database;
    config.keys.master_key = master_key.into();
    config
}

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn the_master_key_is_read_inline_or_from_the_named_variable() {
    assert!(resolve_master_key("", no_env).unwrap().is_none());
    assert!(resolve_master_key(KEY, no_env).unwrap().is_some());
    let from_env = |var: &str| (var == "KUNCI_MASTER_KEY").then(|| KEY.to_owned());
    assert!(
        resolve_master_key("env:KUNCI_MASTER_KEY", from_env)
            .unwrap()
            .is_some()
    );

    let err = resolve_master_key("env:KUNCI_MASTER_KEY", no_env).unwrap_err();
    assert!(
        err.to_string()
            .contains("environment variable KUNCI_MASTER_KEY is not set"),
        "{err}"
    );
    let short = |_: &str| Some("c2hvcnQ=".to_owned());
    let err = resolve_master_key("env:MK", short).unwrap_err().to_string();
    assert!(
        err.starts_with("keys.master_key (from MK): the master key must be 32 bytes"),
        "{err}"
    );
    assert!(!err.contains("c2hvcnQ"), "the value is never echoed: {err}");
}

#[test]
fn database_storage_needs_a_master_key() {
    let err = format!("{:#}", database_keys("").validate().unwrap_err());
    assert!(
        err.contains("keys.master_key") && err.contains("kunci keys generate-master-key"),
        "{err}"
    );
    database_keys(KEY).validate().unwrap();
    let err = format!("{:#}", database_keys("c2hvcnQ=").validate().unwrap_err());
    assert!(err.contains("32 bytes"), "{err}");
    Config::default().validate().unwrap();
    assert_eq!(Config::default().keys.storage, KeyStorage::Files);
}

#[test]
fn an_inline_master_key_never_prints() {
    let debug = format!("{:?}", database_keys(KEY));
    assert!(!debug.contains(KEY), "{debug}");
    let debug = format!("{:?}", database_keys("env:KUNCI_MASTER_KEY").keys);
    assert!(debug.contains("env:KUNCI_MASTER_KEY"), "{debug}");
}

#[test]
fn kunci_variables_that_are_not_settings_are_left_alone() {
    for not_a_setting in [
        "config",
        "log",
        "log_format",
        "master_key",
        "test_database_url",
        "shop_client_secret",
        "web_secret",
    ] {
        assert!(!is_setting_variable(not_a_setting), "{not_a_setting}");
    }
    for setting in [
        "issuer",
        "database__url",
        "keys__master_key",
        "keys__storage",
        "sessions.url",
        "tls__cert",
        "pairwise_salt",
    ] {
        assert!(is_setting_variable(setting), "{setting}");
    }
}

fn logout_client(tweak: impl FnOnce(&mut ClientConfig)) -> anyhow::Result<Client> {
    let mut c: ClientConfig = toml::from_str(
        r#"
        client_id = "shop"
        name = "Shop"
        token_endpoint_auth_method = "none"
        redirect_uris = ["https://shop.example/cb"]
        "#,
    )
    .unwrap();
    tweak(&mut c);
    c.to_client()
}

#[test]
fn logout_uris_are_checked_and_named_in_messages() {
    let c = logout_client(|_| {}).unwrap();
    assert!(c.post_logout_redirect_uris.is_empty());
    assert!(c.backchannel_logout.is_none() && c.frontchannel_logout.is_none());

    let c = logout_client(|c| {
        c.post_logout_redirect_uris = vec!["https://shop.example/bye".into()];
        c.backchannel_logout_uri = Some("https://api.shop.example/bc".into());
        c.frontchannel_logout_uri = Some("https://shop.example/fc".into());
        c.frontchannel_logout_session_required = false;
    })
    .unwrap();
    assert_eq!(c.post_logout_redirect_uris, ["https://shop.example/bye"]);
    let back = c.backchannel_logout.unwrap();
    assert!(back.session_required, "session required by default");
    assert!(!c.frontchannel_logout.unwrap().session_required);

    let err = |tweak: fn(&mut ClientConfig)| format!("{:#}", logout_client(tweak).unwrap_err());
    let e = err(|c| c.post_logout_redirect_uris = vec!["https://shop.example/bye#x".into()]);
    assert!(
        e.starts_with("post_logout_redirect_uris[0]") && e.contains("fragment"),
        "{e}"
    );
    let e = err(|c| c.backchannel_logout_uri = Some("http://shop.example/bc".into()));
    assert!(
        e.starts_with("backchannel_logout_uri") && e.contains("https"),
        "{e}"
    );
    let e = err(|c| c.backchannel_logout_uri = Some("com.shop.app:/bc".into()));
    assert!(e.starts_with("backchannel_logout_uri"), "{e}");
    let e = err(|c| c.frontchannel_logout_uri = Some("https://other.example/fc".into()));
    assert!(
        e.starts_with("frontchannel_logout_uri") && e.contains("redirect_uris"),
        "{e}"
    );
}

fn with_client_alg(algorithms: &[&str], client_alg: &str) -> Config {
    let mut config = Config::default();
    config.keys.algorithms = algorithms.iter().map(|a| (*a).to_owned()).collect();
    let mut c: ClientConfig = toml::from_str(
        r#"
        client_id = "shop"
        name = "Shop"
        token_endpoint_auth_method = "none"
        redirect_uris = ["https://shop.example/cb"]
        "#,
    )
    .unwrap();
    c.id_token_signed_response_alg = client_alg.into();
    config.clients.push(c);
    config
}

#[test]
fn key_algorithms_are_checked_and_named_in_messages() {
    let err = |algs: &[&str]| {
        format!(
            "{:#}",
            with_client_alg(algs, "RS256").validate().unwrap_err()
        )
    };
    assert_eq!(Config::default().signing_algs(), [Alg::RS256, Alg::ES256]);
    let all = with_client_alg(&["RS256", "ES256", "EdDSA", "PS256"], "EdDSA");
    all.validate().unwrap();
    assert_eq!(all.signing_algs().len(), 4);

    let e = err(&["RS256", "ES256", "eddsa"]);
    assert!(
        e.contains("keys.algorithms[2]") && e.contains("EdDSA"),
        "{e}"
    );
    let e = err(&["ES256", "EdDSA"]);
    assert!(e.contains("keys.algorithms: must include RS256"), "{e}");
    let e = err(&["RS256"]);
    assert!(e.contains("must include ES256"), "{e}");
    let e = err(&["RS256", "ES256", "RS256"]);
    assert!(
        e.contains("keys.algorithms[2]: RS256 is listed twice"),
        "{e}"
    );
    let e = err(&["RS256", "ES256", "HS256"]);
    assert!(e.contains("keys.algorithms[2]"), "{e}");
}

#[test]
fn clients_and_access_tokens_may_only_use_enabled_algorithms() {
    let e = format!(
        "{:#}",
        with_client_alg(&["RS256", "ES256"], "EdDSA")
            .validate()
            .unwrap_err()
    );
    assert!(
        e.contains(
            "clients[0] (\"shop\"): id_token_signed_response_alg: EdDSA is not in keys.algorithms"
        ),
        "{e}"
    );
    with_client_alg(&["RS256", "ES256", "PS256"], "PS256")
        .validate()
        .unwrap();
    let e = format!(
        "{:#}",
        with_client_alg(&["RS256", "ES256"], "none")
            .validate()
            .unwrap_err()
    );
    assert!(e.contains("id_token_signed_response_alg"), "{e}");

    let mut config = Config::default();
    config.tokens.access_token_alg = "PS256".into();
    let e = format!("{:#}", config.validate().unwrap_err());
    assert!(
        e.contains("tokens.access_token_alg: PS256 is not in keys.algorithms"),
        "{e}"
    );
    config.keys.algorithms.push("PS256".into());
    config.validate().unwrap();
}
