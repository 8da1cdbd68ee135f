//! Everything a handler needs, built once by the composition root and shared via `web::Data`.

use crate::i18n::I18n;
use actix_web::web::Bytes;
use kunci_authn::{Mailer, PasswordHasher};
use kunci_core::{Clock, Provider};
use std::sync::Arc;

pub struct AppState {
    pub provider: Arc<Provider>,
    pub passwords: PasswordHasher,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub i18n: I18n,
    /// True when the issuer is `https://`: cookies get `Secure` and the `__Host-` prefix.
    pub secure_cookies: bool,
    /// The discovery document, which never changes while the process runs, serialised once.
    /// (The JWKS changes with key rotation: see [`AppState::jwks_json`].)
    pub discovery_json: Bytes,
    /// Failed password attempts per account allowed in `login_window_secs`.
    pub max_login_failures: u64,
    pub login_window_secs: u64,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`client_ip.rs`).
    pub trusted_proxies: Vec<crate::client_ip::Network>,
}

impl AppState {
    pub fn new(
        provider: Arc<Provider>,
        passwords: PasswordHasher,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, toml::de::Error> {
        let discovery_json = Bytes::from(provider.metadata().to_string());
        let secure_cookies = provider.settings.issuer.starts_with("https://");
        Ok(Self {
            provider,
            passwords,
            mailer,
            clock,
            i18n: I18n::load()?,
            secure_cookies,
            discovery_json,
            max_login_failures: 10,
            login_window_secs: 15 * 60,
            trusted_proxies: Vec::new(),
        })
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The JWKS of the current key set, serialised when the keys were (re)loaded.
    pub fn jwks_json(&self) -> Bytes {
        Bytes::copy_from_slice(self.provider.keys.current().jwks_json().as_bytes())
    }
}
