//! The login interaction: one record holding the pending authorization request, the steps
//! already done and the steps still required. Hosted pages only ever resume it.
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> Authenticate: no SSO session, prompt=login or max_age exceeded
//!     [*] --> Consent: session ok, consent missing or prompt=consent
//!     Authenticate --> Consent: factor(s) verified, consent needed
//!     Authenticate --> Done: first-party client or consent remembered
//!     Consent --> Done: approved
//!     Consent --> [*]: denied (access_denied to the client)
//!     Done --> [*]: code issued, record deleted
//! ```
//!
//! A device sign-in (RFC 8628, `flow/device.rs`) has only `Authenticate`, and a `return_to`:
//! once signed in, the browser goes back to the device confirmation page instead of a client.
//!
//! New factors (passkeys, TOTP, one-time codes, upstream IdPs) are new [`Step`] variants and new
//! entries in `amr`; the protocol core only reads `account_id`, `auth_time`, `amr` and `acr`.

use crate::authorize::AuthorizationRequest;
use crate::clock::UnixTime;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Prove who you are (first factor).
    Authenticate,
    /// Allow the client to receive the requested scopes.
    Consent,
}

/// A completed step, with when and how it was satisfied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoneStep {
    pub step: Step,
    pub at: UnixTime,
    /// For authentication steps, the RFC 8176 method (`pwd`, `hwk`, `otp`, ...).
    #[serde(default)]
    pub method: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interaction {
    pub id: String,
    pub request: AuthorizationRequest,
    pub created_at: UnixTime,
    /// Steps still to do, in order; the first is the current one.
    pub pending: Vec<Step>,
    pub done: Vec<DoneStep>,
    /// Who is signing in, once known (from the SSO session or the authentication step).
    pub account_id: Option<String>,
    /// The SSO session this interaction belongs to, once there is one.
    pub session_id: Option<String>,
    /// When the user last actively authenticated, and how (OIDC `auth_time`, `amr`).
    pub auth_time: Option<UnixTime>,
    #[serde(default)]
    pub amr: Vec<String>,
    /// Digest of the browser-binding cookie: only the browser that started may resume.
    pub browser_binding: String,
    /// A path on Kunci to send the browser to once the steps are done (or cancelled), instead
    /// of finishing `request` with a code: the device flow's confirmation page (RFC 8628
    /// §3.3), which asks for consent itself. `None` for authorization requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<String>,
}

impl Interaction {
    pub fn current(&self) -> Option<Step> {
        self.pending.first().copied()
    }

    /// Marks `step` done. Returns false if it was not the current step (out-of-order posts).
    pub fn complete(&mut self, step: Step, now: UnixTime, method: Option<&str>) -> bool {
        if self.current() != Some(step) {
            return false;
        }
        self.pending.remove(0);
        self.done.push(DoneStep {
            step,
            at: now,
            method: method.map(str::to_owned),
        });
        true
    }
}
