//! The composition root: the one place that turns configuration into running parts and wires
//! them together. `main` and the tests both start Kunci through here.

use crate::backchannel::{HttpLogoutNotifier, RetryPolicy};
use crate::clock::SystemClock;
use crate::config::{Config, SessionBackend};
use crate::keys;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use kunci_authn::{Mailer, OutboxMailer, PasswordHasher, PasswordPolicy, SmtpMailer};
use kunci_core::client::ClientRegistry;
use kunci_core::jose::SharedKeys;
use kunci_core::ports::{EphemeralStore, RefreshTokenRepo};
use kunci_core::{Clock, Provider, Settings};
use kunci_session::{MemoryStore, RedisConfig, RedisStore};
use kunci_store::{Database, PoolOptions, redact_url};
use kunci_web::AppState;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

/// A fully wired Kunci, ready to serve.
pub struct Kunci {
    pub state: web::Data<AppState>,
    pub database: Database,
    pub config: Config,
    /// The in-memory session store, when used, so the caller can schedule its purge.
    pub memory_sessions: Option<Arc<MemoryStore>>,
    /// Where the signing keys live, and which are kept: [`reload_keys`] reads them again.
    pub key_source: keys::KeySource,
    pub key_policy: keys::KeyPolicy,
}

pub async fn connect_database(config: &Config) -> anyhow::Result<Database> {
    if config.database.url.is_empty() {
        // The embedded default keeps password hashes under data_dir: owner-only from the first
        // command that creates it, whether that is `serve`, `migrate` or `user add`.
        create_private_dir(&config.data_dir)
            .with_context(|| format!("cannot create data_dir {}", config.data_dir.display()))?;
    }
    let url = config.database_url();
    let opts = PoolOptions {
        max_size: config.database.max_connections,
        connect_timeout: Duration::from_secs(config.database.connect_timeout_secs),
        wait_timeout: Duration::from_secs(config.database.connect_timeout_secs),
        ..PoolOptions::default()
    };
    Database::connect(&url, &opts)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(&url)))
}

/// Builds everything `serve` needs from `config`, on the system clock.
pub async fn assemble(config: Config) -> anyhow::Result<Kunci> {
    assemble_with_clock(config, Arc::new(SystemClock)).await
}

/// As [`assemble`], with the clock given: tests move time without sleeping.
pub async fn assemble_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Kunci> {
    create_private_dir(&config.data_dir)
        .with_context(|| format!("cannot create data_dir {}", config.data_dir.display()))?;
    let database = connect_database(&config).await?;
    if config.database.migrate_on_start {
        let applied = database
            .migrate()
            .await
            .context("database migration failed")?;
        if applied > 0 {
            tracing::info!(applied, "database migrations applied");
        }
    }
    let (ephemeral, memory_sessions): (Arc<dyn EphemeralStore>, _) = match config.sessions.backend {
        SessionBackend::Memory => {
            let m = Arc::new(MemoryStore::new(clock.clone()));
            (m.clone(), Some(m))
        }
        SessionBackend::Redis => {
            let mut rc = RedisConfig::new(config.sessions.url.clone());
            rc.key_prefix = config.sessions.key_prefix.clone();
            rc.response_timeout = Duration::from_millis(config.sessions.timeout_ms);
            let store = RedisStore::connect(&rc)
                .await
                .context("cannot connect to the Redis session store")?;
            (Arc::new(store), None)
        }
    };
    let key_source = keys::KeySource::from_config(&config, &database)?;
    let key_policy = keys::KeyPolicy::from_config(&config);
    let keys = key_source
        .load_or_generate(&key_policy, clock.now())
        .await?;
    let mut settings = Settings::new(config.issuer.clone());
    settings.access_token_ttl = config.tokens.access_token_ttl_secs;
    settings.id_token_ttl = config.tokens.id_token_ttl_secs;
    settings.session_ttl = config.tokens.session_ttl_secs;
    settings.device_code_ttl = config.tokens.device_code_ttl_secs;
    settings.access_token_alg = config.access_token_alg();
    settings.pairwise_salt = config.pairwise_salt()?.map(Arc::new);
    settings.dpop_require_nonce = config.tokens.dpop_require_nonce;
    settings.registration = config.registration_policy()?.map(Arc::new);
    settings.fapi2_clients = config.fapi2_client_ids();
    let provider = Arc::new(Provider {
        settings,
        clients: ClientRegistry::new(config.clients()?),
        keys: SharedKeys::new(keys),
        durable: Arc::new(database.clone()),
        ephemeral,
        logout_notifier: Arc::new(
            HttpLogoutNotifier::new(RetryPolicy::default())
                .context("cannot build the back-channel logout HTTP client")?,
        ),
        jwks_fetcher: Arc::new(
            crate::jwks_fetch::HttpJwksFetcher::new()
                .context("cannot build the HTTP client for clients' jwks_uri")?,
        ),
    });
    let mailer: Arc<dyn Mailer> = if config.mail.smtp_url.is_empty() {
        Arc::new(
            OutboxMailer::new(config.outbox_dir(), &config.mail.from, clock.clone())
                .context("cannot create the mail outbox")?,
        )
    } else {
        Arc::new(
            SmtpMailer::new(&config.mail.smtp_url, &config.mail.from, clock.clone())
                .context("mail.smtp_url is not usable")?,
        )
    };
    let passwords = PasswordHasher::new(PasswordPolicy::default()).context("password hasher")?;
    let mut state = AppState::new(provider, passwords, mailer, clock)
        .context("the compiled-in translations are broken")?;
    state.trusted_proxies = config.trusted_proxy_networks()?;
    Ok(Kunci {
        state: web::Data::new(state),
        database,
        config,
        memory_sessions,
        key_source,
        key_policy,
    })
}

/// Reads the signing keys again and makes them current if anything changed (ADR 0006): a
/// rotated key is published, an expired one dropped. `spawn_housekeeping` runs this every
/// [`keys::RELOAD_INTERVAL`]; tests call it directly. On error the keys in use stay.
pub async fn reload_keys(kunci: &Kunci) -> anyhow::Result<bool> {
    let state = &kunci.state;
    keys::reload(
        &kunci.key_source,
        &kunci.key_policy,
        &state.provider.keys,
        state.clock.now(),
    )
    .await
}

/// The HTTP server on an already-bound listener (plain or TLS per config).
pub fn http_server(kunci: &Kunci, listener: TcpListener) -> anyhow::Result<actix_web::dev::Server> {
    let state = kunci.state.clone();
    let secure = state.secure_cookies;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(64 * 1024))
            .wrap(kunci_web::headers::security(secure))
            .configure(kunci_web::routes)
    })
    .shutdown_timeout(5);
    let server = match &kunci.config.tls {
        Some(tls) => {
            server.listen_rustls_0_23(listener, crate::tls::server_config(&tls.cert, &tls.key)?)?
        }
        None => server.listen(listener)?,
    };
    Ok(server.run())
}

/// Background upkeep: purge expired in-memory sessions every minute, reload the signing keys
/// every minute, and purge expired refresh tokens every hour.
pub fn spawn_housekeeping(kunci: &Kunci) {
    let (source, policy, state) = (
        kunci.key_source.clone(),
        kunci.key_policy.clone(),
        kunci.state.clone(),
    );
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(keys::RELOAD_INTERVAL);
        tick.tick().await; // the first tick is immediate; the keys were just loaded
        loop {
            tick.tick().await;
            let now = state.clock.now();
            if let Err(e) = keys::reload(&source, &policy, &state.provider.keys, now).await {
                tracing::warn!(error = %format!("{e:#}"), "reloading the signing keys failed; the keys loaded before stay in use");
            }
        }
    });
    if let Some(m) = kunci.memory_sessions.clone() {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                m.purge_expired();
            }
        });
    }
    // Retention: refresh tokens that can no longer be used leave the database. Every node
    // may run this; the DELETE is idempotent.
    let database = kunci.database.clone();
    let clock = kunci.state.clock.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match database.purge_expired_refresh_tokens(clock.now()).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "expired refresh tokens purged"),
                Err(e) => tracing::warn!(error = %e, "purging expired refresh tokens failed"),
            }
        }
    });
}

/// The data directory holds password hashes and private keys: owner-only access.
fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
