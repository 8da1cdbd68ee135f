//! The provider's flows: what happens at each endpoint, in terms of the ports.
//!
//! Handlers in `kunci-web` parse HTTP, call one method here with `now`, and map the outcome.
//! Nothing in here knows about HTTP, SQL or Redis.

mod access_token;
mod authorize;
mod client_auth;
mod device;
mod dpop;
mod interaction;
mod introspect;
mod logout;
mod par;
mod registration;
mod request_object;
mod revoke;
mod token;
mod userinfo;

pub use access_token::TokenScheme;
pub use authorize::AuthorizeOutcome;
pub use device::{
    DEVICE_POLL_INTERVAL, DeviceAuthorizationRequest, DeviceAuthorizationResponse, DeviceDecided,
    DeviceLookup, DeviceRequestView,
};
pub use dpop::{DPOP_NONCE_TTL, PresentedProof};
pub use interaction::{ConsentDecision, InteractionError, InteractionView, StepOutcome};
pub use introspect::IntrospectionRequest;
pub use logout::LoggedOut;
pub use par::{PAR_TTL, ParResponse, REQUEST_URI_PREFIX};
pub use registration::ClientInformation;
pub use request_object::REQUEST_OBJECT_ALGS;
pub use revoke::RevocationRequest;
pub use token::{TokenRequest, TokenResponse};

use crate::client::ClientRegistry;
use crate::client_assertion::JwksFetcher;
use crate::jose::{Alg, SharedKeys};
use crate::logout::LogoutNotifier;
use crate::ports::{DurableStore, EphemeralStore};
use crate::records::Records;
use crate::subject::PairwiseSalt;
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
    /// RFC 8628 §3.2 `expires_in`: how long a device code and its user code work.
    pub device_code_ttl: u64,
    pub ui_locales: Vec<String>,
    /// OIDC Core §8.1: the salt of pairwise subject identifiers; required when any client is
    /// pairwise (the configuration checks it).
    pub pairwise_salt: Option<Arc<PairwiseSalt>>,
    /// RFC 9449 §8, §9: every DPoP proof must carry a nonce Kunci handed out.
    pub dpop_require_nonce: bool,
    /// Dynamic client registration (RFC 7591/7592, `flow/registration.rs`): enabled exactly
    /// when set.
    pub registration: Option<Arc<crate::registration::RegistrationPolicy>>,
    /// The configured clients with `profile = "fapi2"`, held to the core's FAPI 2.0 rules
    /// (`crate::fapi2`). Registered clients have no profile.
    pub fapi2_clients: Vec<String>,
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
            device_code_ttl: 600,
            ui_locales: vec!["id".into(), "en".into()],
            pairwise_salt: None,
            dpop_require_nonce: false,
            registration: None,
            fapi2_clients: Vec::new(),
        }
    }
}

/// The OpenID Provider, wired to its ports. Built once by the composition root.
pub struct Provider {
    pub settings: Settings,
    pub clients: ClientRegistry,
    /// The signing keys; the composition root replaces the set when keys are reloaded.
    pub keys: SharedKeys,
    pub durable: Arc<dyn DurableStore>,
    pub ephemeral: Arc<dyn EphemeralStore>,
    /// Delivers back-channel logout tokens (I/O, off the request path).
    pub logout_notifier: Arc<dyn LogoutNotifier>,
    /// Fetches clients' JWK Sets from their `jwks_uri` (I/O, cached by the implementation).
    pub jwks_fetcher: Arc<dyn JwksFetcher>,
}

impl Provider {
    pub fn records(&self) -> Records<'_> {
        Records(self.ephemeral.as_ref())
    }

    /// The `sub` `client` sees for an account (OIDC Core §8): the account id, or its pairwise
    /// value. Fails closed (`server_error`) for a pairwise client without a salt, which the
    /// configuration never lets start.
    pub(crate) fn subject(
        &self,
        client: &crate::client::Client,
        account_id: &str,
    ) -> Result<String, crate::error::OAuthError> {
        crate::subject::subject_for(
            &client.subject_type,
            self.settings.pairwise_salt.as_deref(),
            account_id,
        )
        .ok_or_else(crate::error::OAuthError::server_error)
    }

    /// The discovery document.
    pub fn metadata(&self) -> serde_json::Value {
        let mut doc = crate::discovery::metadata(
            &self.settings.issuer,
            &self.advertised_clients(),
            &self.keys.current().algs(),
            &self.settings.ui_locales,
        );
        // RFC 8414 §2 / OIDC Discovery §3: only when registration is enabled.
        if self.settings.registration.is_some() {
            doc["registration_endpoint"] =
                serde_json::json!(format!("{}/connect/register", self.settings.issuer));
        }
        doc
    }
}
