//! Operator configuration: built-in defaults → TOML file → `KUNCI_*` environment variables.
//!
//! Unknown keys are errors, and everything is validated eagerly at start-up with messages
//! naming the file, the key and what to do, so a mistake never surfaces as a runtime surprise.
//! The full reference is `docs/configuration.md`.

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use kunci_core::client::{AuthMethod, Client, GrantType};
use kunci_core::jose::Alg;
use kunci_core::scope::KNOWN_SCOPES;
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
    pub clients: Vec<ClientConfig>,
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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub client_id: String,
    pub name: String,
    /// `sha256:<64 hex>` (from `kunci client hash-secret`) or `env:VAR` (VAR holds the secret).
    #[serde(default)]
    pub secret: Option<String>,
    pub redirect_uris: Vec<String>,
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default = "default_auth_method")]
    pub token_endpoint_auth_method: String,
    #[serde(default)]
    pub first_party: bool,
    #[serde(default = "default_alg")]
    pub id_token_signed_response_alg: String,
    #[serde(default = "default_true")]
    pub require_pkce: bool,
}

fn default_grant_types() -> Vec<String> {
    vec!["authorization_code".into()]
}
fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into(), "email".into()]
}
fn default_auth_method() -> String {
    "client_secret_basic".into()
}
fn default_alg() -> String {
    "RS256".into()
}
fn default_true() -> bool {
    true
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
            },
            clients: Vec::new(),
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
        // KUNCI_CONFIG names the file and KUNCI_LOG the log filter; KUNCI_TEST_* belong to tests.
        let env = Env::prefixed("KUNCI_").split("__").filter(|k| {
            !matches!(k.as_str(), "config" | "log" | "log_format")
                && !k.as_str().starts_with("test_")
        });
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

    pub fn access_token_alg(&self) -> Alg {
        Alg::parse(&self.tokens.access_token_alg).unwrap_or(Alg::ES256)
    }

    /// Cross-field checks. Each message names the key and the fix.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.version != 1 {
            bail!("version: only version = 1 exists (got {})", self.version);
        }
        check_issuer(&self.issuer)?;
        self.listen_addr()?;
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
        if Alg::parse(&self.tokens.access_token_alg).is_none() {
            bail!(
                "tokens.access_token_alg: must be ES256 or RS256 (got {:?})",
                self.tokens.access_token_alg
            );
        }
        if self.tokens.access_token_ttl_secs == 0
            || self.tokens.id_token_ttl_secs == 0
            || self.tokens.session_ttl_secs == 0
        {
            bail!("tokens: lifetimes must be at least 1 second");
        }
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.clients.iter().enumerate() {
            if !seen.insert(c.client_id.as_str()) {
                bail!(
                    "clients[{i}].client_id: {:?} is registered twice",
                    c.client_id
                );
            }
            c.to_client()
                .with_context(|| format!("clients[{i}] ({:?})", c.client_id))?;
        }
        Ok(())
    }

    /// The clients in the form the core uses. Resolves `env:` secrets.
    pub fn clients(&self) -> anyhow::Result<Vec<Client>> {
        self.clients.iter().map(ClientConfig::to_client).collect()
    }
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

impl ClientConfig {
    pub fn to_client(&self) -> anyhow::Result<Client> {
        if self.client_id.is_empty()
            || self.client_id.len() > 128
            || self.client_id.chars().any(|c| c.is_control() || c == ':')
        {
            bail!("client_id: must be 1 to 128 characters without ':' or control characters");
        }
        let auth_method = match self.token_endpoint_auth_method.as_str() {
            "client_secret_basic" => AuthMethod::ClientSecretBasic,
            "client_secret_post" => AuthMethod::ClientSecretPost,
            "none" => AuthMethod::None,
            other => bail!(
                "token_endpoint_auth_method: {other:?} is not one of client_secret_basic, client_secret_post, none"
            ),
        };
        let secret_sha256 = match (&self.secret, auth_method) {
            (Some(_), AuthMethod::None) => bail!(
                "secret: a public client (token_endpoint_auth_method = \"none\") must not have a secret"
            ),
            (None, AuthMethod::None) => None,
            (None, _) => bail!(
                "secret: a confidential client needs secret = \"sha256:…\" (see `kunci client hash-secret`) or \"env:VAR\""
            ),
            (Some(s), _) => Some(parse_secret(s)?),
        };
        if self.redirect_uris.is_empty() {
            bail!("redirect_uris: at least one is required");
        }
        for (i, uri) in self.redirect_uris.iter().enumerate() {
            check_redirect_uri(uri).with_context(|| format!("redirect_uris[{i}]"))?;
        }
        let grant_types = self
            .grant_types
            .iter()
            .map(|g| match g.as_str() {
                "authorization_code" => Ok(GrantType::AuthorizationCode),
                other => {
                    bail!("grant_types: {other:?} is not supported (supported: authorization_code)")
                }
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if let Some(bad) = self
            .scopes
            .iter()
            .find(|s| !KNOWN_SCOPES.contains(&s.as_str()) || s.as_str() == "offline_access")
        {
            bail!(
                "scopes: {bad:?} is not supported (supported: openid, profile, email, phone, address)"
            );
        }
        let id_token_alg = Alg::parse(&self.id_token_signed_response_alg).with_context(|| {
            format!(
                "id_token_signed_response_alg: {:?} must be RS256 or ES256",
                self.id_token_signed_response_alg
            )
        })?;
        if auth_method == AuthMethod::None && !self.require_pkce {
            bail!("require_pkce: public clients always use PKCE; remove require_pkce = false");
        }
        Ok(Client {
            id: self.client_id.clone(),
            name: self.name.clone(),
            secret_sha256,
            redirect_uris: self.redirect_uris.clone(),
            grant_types,
            scopes: self.scopes.clone(),
            auth_method,
            first_party: self.first_party,
            id_token_alg,
            require_pkce: self.require_pkce,
        })
    }
}

fn parse_secret(s: &str) -> anyhow::Result<[u8; 32]> {
    if let Some(hex) = s.strip_prefix("sha256:") {
        let bytes = decode_hex(hex).context("secret: sha256: must be followed by 64 hex digits")?;
        return bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("secret: sha256: must be followed by 64 hex digits"));
    }
    if let Some(var) = s.strip_prefix("env:") {
        let value = std::env::var(var)
            .with_context(|| format!("secret: environment variable {var} is not set"))?;
        if value.len() < 32 {
            bail!(
                "secret: the secret in {var} is too short; use at least 32 random characters (`kunci client hash-secret --generate`)"
            );
        }
        return Ok(kunci_core::secret::sha256(value.as_bytes()));
    }
    bail!("secret: must start with sha256: or env: (a plain secret never goes into the file)")
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// RFC 9700 §2.1 and §4.1.3: absolute, no fragment, no wildcards; plain http only to loopback.
fn check_redirect_uri(uri: &str) -> anyhow::Result<()> {
    let url = url::Url::parse(uri).with_context(|| format!("{uri:?} is not an absolute URL"))?;
    if url.fragment().is_some() {
        bail!("{uri:?} must not contain a fragment");
    }
    if uri.contains('*') {
        bail!("{uri:?}: wildcards are not allowed; list every redirect URI exactly");
    }
    if url.scheme() == "http" && !is_loopback_host(&url) {
        bail!("{uri:?}: plain http is allowed only for localhost/127.0.0.1; use https");
    }
    Ok(())
}
