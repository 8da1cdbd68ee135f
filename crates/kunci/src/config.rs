//! Operator configuration: built-in defaults → TOML file → `KUNCI_*` environment variables.
//!
//! Unknown keys are errors, and everything is validated eagerly at start-up with messages
//! naming the file, the key and what to do, so a mistake never surfaces as a runtime surprise.
//! The full reference is `docs/configuration.md`.

mod client_auth;
mod subject;

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use kunci_core::client::{
    AccessTokenFormat, AuthMethod, Client, GrantType, LogoutChannel, RefreshPolicy,
};
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
    /// RP-Initiated Logout: where `/logout` may send the browser afterwards (exact match).
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Back-Channel Logout: where logout tokens are POSTed when a session ends.
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    #[serde(default = "default_true")]
    pub backchannel_logout_session_required: bool,
    /// Front-Channel Logout: loaded in an iframe of the logged-out page.
    #[serde(default)]
    pub frontchannel_logout_uri: Option<String>,
    #[serde(default = "default_true")]
    pub frontchannel_logout_session_required: bool,
    /// Refresh tokens (with `offline_access`); adds the `refresh_token` grant.
    #[serde(default)]
    pub refresh_tokens: bool,
    #[serde(default = "default_refresh_idle")]
    pub refresh_token_idle_ttl_secs: u64,
    #[serde(default = "default_refresh_absolute")]
    pub refresh_token_absolute_ttl_secs: u64,
    /// `jwt` (RFC 9068) or `opaque`.
    #[serde(default = "default_access_token_format")]
    pub access_token_format: String,
    /// RFC 8707 resources this client may ask tokens for; for a resource server, the
    /// audiences whose tokens it may introspect.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// May introspect access tokens of other clients whose `aud` is one of `audiences`.
    #[serde(default)]
    pub resource_server: bool,
    /// `private_key_jwt`: the client's public keys, a JWK Set as JSON text.
    #[serde(default)]
    pub jwks: Option<String>,
    /// `private_key_jwt`: where the client publishes its JWK Set (fetched and cached).
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// RFC 9126 §6: authorization requests only through `/par`.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// OIDC Core §8: `public` (default) or `pairwise`.
    #[serde(default = "default_subject_type")]
    pub subject_type: String,
    /// For `pairwise`: the sector host, needed when `redirect_uris` have several hosts.
    #[serde(default)]
    pub sector_identifier: Option<String>,
}

fn default_subject_type() -> String {
    "public".into()
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
fn default_refresh_idle() -> u64 {
    RefreshPolicy::default().idle_ttl
}
fn default_refresh_absolute() -> u64 {
    RefreshPolicy::default().absolute_ttl
}
fn default_access_token_format() -> String {
    "jwt".into()
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
            keys: KeysConfig {
                storage: KeyStorage::Files,
                master_key: String::new(),
                algorithms: default_key_algorithms(),
            },
            pairwise_salt: Default::default(),
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
        self.validate_keys()?;
        self.validate_pairwise()?;
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
        }
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

/// Whether `KUNCI_<key>` is a setting (`key` lower-cased here: figment hands it over as
/// written, usually upper case, and lower-cases it only later). Not settings:
/// KUNCI_CONFIG (the file), KUNCI_LOG and KUNCI_LOG_FORMAT (logging), KUNCI_MASTER_KEY (the
/// conventional home of the master key, read through `keys.master_key = "env:…"`) and
/// KUNCI_TEST_* (test suites).
fn is_setting_variable(key: &str) -> bool {
    !matches!(key, "config" | "log" | "log_format" | "master_key") && !key.starts_with("test_")
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

impl ClientConfig {
    pub fn to_client(&self) -> anyhow::Result<Client> {
        if self.client_id.is_empty()
            || self.client_id.len() > 128
            || self.client_id.chars().any(|c| c.is_control() || c == ':')
        {
            bail!("client_id: must be 1 to 128 characters without ':' or control characters");
        }
        let client_auth::ClientAuth {
            method: auth_method,
            secret_sha256,
            assertion_keys,
        } = self.client_auth()?;
        if self.redirect_uris.is_empty()
            && self.grant_types.iter().any(|g| g == "authorization_code")
        {
            bail!("redirect_uris: at least one is required for the authorization_code grant");
        }
        for (i, uri) in self.redirect_uris.iter().enumerate() {
            check_redirect_uri(uri).with_context(|| format!("redirect_uris[{i}]"))?;
        }
        let tokens = self.token_settings(auth_method)?;
        let id_token_alg = Alg::parse(&self.id_token_signed_response_alg).with_context(|| {
            format!(
                "id_token_signed_response_alg: {:?} must be RS256, ES256, PS256 or EdDSA",
                self.id_token_signed_response_alg
            )
        })?;
        if auth_method == AuthMethod::None && !self.require_pkce {
            bail!("require_pkce: public clients always use PKCE; remove require_pkce = false");
        }
        let (backchannel_logout, frontchannel_logout) = self.logout_channels()?;
        Ok(Client {
            id: self.client_id.clone(),
            name: self.name.clone(),
            secret_sha256,
            redirect_uris: self.redirect_uris.clone(),
            grant_types: tokens.grant_types,
            scopes: tokens.scopes,
            auth_method,
            first_party: self.first_party,
            id_token_alg,
            require_pkce: self.require_pkce,
            refresh: tokens.refresh,
            access_token_format: tokens.access_token_format,
            audiences: self.audiences.clone(),
            resource_server: self.resource_server,
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            backchannel_logout,
            frontchannel_logout,
            assertion_keys,
            require_par: self.require_pushed_authorization_requests,
            subject_type: self.subject()?,
        })
    }
}

impl ClientConfig {
    /// The logout settings, checked: post-logout redirect URIs like redirect URIs; the
    /// back- and front-channel URIs absolute https (http only to loopback) without fragment
    /// (Back-Channel Logout §2.2, Front-Channel Logout §2); the front-channel URI on the
    /// origin of a redirect URI, as Front-Channel Logout §2 requires.
    fn logout_channels(&self) -> anyhow::Result<(Option<LogoutChannel>, Option<LogoutChannel>)> {
        for (i, uri) in self.post_logout_redirect_uris.iter().enumerate() {
            check_redirect_uri(uri).with_context(|| format!("post_logout_redirect_uris[{i}]"))?;
        }
        let back = match &self.backchannel_logout_uri {
            Some(uri) => {
                check_logout_uri(uri).context("backchannel_logout_uri")?;
                Some(LogoutChannel {
                    uri: uri.clone(),
                    session_required: self.backchannel_logout_session_required,
                })
            }
            None => None,
        };
        let front = match &self.frontchannel_logout_uri {
            Some(uri) => {
                let origin = check_logout_uri(uri).context("frontchannel_logout_uri")?;
                let same_origin = self.redirect_uris.iter().any(|r| {
                    url::Url::parse(r).is_ok_and(|r| r.origin().ascii_serialization() == origin)
                });
                if !same_origin {
                    bail!(
                        "frontchannel_logout_uri: {uri:?} must have the scheme, host and port of one of redirect_uris"
                    );
                }
                Some(LogoutChannel {
                    uri: uri.clone(),
                    session_required: self.frontchannel_logout_session_required,
                })
            }
            None => None,
        };
        Ok((back, front))
    }
}

/// A back- or front-channel logout URI; returns its origin.
fn check_logout_uri(uri: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(uri).with_context(|| format!("{uri:?} is not an absolute URL"))?;
    let web = url.scheme() == "https" || (url.scheme() == "http" && is_loopback_host(&url));
    if !web {
        bail!("{uri:?} must be https:// (http:// only for localhost/127.0.0.1)");
    }
    if url.fragment().is_some() {
        bail!("{uri:?} must not contain a fragment");
    }
    Ok(url.origin().ascii_serialization())
}

/// A client's grants, scopes and token settings, checked together.
struct TokenSettings {
    grant_types: Vec<GrantType>,
    scopes: Vec<String>,
    refresh: RefreshPolicy,
    access_token_format: AccessTokenFormat,
}

impl ClientConfig {
    /// Grants, scopes, refresh tokens, access token format, audiences and the resource-server
    /// flag. `refresh_tokens = true` adds the `refresh_token` grant and the `offline_access`
    /// scope; listing either without it is an error, so the file says one thing only.
    fn token_settings(&self, auth_method: AuthMethod) -> anyhow::Result<TokenSettings> {
        let mut grant_types = Vec::new();
        for g in &self.grant_types {
            let grant = GrantType::parse(g).with_context(|| {
                format!(
                    "grant_types: {g:?} is not supported (supported: authorization_code, refresh_token, client_credentials)"
                )
            })?;
            if !grant_types.contains(&grant) {
                grant_types.push(grant);
            }
        }
        if grant_types.contains(&GrantType::RefreshToken) && !self.refresh_tokens {
            bail!(
                "grant_types: \"refresh_token\" needs refresh_tokens = true (which also allows the offline_access scope)"
            );
        }
        if self.refresh_tokens && !grant_types.contains(&GrantType::AuthorizationCode) {
            bail!(
                "refresh_tokens: refresh tokens come with the authorization code flow; add \"authorization_code\" to grant_types"
            );
        }
        if self.refresh_tokens && !grant_types.contains(&GrantType::RefreshToken) {
            grant_types.push(GrantType::RefreshToken);
        }
        if grant_types.contains(&GrantType::ClientCredentials) && auth_method == AuthMethod::None {
            bail!(
                "grant_types: client_credentials is for confidential clients only (RFC 6749 §4.4); give the client a secret and a token_endpoint_auth_method other than \"none\""
            );
        }
        let mut scopes = Vec::new();
        for s in &self.scopes {
            if kunci_core::scope::parse(s).as_deref() != Some(std::slice::from_ref(s)) {
                bail!(
                    "scopes: {s:?} is not a scope name (RFC 6749 §3.3: printable ASCII without spaces, quotes or backslashes)"
                );
            }
            if s == "offline_access" && !self.refresh_tokens {
                bail!("scopes: \"offline_access\" needs refresh_tokens = true");
            }
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        if self.refresh_tokens && !scopes.iter().any(|s| s == "offline_access") {
            scopes.push("offline_access".into());
        }
        let refresh = RefreshPolicy {
            idle_ttl: self.refresh_token_idle_ttl_secs,
            absolute_ttl: self.refresh_token_absolute_ttl_secs,
        };
        if refresh.idle_ttl == 0 {
            bail!("refresh_token_idle_ttl_secs: must be at least 1 second");
        }
        if refresh.absolute_ttl < refresh.idle_ttl {
            bail!(
                "refresh_token_absolute_ttl_secs: must be at least refresh_token_idle_ttl_secs ({} < {})",
                refresh.absolute_ttl,
                refresh.idle_ttl
            );
        }
        let access_token_format = match self.access_token_format.as_str() {
            "jwt" => AccessTokenFormat::Jwt,
            "opaque" => AccessTokenFormat::Opaque,
            other => bail!("access_token_format: {other:?} must be \"jwt\" or \"opaque\""),
        };
        for (i, a) in self.audiences.iter().enumerate() {
            if !url::Url::parse(a).is_ok_and(|u| u.fragment().is_none()) {
                bail!(
                    "audiences[{i}]: {a:?} must be an absolute URI without a fragment (RFC 8707)"
                );
            }
        }
        if self.resource_server {
            if auth_method == AuthMethod::None {
                bail!(
                    "resource_server: a resource server authenticates to introspect tokens; give it a secret and a token_endpoint_auth_method other than \"none\""
                );
            }
            if self.audiences.is_empty() {
                bail!(
                    "audiences: a resource server (resource_server = true) needs the audiences whose tokens it may introspect"
                );
            }
        }
        Ok(TokenSettings {
            grant_types,
            scopes,
            refresh,
            access_token_format,
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
    if !s.len().is_multiple_of(2) {
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

#[cfg(test)]
mod tests {
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
        ] {
            assert!(!is_setting_variable(not_a_setting), "{not_a_setting}");
        }
        for setting in [
            "issuer",
            "database__url",
            "keys__master_key",
            "keys__storage",
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
            e.contains("clients[0] (\"shop\"): id_token_signed_response_alg: EdDSA is not in keys.algorithms"),
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
}
