//! Back-Channel Logout delivery (OIDC Back-Channel Logout 1.0 §2.5): the I/O half of the
//! core's [`LogoutNotifier`] port. The core signs the logout tokens and names the URIs; this
//! POSTs each token as a form to its client's configured URI from a spawned task, off the
//! user's request path, with a bounded number of attempts and growing pauses between them.
//!
//! SSRF hygiene: only URIs from the configuration or of registered clients (https to a
//! public host, checked at registration) are ever contacted, and redirects are not followed. Logs name the client and the outcome, never the token or the user.
//! Deliveries still pending when the process stops are lost (the RP's session then ends by
//! its own expiry).

use kunci_core::logout::{BackChannelNotice, LogoutNotifier};
use reqwest::StatusCode;
use std::time::Duration;

/// How hard to try before giving up on one client.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    /// Limit for one attempt, connecting included.
    pub timeout: Duration,
    /// Pause after the first failed attempt; doubled after each further one.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts of at most 5 s each, 1 s and then 2 s apart: under 20 s in all.
    fn default() -> Self {
        Self {
            attempts: 3,
            timeout: Duration::from_secs(5),
            backoff: Duration::from_secs(1),
        }
    }
}

/// Sends logout tokens over HTTP(S) with reqwest (rustls on ring).
pub struct HttpLogoutNotifier {
    http: reqwest::Client,
    policy: RetryPolicy,
}

impl HttpLogoutNotifier {
    pub fn new(policy: RetryPolicy) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            .user_agent(concat!(
                "kunci/",
                env!("CARGO_PKG_VERSION"),
                " back-channel logout"
            ))
            .build()?;
        Ok(Self { http, policy })
    }
}

impl LogoutNotifier for HttpLogoutNotifier {
    fn notify(&self, notices: Vec<BackChannelNotice>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(
                count = notices.len(),
                "back-channel logout outside an async runtime; tokens not sent"
            );
            return;
        };
        for notice in notices {
            runtime.spawn(deliver(self.http.clone(), self.policy, notice));
        }
    }
}

/// What one attempt came to.
enum Attempt {
    Delivered,
    /// The RP answered and refused (§2.8: 400 for a token it rejects); trying again is useless.
    Refused(StatusCode),
    /// Worth another try: a timeout, a connection failure, or a 5xx/408/429 answer.
    Failed(String),
}

async fn deliver(http: reqwest::Client, policy: RetryPolicy, notice: BackChannelNotice) {
    let client_id = notice.client_id.as_str();
    let mut pause = policy.backoff;
    for attempt in 1..=policy.attempts.max(1) {
        match post(&http, &notice).await {
            Attempt::Delivered => {
                tracing::info!(client_id, attempt, "back-channel logout delivered");
                return;
            }
            Attempt::Refused(status) => {
                tracing::warn!(
                    client_id,
                    attempt,
                    status = status.as_u16(),
                    "back-channel logout refused by the client"
                );
                return;
            }
            Attempt::Failed(why) if attempt < policy.attempts => {
                tracing::info!(
                    client_id,
                    attempt,
                    why,
                    "back-channel logout failed; retrying"
                );
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Attempt::Failed(why) => {
                tracing::warn!(
                    client_id,
                    attempts = attempt,
                    why,
                    "back-channel logout not delivered; giving up"
                );
            }
        }
    }
}

/// One POST of `logout_token=…` (form), as §2.5 prescribes.
async fn post(http: &reqwest::Client, notice: &BackChannelNotice) -> Attempt {
    let sent = http
        .post(&notice.uri)
        .header(reqwest::header::CACHE_CONTROL, "no-store")
        .form(&[("logout_token", notice.logout_token.expose().as_str())])
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Attempt::Delivered,
        Ok(r) if retryable(r.status()) => Attempt::Failed(format!("HTTP {}", r.status().as_u16())),
        Ok(r) => Attempt::Refused(r.status()),
        // The URL is left out: it is configuration, and may carry a secret in its query.
        Err(e) if e.is_timeout() => Attempt::Failed("timeout".into()),
        Err(e) if e.is_connect() => Attempt::Failed("connection failed".into()),
        Err(e) => Attempt::Failed(e.without_url().to_string()),
    }
}

/// Server trouble and throttling may pass; anything else the RP said will not change.
fn retryable(status: StatusCode) -> bool {
    status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_passing_trouble_is_retried() {
        for s in [500, 502, 503, 504, 408, 429] {
            assert!(retryable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [400, 401, 404, 501] {
            assert!(!retryable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
    }
}
