//! The device authorization grant's browser-free half and its hosted pages' decisions
//! (RFC 8628): `/device_authorization` (§3.1, §3.2), looking up a user code entered on the
//! verification page (§3.3, throttled per §5.1), signing the user in through the ordinary login
//! interaction, and recording the user's answer. The polling device is `token/device_code.rs`.
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> Pending: POST /device_authorization
//!     Pending --> Approved: user approves (signed in)
//!     Pending --> Denied: user denies
//!     Approved --> [*]: tokens issued once (atomic take at /token)
//!     Pending --> [*]: expires_in passed (expired_token)
//! ```

use super::Provider;
use crate::authorize::{AuthorizationRequest, AuthorizeParams, Prompt, check_scope};
use crate::client::{Client, GrantType, PresentedCredentials};
use crate::clock::UnixTime;
use crate::device::{
    DeviceApproval, DeviceGrant, DeviceStatus, display_user_code, new_user_code,
    normalize_user_code,
};
use crate::error::{OAuthError, PortError};
use crate::interaction::{Interaction, Step};
use crate::secret::{random_token, random_uuid, token_key};
use serde::Serialize;
use std::sync::Arc;

/// RFC 8628 §3.2: the minimum seconds between polls that the device is told at first.
pub const DEVICE_POLL_INTERVAL: u64 = 5;
/// RFC 8628 §5.1: code entries one browser may make per [`ATTEMPT_WINDOW`].
pub const MAX_ATTEMPTS_PER_BROWSER: u64 = 10;
/// How long a browser that made too many entries must wait.
pub const ATTEMPT_WINDOW: u64 = 15 * 60;
/// RFC 8628 §5.1: lookups of one user code, from any browser, in its lifetime.
pub const MAX_LOOKUPS_PER_CODE: u64 = 10;
/// RFC 8628 §5.1: failed code entries from one client address per [`ATTEMPT_WINDOW`]. A browser
/// that drops its cookie escapes the per-browser limit, not this one. Only failures count, so
/// the many people behind one carrier-grade NAT address, who rarely mistype, are not held up.
pub const MAX_FAILURES_PER_ADDRESS: u64 = 30;

/// The device authorization request (RFC 8628 §3.1), as parsed from the form body.
#[derive(Debug, Default)]
pub struct DeviceAuthorizationRequest {
    pub credentials: Option<PresentedCredentials>,
    pub scope: Option<String>,
}

/// RFC 8628 §3.2.
#[derive(Debug, Serialize)]
pub struct DeviceAuthorizationResponse {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: u64,
    pub interval: u64,
}

/// A pending device request, as the confirmation page shows it.
#[derive(Debug, Clone)]
pub struct DeviceRequestView {
    pub client: Arc<Client>,
    pub scopes: Vec<String>,
    /// `XXXX-XXXX`.
    pub user_code: String,
}

/// What entering a user code found.
#[derive(Debug)]
pub enum DeviceLookup {
    Found(DeviceRequestView),
    /// Wrong, unknown, expired or already answered: one answer, so guessing learns nothing more.
    Invalid,
    /// RFC 8628 §5.1: this browser or this code has had too many attempts.
    TooManyAttempts,
}

/// The result of the user's answer on the confirmation page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceDecided {
    Approved,
    Denied,
    Invalid,
    /// No SSO session (it ended between the pages): sign in again.
    SignInRequired,
}

impl Provider {
    /// `POST /device_authorization`: authenticate the client as at `/token`, check the grant
    /// and the scope, and mint a device code and a user code.
    pub async fn device_authorization(
        &self,
        req: DeviceAuthorizationRequest,
        now: UnixTime,
    ) -> Result<DeviceAuthorizationResponse, OAuthError> {
        let presented = req
            .credentials
            .as_ref()
            .ok_or_else(|| OAuthError::invalid_client("client authentication is missing"))?;
        let client = self.authenticate_client(presented, now).await?;
        check_device_grant_allowed(&client)?;
        let scopes = check_device_scope(req.scope, &client)?;
        let ttl = self.settings.device_code_ttl;
        let device_code = random_token();
        let device_key = token_key(&device_code);
        let grant = DeviceGrant {
            client_id: client.id.clone(),
            scopes,
            issued_at: now,
            expires_at: now + ttl as i64,
            status: DeviceStatus::Pending,
        };
        // Kept past its expiry, so that a late poll hears `expired_token` rather than
        // `invalid_grant` (§3.5); the expiry itself is checked on the provider's clock.
        self.records()
            .put_device_grant(&device_key, &grant, ttl * 2)
            .await?;
        let user_code = display_user_code(&self.reserve_user_code(&device_key, ttl).await?);
        let verification_uri = format!("{}/device", self.settings.issuer);
        Ok(DeviceAuthorizationResponse {
            device_code,
            verification_uri_complete: format!("{verification_uri}?user_code={user_code}"),
            verification_uri,
            user_code,
            expires_in: ttl,
            interval: DEVICE_POLL_INTERVAL,
        })
    }

    /// A user code no live request uses. 20^8 codes make a clash rare; a few tries make it
    /// vanishingly rare.
    async fn reserve_user_code(&self, device_key: &str, ttl: u64) -> Result<String, OAuthError> {
        for _ in 0..5 {
            let code = new_user_code();
            if self
                .records()
                .put_user_code_if_absent(&code, device_key, ttl)
                .await?
            {
                return Ok(code);
            }
        }
        tracing::error!("no free user code after five tries");
        Err(OAuthError::server_error())
    }

    /// The verification page's lookup of what the user typed (§3.3). Every attempt counts
    /// against the browser and the code before anything is looked up (§5.1).
    pub async fn device_lookup(
        &self,
        input: &str,
        browser_key: &str,
        client_address: Option<&str>,
        now: UnixTime,
    ) -> Result<DeviceLookup, PortError> {
        let per_address = client_address.map(|a| format!("rl:device:a:{}", token_key(a)));
        if let Some(key) = &per_address
            && self.counter(key).await? >= MAX_FAILURES_PER_ADDRESS
        {
            return Ok(DeviceLookup::TooManyAttempts);
        }
        let per_browser = format!("rl:device:b:{}", token_key(browser_key));
        if self.ephemeral.incr(&per_browser, ATTEMPT_WINDOW).await? > MAX_ATTEMPTS_PER_BROWSER {
            return Ok(DeviceLookup::TooManyAttempts);
        }
        let outcome = self.look_up_user_code(input, browser_key, now).await?;
        if let (DeviceLookup::Invalid, Some(key)) = (&outcome, &per_address) {
            self.ephemeral.incr(key, ATTEMPT_WINDOW).await?;
        }
        Ok(outcome)
    }

    /// The current value of a fixed-window counter (`EphemeralStore::incr`), 0 when absent.
    async fn counter(&self, key: &str) -> Result<u64, PortError> {
        Ok(self
            .ephemeral
            .get(key)
            .await?
            .and_then(|v| std::str::from_utf8(&v).ok()?.trim().parse().ok())
            .unwrap_or(0))
    }

    /// The per-code limit, then the lookup; a found code is remembered for this browser.
    async fn look_up_user_code(
        &self,
        input: &str,
        browser_key: &str,
        now: UnixTime,
    ) -> Result<DeviceLookup, PortError> {
        let Some(code) = normalize_user_code(input) else {
            return Ok(DeviceLookup::Invalid);
        };
        let per_code = format!("rl:device:u:{}", token_key(&code));
        let code_window = self.settings.device_code_ttl;
        if self.ephemeral.incr(&per_code, code_window).await? > MAX_LOOKUPS_PER_CODE {
            return Ok(DeviceLookup::TooManyAttempts);
        }
        Ok(match self.pending_device_request(&code, now).await? {
            Some((_, view)) => {
                // Only a browser whose (throttled) lookup found the code may answer it.
                let ttl = self.settings.device_code_ttl;
                self.records()
                    .put_device_lookup(browser_key, &code, ttl)
                    .await?;
                DeviceLookup::Found(view)
            }
            None => DeviceLookup::Invalid,
        })
    }

    /// The pending, unexpired request behind a normalised user code, and its device key.
    async fn pending_device_request(
        &self,
        code: &str,
        now: UnixTime,
    ) -> Result<Option<(String, DeviceRequestView)>, PortError> {
        let records = self.records();
        let key = match records.device_key_for_user_code(code).await {
            Ok(Some(k)) => k,
            Ok(None) | Err(PortError::Corrupt(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let grant = match records.device_grant(&key).await {
            Ok(Some(g)) if g.status == DeviceStatus::Pending && now < g.expires_at => g,
            Ok(_) | Err(PortError::Corrupt(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        // Configured or registered (RFC 7591 clients may be given the device grant).
        let client = match self.client(&grant.client_id).await {
            Ok(Some(c)) => c,
            Ok(None) | Err(PortError::Corrupt(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let view = DeviceRequestView {
            client,
            scopes: grant.scopes,
            user_code: display_user_code(code),
        };
        Ok(Some((key, view)))
    }

    /// No SSO session: a login interaction for the device's client that, once the user has
    /// signed in, sends the browser to `return_to` (the confirmation page) instead of
    /// issuing a code. Returns the interaction id.
    pub async fn device_sign_in(
        &self,
        view: &DeviceRequestView,
        browser_key: &str,
        return_to: String,
        ui_locales: Vec<String>,
        now: UnixTime,
    ) -> Result<String, PortError> {
        let request = AuthorizationRequest {
            client_id: view.client.id.clone(),
            redirect_uri: String::new(),
            scopes: view.scopes.clone(),
            state: None,
            nonce: None,
            code_challenge: None,
            prompt: Prompt::default(),
            max_age: None,
            login_hint: None,
            ui_locales,
            acr_values: Vec::new(),
            claims: None,
            dpop_jkt: None,
        };
        let ix = Interaction {
            id: random_token(),
            request,
            created_at: now,
            pending: vec![Step::Authenticate],
            done: Vec::new(),
            account_id: None,
            session_id: None,
            auth_time: None,
            amr: Vec::new(),
            browser_binding: token_key(browser_key),
            return_to: Some(return_to),
        };
        self.records()
            .put_interaction(&ix, self.settings.interaction_ttl)
            .await?;
        Ok(ix.id)
    }

    /// The user's answer (§3.3): approve with the signed-in session, or deny. A user code is
    /// answered once: taking it is the decision. Only from the browser whose lookup found the
    /// code, so that the answer form is no unthrottled way to try codes (§5.1).
    pub async fn device_decide(
        &self,
        input: &str,
        session_id: Option<&str>,
        browser_key: Option<&str>,
        approve: bool,
        now: UnixTime,
    ) -> Result<DeviceDecided, PortError> {
        let Some(code) = normalize_user_code(input) else {
            return Ok(DeviceDecided::Invalid);
        };
        let Some(session) = self.live_session(session_id, now).await? else {
            return Ok(DeviceDecided::SignInRequired);
        };
        let Some(browser_key) = browser_key else {
            return Ok(DeviceDecided::Invalid);
        };
        if !self
            .records()
            .device_lookup_seen(browser_key, &code)
            .await?
        {
            return Ok(DeviceDecided::Invalid);
        }
        let Some((key, view)) = self.pending_device_request(&code, now).await? else {
            return Ok(DeviceDecided::Invalid);
        };
        let records = self.records();
        if records.take_user_code(&code).await?.as_deref() != Some(key.as_str()) {
            return Ok(DeviceDecided::Invalid);
        }
        let Some(mut grant) = records.device_grant(&key).await? else {
            return Ok(DeviceDecided::Invalid);
        };
        grant.status = if approve {
            DeviceStatus::Approved(DeviceApproval {
                account_id: session.account_id.clone(),
                // Tokens carry this as `sid`: the public form, never the cookie's value.
                session_id: session.public_sid(),
                auth_time: session.auth_time,
                amr: session.amr.clone(),
                grant_id: random_uuid(),
            })
        } else {
            DeviceStatus::Denied
        };
        let left = (grant.expires_at + self.settings.device_code_ttl as i64 - now).max(1) as u64;
        records.put_device_grant(&key, &grant, left).await?;
        if !approve {
            return Ok(DeviceDecided::Denied);
        }
        self.note_client_in_session(&session, &view.client.id, now)
            .await?;
        Ok(DeviceDecided::Approved)
    }
}

/// RFC 8628 §3.1 and RFC 6749 §5.2: only clients registered for the grant.
fn check_device_grant_allowed(client: &Client) -> Result<(), OAuthError> {
    if client.allows_grant(GrantType::DeviceCode) {
        Ok(())
    } else {
        Err(OAuthError::unauthorized_client(
            "this client may not use the device authorization grant",
        ))
    }
}

/// RFC 8628 §3.1: the scope is checked as in an authorization request for this client
/// (RFC 6749 §3.3; `offline_access` only for clients with refresh tokens, OIDC Core §11).
fn check_device_scope(scope: Option<String>, client: &Client) -> Result<Vec<String>, OAuthError> {
    let params = AuthorizeParams::from_pairs(scope.map(|s| ("scope".to_owned(), s)));
    check_scope(&params, client)
}
