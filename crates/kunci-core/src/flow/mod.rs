//! The provider's flows: what happens at each endpoint, in terms of the ports.
//!
//! Handlers in `kunci-web` parse HTTP, call one method here with `now`, and map the outcome.
//! Nothing in here knows about HTTP, SQL or Redis.

mod access_token;
mod authorize;
mod interaction;
mod introspect;
mod logout;
mod revoke;
mod token;
mod userinfo;

pub use authorize::AuthorizeOutcome;
pub use interaction::{ConsentDecision, InteractionError, InteractionView, StepOutcome};
pub use introspect::IntrospectionRequest;
pub use logout::LoggedOut;
pub use revoke::RevocationRequest;
pub use token::{TokenRequest, TokenResponse};

use crate::client::ClientRegistry;
use crate::jose::{Alg, KeySet};
use crate::logout::LogoutNotifier;
use crate::ports::{DurableStore, EphemeralStore};
use crate::records::Records;
use std::sync::Arc;

/// Lifetimes and identity of this provider. Defaults follow RFC 9700 and OIDC practice.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Issuer URL without a trailing slash.
    pub issuer: String,
    /// Authorization codes live 60 s (RFC 6749 §4.1.2 recommends at most 10 minutes).
    pub code_ttl: u64,
    pub access_token_ttl: u64,
    pub id_token_ttl: u64,
    /// How long an SSO session lasts from sign-in.
    pub session_ttl: u64,
    /// How long a user has to finish signing in.
    pub interaction_ttl: u64,
    /// How long an email verification link works.
    pub email_verification_ttl: u64,
    /// Algorithm for JWT access tokens (RFC 9068).
    pub access_token_alg: Alg,
    pub ui_locales: Vec<String>,
}

impl Settings {
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into().trim_end_matches('/').to_owned(),
            code_ttl: 60,
            access_token_ttl: 600,
            id_token_ttl: 600,
            session_ttl: 12 * 3600,
            interaction_ttl: 30 * 60,
            email_verification_ttl: 24 * 3600,
            access_token_alg: Alg::ES256,
            ui_locales: vec!["id".into(), "en".into()],
        }
    }
}

/// The OpenID Provider, wired to its ports. Built once by the composition root.
pub struct Provider {
    pub settings: Settings,
    pub clients: ClientRegistry,
    pub keys: Arc<KeySet>,
    pub durable: Arc<dyn DurableStore>,
    pub ephemeral: Arc<dyn EphemeralStore>,
    /// Delivers back-channel logout tokens (I/O, off the request path).
    pub logout_notifier: Arc<dyn LogoutNotifier>,
}

impl Provider {
    pub fn records(&self) -> Records<'_> {
        Records(self.ephemeral.as_ref())
    }

    /// The discovery document.
    pub fn metadata(&self) -> serde_json::Value {
        crate::discovery::metadata(
            &self.settings.issuer,
            &self.clients,
            &self.keys.algs(),
            &self.settings.ui_locales,
        )
    }
}
