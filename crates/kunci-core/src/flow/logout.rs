//! The end-session endpoint's decisions (OIDC RP-Initiated, Back-Channel and Front-Channel
//! Logout 1.0): check what a relying party asks for, then end the session and tell every
//! client that received tokens in it.
//!
//! ```mermaid
//! sequenceDiagram
//!     RP->>Browser: GET/POST /logout?id_token_hint&post_logout_redirect_uri&state
//!     Browser->>Kunci: check_end_session (error → page, never a redirect)
//!     Kunci->>Browser: confirmation page (always; CSRF-protected form)
//!     Browser->>Kunci: POST /logout (csrf)
//!     Kunci->>Kunci: logout: delete session, sign logout tokens
//!     Kunci-->>RPs: LogoutNotifier (background POST logout_token, retried)
//!     Kunci->>Browser: logged-out page with front-channel iframes, or 303 to the RP
//! ```

use super::Provider;
use crate::client::Client;
use crate::clock::UnixTime;
use crate::error::{OAuthError, PortError};
use crate::logout::{
    BackChannelNotice, EndSession, EndSessionParams, FrontChannelFrame, LOGOUT_TOKEN_TYPE,
    LogoutTokenClaims, check_end_session, frontchannel_frame,
};
use crate::secret::Secret;
use crate::sso::SsoSession;

/// What the browser should see after a logout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoggedOut {
    /// The iframes of the logged-out page, one per client with a front-channel logout URI.
    pub frontchannel: Vec<FrontChannelFrame>,
}

impl Provider {
    /// RP-Initiated Logout §2–§4: checks the request's hint, client and redirect URI.
    pub async fn check_end_session(
        &self,
        params: &EndSessionParams,
    ) -> Result<EndSession, OAuthError> {
        let keys = self.keys.current();
        // The clients the request names, loaded first: the checks themselves are synchronous.
        // The hint's `aud` is read from a verified hint only (the check verifies it again).
        let hint_aud = params
            .id_token_hint
            .as_deref()
            .and_then(|t| keys.verify(t).ok())
            .and_then(|(_, claims)| match claims.get("aud") {
                Some(serde_json::Value::String(a)) => Some(a.clone()),
                Some(serde_json::Value::Array(list)) if list.len() == 1 => {
                    list[0].as_str().map(str::to_owned)
                }
                _ => None,
            });
        let clients = self
            .load_clients(&[params.client_id.as_deref(), hint_aud.as_deref()])
            .await?;
        check_end_session(params, &self.settings.issuer, &keys, &clients)
    }

    /// Ends the SSO session `session_id` (the user confirmed), hands a logout token for each
    /// client with a back-channel URI to the [`crate::logout::LogoutNotifier`], and returns the
    /// front-channel iframes. Without a live session there is nobody to tell.
    pub async fn logout(
        &self,
        session_id: Option<&str>,
        now: UnixTime,
    ) -> Result<LoggedOut, PortError> {
        let Some(id) = session_id else {
            return Ok(LoggedOut::default());
        };
        let session = match self.records().session(id).await {
            Ok(s) => s,
            Err(PortError::Corrupt(_)) => None,
            Err(e) => return Err(e),
        };
        self.records().delete_session(id).await?;
        let Some(session) = session else {
            return Ok(LoggedOut::default());
        };
        let sid = session.public_sid();
        let mut notices = Vec::new();
        let mut frontchannel = Vec::new();
        for id in &session.clients {
            // A client deleted since is not told; a store failure does not stop the logout.
            let Ok(Some(client)) = self.client(id).await else {
                continue;
            };
            if let Some(n) = self.backchannel_notice(&client, &session, &sid, now) {
                notices.push(n);
            }
            if let Some(ch) = &client.frontchannel_logout
                && let Some(frame) = frontchannel_frame(&client.id, ch, &self.settings.issuer, &sid)
            {
                frontchannel.push(frame);
            }
        }
        if !notices.is_empty() {
            self.logout_notifier.notify(notices);
        }
        Ok(LoggedOut { frontchannel })
    }

    /// Back-Channel Logout §2.4: a logout token for `client`, signed like its ID tokens.
    fn backchannel_notice(
        &self,
        client: &Client,
        session: &SsoSession,
        sid: &str,
        now: UnixTime,
    ) -> Option<BackChannelNotice> {
        let channel = client.backchannel_logout.as_ref()?;
        let keys = self.keys.current();
        let Some(key) = keys.signing_key_at(client.id_token_alg, now) else {
            tracing::error!(client_id = %client.id, "no signing key for the client's ID token algorithm; logout token not sent");
            return None;
        };
        // The `sub` of the client's ID tokens (public or pairwise, OIDC Core §8).
        let Ok(sub) = self.subject(client, &session.account_id) else {
            tracing::error!(client_id = %client.id, "no pairwise salt for a pairwise client; logout token not sent");
            return None;
        };
        let claims = LogoutTokenClaims::new(&self.settings.issuer, &client.id, &sub, sid, now);
        Some(BackChannelNotice {
            client_id: client.id.clone(),
            uri: channel.uri.clone(),
            logout_token: Secret::new(key.sign(LOGOUT_TOKEN_TYPE, &claims)),
        })
    }
}
