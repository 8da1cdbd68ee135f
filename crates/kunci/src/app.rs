//! The composition root: the one place that turns configuration into running parts and wires
//! them together. `main` and the tests both start Kunci through here.

use crate::backchannel::{HttpLogoutNotifier, RetryPolicy};
use crate::clock::SystemClock;
use crate::config::{Config, KeyStorage, SessionBackend};
use crate::keys;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use kunci_authn::{Mailer, OutboxMailer, PasswordHasher, PasswordPolicy, SmtpMailer};
use kunci_core::client::ClientRegistry;
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
}

pub async fn connect_database(config: &Config) -> anyhow::Result<Database> {
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
    let keys = match config.keys.storage {
        KeyStorage::Files => keys::load_or_generate(&config.data_dir)?,
        KeyStorage::Database => {
            let master = config.master_key()?.context(
                "keys.master_key: storage = \"database\" needs a master key; generate one with `kunci keys generate-master-key`",
            )?;
            keys::load_or_generate_shared(&database, &master, clock.now()).await?
        }
    };
    let mut settings = Settings::new(config.issuer.clone());
    settings.access_token_ttl = config.tokens.access_token_ttl_secs;
    settings.id_token_ttl = config.tokens.id_token_ttl_secs;
    settings.session_ttl = config.tokens.session_ttl_secs;
    settings.access_token_alg = config.access_token_alg();
    let provider = Arc::new(Provider {
        settings,
        clients: ClientRegistry::new(config.clients()?),
        keys: Arc::new(keys),
        durable: Arc::new(database.clone()),
        ephemeral,
        logout_notifier: Arc::new(
            HttpLogoutNotifier::new(RetryPolicy::default())
                .context("cannot build the back-channel logout HTTP client")?,
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
    let state = AppState::new(provider, passwords, mailer, clock)
        .context("the compiled-in translations are broken")?;
    Ok(Kunci {
        state: web::Data::new(state),
        database,
        config,
        memory_sessions,
    })
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

/// Background upkeep: purge expired in-memory sessions every minute, and expired refresh
/// tokens every hour.
pub fn spawn_housekeeping(kunci: &Kunci) {
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
