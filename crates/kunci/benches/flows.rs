//! In-process benchmarks on the real wiring: the `Provider` that `kunci serve` builds
//! (`app::assemble`, embedded SQLite + in-memory sessions, keys on disk), driven without HTTP.
//! Clients come from a TOML configuration, as an operator writes them. Run with
//! `cargo bench -p kunci`.
//!
//! - `authorize/validate`: the ordered authorization-request checks alone;
//! - `flow/code_to_tokens/{ES256,RS256}`: an authorization request with an SSO session and
//!   first-party client (code issued) → token request (code taken, PKCE checked, ID token and
//!   access token signed): everything the code-flow load scenario costs the server minus HTTP;
//! - `grant/client_credentials/{jwt,opaque}`: RFC 6749 §4.4 end to end.

use criterion::{Criterion, criterion_group, criterion_main};
use kunci::app;
use kunci::config::Config;
use kunci_core::authorize::{AuthorizeParams, validate};
use kunci_core::client::PresentedCredentials;
use kunci_core::flow::{AuthorizeOutcome, TokenRequest};
use kunci_core::ports::Account;
use kunci_core::secret::{Secret, random_token, random_uuid, sha256_hex};
use kunci_core::{Clock, Provider, pkce};
use std::hint::black_box;
use std::sync::Arc;

const SECRET: &str = "bench-secret-0123456789abcdef0123456789";
const REDIRECT: &str = "http://127.0.0.1:9/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn config_text(dir: &std::path::Path) -> String {
    let digest = sha256_hex(SECRET.as_bytes());
    let client = |id: &str, alg: &str, extra: &str| {
        format!(
            "[[clients]]\nclient_id = \"{id}\"\nname = \"{id}\"\nsecret = \"sha256:{digest}\"\nredirect_uris = [\"{REDIRECT}\"]\nfirst_party = true\nid_token_signed_response_alg = \"{alg}\"\n{extra}\n"
        )
    };
    let cc = "grant_types = [\"client_credentials\"]\nscopes = [\"api.read\"]\n";
    format!(
        "version = 1\ndata_dir = {:?}\n\n{}{}{}{}",
        dir.join("data").display().to_string(),
        client("web-es", "ES256", ""),
        client("web-rs", "RS256", ""),
        client("cc-jwt", "ES256", cc),
        client(
            "cc-opaque",
            "ES256",
            &format!("{cc}access_token_format = \"opaque\"\n")
        ),
    )
}

struct Fixture {
    provider: Arc<Provider>,
    clock: Arc<dyn Clock>,
    session_id: String,
    browser_key: String,
    _dir: tempfile::TempDir,
}

fn params(client_id: &str) -> AuthorizeParams {
    AuthorizeParams::from_pairs(
        [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("scope", "openid profile email"),
            ("state", "af0ifjsldkj"),
            ("nonce", "n-0S6_WzA2Mj"),
            ("code_challenge", &pkce::challenge_for(VERIFIER)),
            ("code_challenge_method", "S256"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("kunci.toml");
    std::fs::write(&path, config_text(dir.path())).expect("write config");
    let config: Config = Config::load(Some(&path)).expect("valid config").config;
    let kunci = app::assemble(config).await.expect("assemble");
    let state = kunci.state.clone();
    let provider = state.provider.clone();
    let clock = state.clock.clone();
    let now = clock.now();
    let account = Account {
        id: random_uuid(),
        email: "wayan@example.co.id".into(),
        email_verified: true,
        name: "Wayan Sari".into(),
        password_hash: None,
        locale: None,
        created_at: now,
        updated_at: now,
    };
    provider.durable.create(&account).await.expect("account");
    // Sign in once through the real interaction, as the hosted login page does.
    let browser_key = random_token();
    let AuthorizeOutcome::Interact { interaction_id } = provider
        .authorize(&params("web-es"), None, &browser_key, now)
        .await
        .expect("authorize")
    else {
        panic!("a browser without a session is sent to sign in");
    };
    let view = provider
        .interaction(&interaction_id, Some(&browser_key), now)
        .await
        .expect("interaction");
    let outcome = provider
        .authenticated(view, &account, "pwd", now)
        .await
        .expect("sign in");
    Fixture {
        provider,
        clock,
        session_id: outcome.new_session_id.expect("a session"),
        browser_key,
        _dir: dir,
    }
}

fn basic(client_id: &str) -> Option<PresentedCredentials> {
    Some(PresentedCredentials::Basic {
        client_id: client_id.into(),
        secret: Secret::new(SECRET.into()),
    })
}

async fn code_to_tokens(f: &Fixture, client_id: &str) {
    let now = f.clock.now();
    let outcome = f
        .provider
        .authorize(&params(client_id), Some(&f.session_id), &f.browser_key, now)
        .await
        .expect("authorize");
    let AuthorizeOutcome::Redirect(url) = outcome else {
        panic!("an SSO session and a first-party client give a code at once: {outcome:?}");
    };
    let code = url::Url::parse(&url)
        .expect("redirect URL")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let req = TokenRequest {
        credentials: basic(client_id),
        grant_type: Some("authorization_code".into()),
        code: Some(code),
        redirect_uri: Some(REDIRECT.into()),
        code_verifier: Some(VERIFIER.into()),
        ..Default::default()
    };
    black_box(f.provider.token(req, now).await.expect("tokens"));
}

async fn client_credentials(f: &Fixture, client_id: &str) {
    let req = TokenRequest {
        credentials: basic(client_id),
        grant_type: Some("client_credentials".into()),
        ..Default::default()
    };
    black_box(f.provider.token(req, f.clock.now()).await.expect("token"));
}

fn flows(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let f = rt.block_on(fixture());
    let p = params("web-es");
    c.bench_function("authorize/validate", |b| {
        b.iter(|| validate(black_box(&p), &f.provider.clients).expect("valid"))
    });
    for (alg, client) in [("ES256", "web-es"), ("RS256", "web-rs")] {
        c.bench_function(&format!("flow/code_to_tokens/{alg}"), |b| {
            b.to_async(&rt).iter(|| code_to_tokens(&f, client))
        });
    }
    for (format, client) in [("jwt", "cc-jwt"), ("opaque", "cc-opaque")] {
        c.bench_function(&format!("grant/client_credentials/{format}"), |b| {
            b.to_async(&rt).iter(|| client_credentials(&f, client))
        });
    }
}

criterion_group!(benches, flows);
criterion_main!(benches);
