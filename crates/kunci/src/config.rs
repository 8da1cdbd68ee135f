//! Operator configuration: built-in defaults → TOML file → `KUNCI_*` environment variables.
//!
//! Unknown keys are errors, and everything is validated eagerly at start-up with messages
//! naming the file, the key and what to do, so a mistake never surfaces as a runtime surprise.
//! The full reference is `docs/configuration.md`.

mod client_auth;
mod clients;
mod profile;
mod registration;
mod subject;
mod token_exchange;

pub use clients::ClientConfig;
use clients::parse_secret;
pub use registration::RegistrationConfig;
pub use token_exchange::TokenExchangeConfig;

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use kunci_core::client::{AccessTokenFormat, Client};
use kunci_core::jose::Alg;
use kunci_core::sealing::MasterKey;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Format version of this file; only 1 exists.
    pub version: u32,
    /// The issuer URL clients see (`iss`). Everything is served below it.
    pub issuer: String,
    /// Address and port to listen on.
    pub listen: String,
    /// Where the embedded default keeps its database, keys and outbox.
    pub data_dir: PathBuf,
    pub tls: Option<TlsConfig>,
    pub database: DatabaseConfig,
    pub sessions: SessionsConfig,
    pub mail: MailConfig,
    pub tokens: TokensConfig,
    pub keys: KeysConfig,
    /// OIDC Core §8.1: the salt of pairwise subject identifiers, or `env:VAR`; required when
    /// a client has `subject_type = "pairwise"`.
    #[serde(default)]
    pub pairwise_salt: subject::PairwiseSaltSetting,
    /// Reverse proxies (addresses or CIDR networks) whose `X-Forwarded-For` names the client,
    /// for per-address rate limits; empty: the TCP peer is the client.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    pub clients: Vec<ClientConfig>,
    /// Dynamic client registration (RFC 7591/7592); off by default.
    #[serde(default)]
    pub registration: RegistrationConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://…`; empty means `sqlite://<data_dir>/kunci.db`.
    pub url: String,
    pub max_connections: usize,
    pub connect_timeout_secs: u64,
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionBackend {
    Memory,
    Redis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsConfig {
    pub backend: SessionBackend,
    /// Redis URL, for `backend = "redis"`.
    pub url: String,
    pub key_prefix: String,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// `smtp://host:port`, `smtp://host:port?tls=starttls` or `smtps://user:pass@host:465`.
    /// Empty: mail is written to `outbox_dir` instead (the embedded default).
    pub smtp_url: String,
    pub from: String,
    /// Empty means `<data_dir>/outbox`.
    pub outbox_dir: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensConfig {
    pub access_token_ttl_secs: u64,
    pub id_token_ttl_secs: u64,
    pub session_ttl_secs: u64,
    /// `ES256` (fast) or `RS256`.
    pub access_token_alg: String,
    /// RFC 9449 §8, §9: every DPoP proof (at `/token`, `/par`, `/userinfo`) must carry a
    /// nonce Kunci handed out (`DPoP-Nonce`), which limits pre-generated proofs.
    #[serde(default)]
    pub dpop_require_nonce: bool,
    /// RFC 8628 `expires_in`: how long a device code and its user code work.
    #[serde(default = "default_device_code_ttl")]
    pub device_code_ttl_secs: u64,
}

fn default_device_code_ttl() -> u64 {
    600
}

/// Where the signing keys live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStorage {
    /// PKCS#8 files in `<data_dir>/keys/`: one node (the embedded default).
    Files,
    /// In the database, sealed under `keys.master_key`: every node signs with the same keys.
    Database,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    pub storage: KeyStorage,
    /// For `storage = "database"`: 32 bytes in base64 (`kunci keys generate-master-key`), or
    /// `env:VAR` when the variable VAR holds them (recommended: `env:KUNCI_MASTER_KEY`).
    pub master_key: String,
    /// The signing algorithms with a key: RS256 and ES256 always, EdDSA and PS256 on request.
    /// Only these may be chosen by clients and `tokens.access_token_alg`, and discovery lists
    /// exactly these.
    #[serde(default = "default_key_algorithms")]
    pub algorithms: Vec<String>,
}

fn default_key_algorithms() -> Vec<String> {
    vec!["RS256".into(), "ES256".into()]
}

impl std::fmt::Debug for KeysConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // An `env:` reference names a variable and may show; a key written inline never does.
        let master_key = if self.master_key.is_empty() || self.master_key.starts_with("env:") {
            self.master_key.as_str()
        } else {
            "***"
        };
        f.debug_struct("KeysConfig")
            .field("storage", &self.storage)
            .field("master_key", &master_key)
            .field("algorithms", &self.algorithms)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            version: 1,
            issuer: "http://127.0.0.1:8080".into(),
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            tls: None,
            database: DatabaseConfig {
                url: String::new(),
                max_connections: 16,
                connect_timeout_secs: 5,
                migrate_on_start: true,
            },
            sessions: SessionsConfig {
                backend: SessionBackend::Memory,
                url: String::new(),
                key_prefix: "kunci:".into(),
                timeout_ms: 1000,
            },
            mail: MailConfig {
                smtp_url: String::new(),
                from: "Kunci <no-reply@localhost>".into(),
                outbox_dir: String::new(),
            },
            tokens: TokensConfig {
                access_token_ttl_secs: 600,
                id_token_ttl_secs: 600,
                session_ttl_secs: 12 * 3600,
                access_token_alg: "ES256".into(),
                dpop_require_nonce: false,
                device_code_ttl_secs: default_device_code_ttl(),
            },
            keys: KeysConfig {
                storage: KeyStorage::Files,
                master_key: String::new(),
                algorithms: default_key_algorithms(),
            },
            pairwise_salt: Default::default(),
            trusted_proxies: Vec::new(),
            clients: Vec::new(),
            registration: RegistrationConfig::default(),
        }
    }
}

/// Where the configuration came from, for messages.
pub struct Loaded {
    pub config: Config,
    pub source: String,
}

impl Config {
    /// Loads defaults, then the file (if any), then `KUNCI_*` variables (`__` separates
    /// nested keys: `KUNCI_DATABASE__URL`), and validates the result.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Loaded> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        let source = match path {
            Some(p) => {
                if !p.is_file() {
                    bail!(
                        "config file {} does not exist (given by --config or KUNCI_CONFIG)",
                        p.display()
                    );
                }
                fig = fig.merge(Toml::file_exact(p));
                p.display().to_string()
            }
            None => "built-in defaults".to_owned(),
        };
        let env = Env::prefixed("KUNCI_")
            .split("__")
            .filter(|k| is_setting_variable(&k.as_str().to_ascii_lowercase()));
        fig = fig.merge(env);
        let config: Config = fig
            .extract()
            .map_err(|e| anyhow::anyhow!("{source}: {}", figment_message(e)))?;
        config
            .validate()
            .with_context(|| format!("{source}: invalid configuration"))?;
        Ok(Loaded { config, source })
    }

    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen.parse().with_context(|| {
            format!(
                "listen: {:?} is not an address like 127.0.0.1:8080",
                self.listen
            )
        })
    }

    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("kunci.db").display())
        } else {
            self.database.url.clone()
        }
    }

    pub fn outbox_dir(&self) -> PathBuf {
        if self.mail.outbox_dir.is_empty() {
            self.data_dir.join("outbox")
        } else {
            PathBuf::from(&self.mail.outbox_dir)
        }
    }

    /// The master key that seals the signing keys in the database, read from the file or from
    /// the variable `keys.master_key = "env:VAR"` names; `None` when none is configured.
    pub fn master_key(&self) -> anyhow::Result<Option<MasterKey>> {
        resolve_master_key(&self.keys.master_key, |var| std::env::var(var).ok())
    }

    /// The clients with `profile = "fapi2"` (`config/profile.rs`), for the core's FAPI 2.0 rules.
    pub fn fapi2_client_ids(&self) -> Vec<String> {
        self.clients
            .iter()
            .filter(|c| c.profile.as_deref() == Some("fapi2"))
            .map(|c| c.client_id.clone())
            .collect()
    }

    pub fn access_token_alg(&self) -> Alg {
        Alg::parse(&self.tokens.access_token_alg).unwrap_or(Alg::ES256)
    }

    /// The enabled signing algorithms (`keys.algorithms`, validated), in the order given.
    pub fn signing_algs(&self) -> Vec<Alg> {
        self.keys
            .algorithms
            .iter()
            .filter_map(|a| Alg::parse(a))
            .collect()
    }

    /// Cross-field checks. Each message names the key and the fix.
    /// `trusted_proxies`, parsed; a bad entry names its index.
    pub fn trusted_proxy_networks(&self) -> anyhow::Result<Vec<kunci_web::client_ip::Network>> {
        self.trusted_proxies
            .iter()
            .enumerate()
            .map(|(i, p)| {
                kunci_web::client_ip::Network::parse(p).with_context(|| {
                    format!("trusted_proxies[{i}]: {p:?} is not an IP address or CIDR network (e.g. \"10.0.0.0/8\")")
                })
            })
            .collect()
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if self.version != 1 {
            bail!("version: only version = 1 exists (got {})", self.version);
        }
        check_issuer(&self.issuer)?;
        self.listen_addr()?;
        self.trusted_proxy_networks()?;
        if let Some(tls) = &self.tls {
            for (key, p) in [("tls.cert", &tls.cert), ("tls.key", &tls.key)] {
                if !p.is_file() {
                    bail!("{key}: file {} does not exist", p.display());
                }
            }
        }
        if self.sessions.backend == SessionBackend::Redis && self.sessions.url.is_empty() {
            bail!("sessions.url: backend = \"redis\" needs a Redis URL (redis://host:6379)");
        }
        self.validate_keys()?;
        self.validate_pairwise()?;
        self.registration_policy()?;
        let enabled = self.signing_algs();
        match Alg::parse(&self.tokens.access_token_alg) {
            None => bail!(
                "tokens.access_token_alg: must be ES256, RS256, PS256 or EdDSA (got {:?})",
                self.tokens.access_token_alg
            ),
            Some(alg) if !enabled.contains(&alg) => bail!(
                "tokens.access_token_alg: {} is not in keys.algorithms; add it there",
                alg.as_str()
            ),
            Some(_) => {}
        }
        if self.tokens.access_token_ttl_secs == 0
            || self.tokens.id_token_ttl_secs == 0
            || self.tokens.session_ttl_secs == 0
        {
            bail!("tokens: lifetimes must be at least 1 second");
        }
        // RFC 8628 §5.2: short enough to bound guessing, long enough to type the code in.
        if !(60..=3600).contains(&self.tokens.device_code_ttl_secs) {
            bail!(
                "tokens.device_code_ttl_secs: must be between 60 and 3600 seconds (got {})",
                self.tokens.device_code_ttl_secs
            );
        }
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.clients.iter().enumerate() {
            if !seen.insert(c.client_id.as_str()) {
                bail!(
                    "clients[{i}].client_id: {:?} is registered twice",
                    c.client_id
                );
            }
            let client = c
                .to_client()
                .with_context(|| format!("clients[{i}] ({:?})", c.client_id))?;
            if !enabled.contains(&client.id_token_alg) {
                bail!(
                    "clients[{i}] ({:?}): id_token_signed_response_alg: {} is not in keys.algorithms; add it there",
                    c.client_id,
                    client.id_token_alg.as_str()
                );
            }
            // FAPI 2.0 §5.4.1: the profile's JWT access tokens are not RS256 either.
            if c.profile.as_deref() == Some("fapi2")
                && client.access_token_format == AccessTokenFormat::Jwt
                && self.access_token_alg() == Alg::RS256
            {
                bail!(
                    "clients[{i}] ({:?}): tokens.access_token_alg: profile \"fapi2\" needs PS256, ES256 or EdDSA for JWT access tokens (FAPI 2.0 §5.4.1), not RS256; change it or give the client access_token_format = \"opaque\"",
                    c.client_id
                );
            }
        }
        token_exchange::check_subject_clients(&self.clients)?;
        Ok(())
    }

    /// `keys.algorithms`: known names, no repeats, RS256 (OIDC Core §15.1) and ES256 (the
    /// default for access tokens) always present.
    fn validate_key_algorithms(&self) -> anyhow::Result<()> {
        let mut seen = Vec::new();
        for (i, name) in self.keys.algorithms.iter().enumerate() {
            let alg = Alg::parse(name).with_context(|| {
                format!(
                    "keys.algorithms[{i}]: {name:?} is not one of RS256, ES256, EdDSA, PS256 (names are case-sensitive)"
                )
            })?;
            if seen.contains(&alg) {
                bail!("keys.algorithms[{i}]: {name} is listed twice");
            }
            seen.push(alg);
        }
        for required in [Alg::RS256, Alg::ES256] {
            if !seen.contains(&required) {
                bail!(
                    "keys.algorithms: must include {0} (RS256 is required by OpenID Connect, ES256 signs access tokens by default); add \"{0}\"",
                    required.as_str()
                );
            }
        }
        Ok(())
    }

    fn validate_keys(&self) -> anyhow::Result<()> {
        self.validate_key_algorithms()?;
        match self.keys.storage {
            KeyStorage::Database => {
                if self.master_key()?.is_none() {
                    bail!(
                        "keys.master_key: storage = \"database\" keeps the signing keys encrypted under a master key, and none is set; generate one with `kunci keys generate-master-key`, put it in the environment variable KUNCI_MASTER_KEY and set master_key = \"env:KUNCI_MASTER_KEY\""
                    );
                }
            }
            KeyStorage::Files => {
                if !self.keys.master_key.is_empty() {
                    tracing::warn!(
                        "keys.master_key is set but unused: keys.storage = \"files\" keeps the signing keys in data_dir; set storage = \"database\" to share them between nodes"
                    );
                }
            }
        }
        Ok(())
    }

    /// The clients in the form the core uses. Resolves `env:` secrets.
    pub fn clients(&self) -> anyhow::Result<Vec<Client>> {
        self.clients.iter().map(ClientConfig::to_client).collect()
    }
}

/// Whether `KUNCI_<key>` overrides a setting: only when its first part names a top-level key
/// of [`Config`] (`key` lower-cased; nested parts joined by `__` or `.`). Everything else with
/// the prefix is left alone: KUNCI_CONFIG, KUNCI_LOG, KUNCI_LOG_FORMAT, KUNCI_MASTER_KEY,
/// KUNCI_TEST_*, and secrets a client reads through `secret = "env:KUNCI_…"`. The list of keys
/// comes from `Config` itself, so a new section can never be forgotten here.
fn is_setting_variable(key: &str) -> bool {
    static TOP_LEVEL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let top = TOP_LEVEL.get_or_init(|| match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
        _ => Vec::new(),
    });
    let first = key
        .split("__")
        .next()
        .unwrap_or(key)
        .split('.')
        .next()
        .unwrap_or(key);
    top.iter().any(|k| k == first)
}

/// Reads `keys.master_key`: empty (none), `env:VAR`, or the key itself in base64.
/// Messages name the key and the variable, never the key's value.
fn resolve_master_key(
    setting: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<MasterKey>> {
    if setting.trim().is_empty() {
        return Ok(None);
    }
    let (value, from) = match setting.strip_prefix("env:") {
        Some(var) => {
            let value = lookup(var).filter(|v| !v.trim().is_empty()).with_context(|| {
                format!(
                    "keys.master_key: environment variable {var} is not set; it must hold the base64 master key (generate one with `kunci keys generate-master-key`)"
                )
            })?;
            (value, format!(" (from {var})"))
        }
        None => (setting.to_owned(), String::new()),
    };
    let key = MasterKey::from_base64(&value).map_err(|e| {
        anyhow::anyhow!(
            "keys.master_key{from}: {e}; generate one with `kunci keys generate-master-key`"
        )
    })?;
    Ok(Some(key))
}

fn figment_message(e: figment::Error) -> String {
    e.into_iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn is_loopback_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// OIDC Discovery §3: an https URL with no query or fragment (http only on loopback, for development).
fn check_issuer(issuer: &str) -> anyhow::Result<()> {
    let url =
        url::Url::parse(issuer).with_context(|| format!("issuer: {issuer:?} is not a URL"))?;
    let ok_scheme = url.scheme() == "https" || (url.scheme() == "http" && is_loopback_host(&url));
    if !ok_scheme {
        bail!(
            "issuer: must be https:// (http:// is allowed only for localhost/127.0.0.1), got {issuer:?}"
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("issuer: must not have a query or fragment");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
