//! A real Kunci server for tests: temporary data directory, ephemeral port on 127.0.0.1, the
//! clients below, and the backends the test asked for.

use crate::backends::{Backends, TempDatabase};
use kunci::app;
use kunci::clock::SystemClock;
use kunci::config::{ClientConfig, Config, SessionBackend};
use kunci_core::ports::Account;
use kunci_core::secret::{random_token, random_uuid, sha256_hex};
use kunci_core::{Clock, ManualClock};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

/// A client registered on every test server.
#[derive(Debug, Clone)]
pub struct TestClient {
    pub id: &'static str,
    pub secret: Option<&'static str>,
    pub redirect_uri: &'static str,
}

/// Confidential, `client_secret_basic`, RS256 ID tokens, needs consent.
pub const WEB: TestClient = TestClient {
    id: "web",
    secret: Some("web-secret-0123456789abcdef0123456789"),
    redirect_uri: "http://127.0.0.1:1/web/cb",
};
/// Confidential, `client_secret_post`, ES256 ID tokens.
pub const POST: TestClient = TestClient {
    id: "post",
    secret: Some("post-secret-0123456789abcdef012345678"),
    redirect_uri: "http://127.0.0.1:1/post/cb",
};
/// Public (SPA), PKCE mandatory.
pub const SPA: TestClient = TestClient {
    id: "spa",
    secret: None,
    redirect_uri: "http://localhost:1/spa/cb",
};
/// First-party confidential client: no consent page.
pub const FIRST: TestClient = TestClient {
    id: "first",
    secret: Some("first-secret-0123456789abcdef01234567"),
    redirect_uri: "http://127.0.0.1:1/first/cb",
};

/// Confidential, `client_secret_basic`, may hold refresh tokens (`offline_access`), needs
/// consent.
pub const OFFLINE: TestClient = TestClient {
    id: "offline",
    secret: Some("offline-secret-0123456789abcdef0123456"),
    redirect_uri: "http://127.0.0.1:1/offline/cb",
};
/// Public (native app), refresh tokens, opaque access tokens.
pub const APP: TestClient = TestClient {
    id: "app",
    secret: None,
    redirect_uri: "http://localhost:1/app/cb",
};
/// The resource [`SERVICE`] may ask for and [`API`] serves.
pub const ORDERS_API: &str = "https://orders.example.test";
/// A backend service: `client_credentials` only, scopes `orders:read` and `orders:write`,
/// may name [`ORDERS_API`] as `resource`.
pub const SERVICE: TestClient = TestClient {
    id: "service",
    secret: Some("service-secret-0123456789abcdef0123456"),
    redirect_uri: "",
};
/// A resource server for [`ORDERS_API`]: no grants, introspects tokens meant for it.
pub const API: TestClient = TestClient {
    id: "orders-api",
    secret: Some("orders-api-secret-0123456789abcdef0123"),
    redirect_uri: "",
};

/// The test clients beyond the four basic ones: refresh tokens, opaque tokens, a service and
/// a resource server.
fn token_family_clients() -> Vec<ClientConfig> {
    let mut offline = client_config(&OFFLINE, "client_secret_basic", "RS256", false);
    offline.refresh_tokens = true;
    let mut app = client_config(&APP, "none", "ES256", false);
    app.refresh_tokens = true;
    app.access_token_format = "opaque".into();
    let mut service = client_config(&SERVICE, "client_secret_basic", "RS256", false);
    service.redirect_uris = Vec::new();
    service.grant_types = vec!["client_credentials".into()];
    service.scopes = vec!["orders:read".into(), "orders:write".into()];
    service.audiences = vec![ORDERS_API.into()];
    let mut api = client_config(&API, "client_secret_basic", "RS256", false);
    api.redirect_uris = Vec::new();
    api.grant_types = Vec::new();
    api.scopes = Vec::new();
    api.resource_server = true;
    api.audiences = vec![ORDERS_API.into()];
    vec![offline, app, service, api]
}

/// The configuration of a test client, for tests that register more (`TestServer::start_with`).
pub fn client_config(c: &TestClient, method: &str, alg: &str, first_party: bool) -> ClientConfig {
    ClientConfig {
        client_id: c.id.into(),
        name: format!("Test app {}", c.id),
        secret: c
            .secret
            .map(|s| format!("sha256:{}", sha256_hex(s.as_bytes()))),
        redirect_uris: vec![c.redirect_uri.into()],
        grant_types: vec!["authorization_code".into()],
        scopes: vec![
            "openid".into(),
            "profile".into(),
            "email".into(),
            "phone".into(),
        ],
        token_endpoint_auth_method: method.into(),
        first_party,
        id_token_signed_response_alg: alg.into(),
        require_pkce: true,
        refresh_tokens: false,
        refresh_token_idle_ttl_secs: 30 * 24 * 3600,
        refresh_token_absolute_ttl_secs: 90 * 24 * 3600,
        refresh_token_rotation: true,
        access_token_format: "jwt".into(),
        audiences: Vec::new(),
        resource_server: false,
        post_logout_redirect_uris: Some(c.post_logout_redirect_uri())
            .filter(|_| !c.redirect_uri.is_empty())
            .into_iter()
            .collect(),
        backchannel_logout_uri: None,
        backchannel_logout_session_required: true,
        frontchannel_logout_uri: None,
        frontchannel_logout_session_required: true,
        jwks: None,
        jwks_uri: None,
        require_pushed_authorization_requests: false,
        dpop_bound_access_tokens: false,
        profile: None,
        subject_type: "public".into(),
        sector_identifier: None,
        token_exchange: None,
    }
}

impl TestClient {
    /// The post-logout redirect URI registered for every test client with a redirect URI:
    /// that URI with `/cb` replaced by `/logged-out`. Back- and front-channel logout URIs are
    /// off unless a test sets them (`TestServer::start_with`).
    pub fn post_logout_redirect_uri(&self) -> String {
        self.redirect_uri.replace("/cb", "/logged-out")
    }
}

pub struct TestServer {
    /// The issuer, e.g. `http://127.0.0.1:41234`.
    pub issuer: String,
    pub data_dir: PathBuf,
    pub kunci: app::Kunci,
    handle: actix_web::dev::ServerHandle,
    _dir: tempfile::TempDir,
    _database: Option<TempDatabase>,
}

impl TestServer {
    /// A server on the current backends (see [`crate::suite`]; the embedded default otherwise).
    pub async fn start() -> Self {
        Self::start_with(Backends::current(), |_| {}).await
    }

    /// A server on `backends`, with `tweak` applied to the configuration before start.
    pub async fn start_with(backends: Backends, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start_full(backends, Arc::new(SystemClock), tweak).await
    }

    /// A server whose clock the test moves (`ManualClock::advance`), e.g. to expire codes.
    pub async fn start_with_clock(clock: Arc<ManualClock>) -> Self {
        Self::start_full(Backends::current(), clock, |_| {}).await
    }

    pub async fn start_full(
        backends: Backends,
        clock: Arc<dyn Clock>,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let addr = listener.local_addr().expect("local address");
        let mut config = Config {
            issuer: format!("http://{addr}"),
            listen: addr.to_string(),
            data_dir: dir.path().join("data"),
            clients: vec![
                client_config(&WEB, "client_secret_basic", "RS256", false),
                client_config(&POST, "client_secret_post", "ES256", false),
                client_config(&SPA, "none", "ES256", false),
                client_config(&FIRST, "client_secret_basic", "RS256", true),
            ]
            .into_iter()
            .chain(token_family_clients())
            .collect(),
            ..Config::default()
        };
        let mut database = None;
        if let Backends::Production {
            database_admin_url,
            redis_url,
        } = &backends
        {
            let db = TempDatabase::create(database_admin_url)
                .await
                .expect("create a test database");
            config.database.url = db.url.clone();
            database = Some(db);
            config.sessions.backend = SessionBackend::Redis;
            config.sessions.url = redis_url.clone();
            config.sessions.key_prefix = format!("kunci-test:{}:", random_token());
        }
        tweak(&mut config);
        config.validate().expect("test configuration is valid");
        let kunci = app::assemble_with_clock(config, clock)
            .await
            .expect("Kunci assembles");
        let server = app::http_server(&kunci, listener).expect("HTTP server starts");
        let handle = server.handle();
        tokio::spawn(server);
        let data_dir = kunci.config.data_dir.clone();
        Self {
            issuer: format!("http://{addr}"),
            data_dir,
            kunci,
            handle,
            _dir: dir,
            _database: database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// Creates an account directly in the store (the CLI and registration are tested separately).
    pub async fn add_user(
        &self,
        email: &str,
        name: &str,
        password: &str,
        verified: bool,
    ) -> Account {
        let state = &self.kunci.state;
        let hash = state
            .passwords
            .hash(kunci_core::secret::Secret::new(password.to_owned()))
            .await
            .expect("hash");
        let now = state.now();
        let account = Account {
            id: random_uuid(),
            email: email.to_owned(),
            email_verified: verified,
            name: name.to_owned(),
            password_hash: Some(hash),
            locale: None,
            created_at: now,
            updated_at: now,
        };
        state
            .provider
            .durable
            .create(&account)
            .await
            .expect("create account");
        account
    }

    /// The `.eml` files in the outbox, oldest first.
    pub fn outbox(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(self.kunci.config.outbox_dir())
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Stops accepting and closes workers; the future is not awaited (Drop is sync).
        drop(self.handle.stop(false));
    }
}
