//! The device code grant (RFC 8628 §3.4, §3.5): the device polls with its `device_code`.
//! Reads top to bottom: load the request → it belongs to this client → not expired → the
//! user's answer (still pending: `authorization_pending`, or `slow_down` when polled faster than
//! the interval; denied: `access_denied`) → take it once → the account still exists → start a
//! refresh token family when `offline_access` was granted → issue tokens (bound to the DPoP key
//! of the poll that receives them, when it sent a proof).

use super::TokenRequest;
use super::TokenResponse;
use super::issue::UserGrant;
use crate::client::Client;
use crate::clock::UnixTime;
use crate::device::{DeviceGrant, DevicePolling, DeviceStatus};
use crate::error::{ErrorCode, OAuthError, PortError};
use crate::flow::Provider;
use crate::flow::device::DEVICE_POLL_INTERVAL;
use crate::secret::token_key;

/// RFC 8628 §3.5: each `slow_down` adds 5 seconds to the interval.
const SLOW_DOWN_STEP: u64 = 5;

impl Provider {
    pub(super) async fn device_code_grant(
        &self,
        client: &Client,
        req: &TokenRequest,
        dpop_jkt: Option<&str>,
        now: UnixTime,
    ) -> Result<TokenResponse, OAuthError> {
        let code = req
            .device_code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| OAuthError::invalid_request("device_code is missing"))?;
        let key = token_key(code);
        let records = self.records();
        let grant = records.device_grant(&key).await?.ok_or_else(unknown_code)?;
        check_device_binding(&grant, client)?;
        check_device_fresh(&grant, now)?;
        match grant.status {
            DeviceStatus::Pending => return Err(self.pending_poll(&key, &grant, now).await?),
            DeviceStatus::Denied => {
                return Err(OAuthError::new(
                    ErrorCode::AccessDenied,
                    "the user denied the request",
                ));
            }
            DeviceStatus::Approved(_) => {}
        }
        // Tokens are issued once: of two racing polls, one takes the approval.
        let Some(DeviceGrant {
            status: DeviceStatus::Approved(approval),
            scopes,
            ..
        }) = records.take_device_grant(&key).await?
        else {
            return Err(unknown_code());
        };
        let account = self
            .durable
            .find_by_id(&approval.account_id)
            .await?
            .ok_or_else(|| OAuthError::invalid_grant("the account no longer exists"))?;
        let user = UserGrant {
            client,
            grant_id: &approval.grant_id,
            account_id: &account.id,
            session_id: &approval.session_id,
            auth_time: approval.auth_time,
            amr: &approval.amr,
            scopes: &scopes,
            // RFC 8628 has no nonce: nothing ties the request to a browser of the client's.
            nonce: None,
            account: &account,
            claims: None,
            // RFC 9449 §5: bound to the key of the poll that receives the tokens.
            dpop_jkt,
        };
        let refresh_token = self.start_refresh_family(&user, now).await?;
        self.issue_user_tokens(&user, refresh_token, now).await
    }

    /// RFC 8628 §3.5: still pending. A poll sooner than the interval after the previous one
    /// is `slow_down`, and the interval grows by 5 seconds for every later poll.
    async fn pending_poll(
        &self,
        key: &str,
        grant: &DeviceGrant,
        now: UnixTime,
    ) -> Result<OAuthError, PortError> {
        let records = self.records();
        let previous = match records.device_polling(key).await {
            Ok(p) => p,
            // A record we cannot read is treated as no previous poll.
            Err(PortError::Corrupt(_)) => None,
            Err(e) => return Err(e),
        };
        let (interval, too_fast) = match previous {
            Some(p) if now - p.last_poll < p.interval as i64 => (p.interval + SLOW_DOWN_STEP, true),
            Some(p) => (p.interval, false),
            None => (DEVICE_POLL_INTERVAL, false),
        };
        let polling = DevicePolling {
            last_poll: now,
            interval,
        };
        let left = (grant.expires_at + self.settings.device_code_ttl as i64 - now).max(1) as u64;
        records.put_device_polling(key, &polling, left).await?;
        Ok(if too_fast {
            OAuthError::new(
                ErrorCode::SlowDown,
                format!("poll no more often than every {interval} seconds"),
            )
        } else {
            OAuthError::new(
                ErrorCode::AuthorizationPending,
                "the user has not answered yet",
            )
        })
    }
}

fn unknown_code() -> OAuthError {
    OAuthError::invalid_grant("the device_code is invalid or already used")
}

/// A device code is bound to the client it was issued to (RFC 8628 §3.4, RFC 6749 §5.2).
fn check_device_binding(grant: &DeviceGrant, client: &Client) -> Result<(), OAuthError> {
    if grant.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the device_code was issued to another client",
        ));
    }
    Ok(())
}

/// RFC 8628 §3.5 `expired_token`, on the provider's clock (the record outlives `expires_in`).
fn check_device_fresh(grant: &DeviceGrant, now: UnixTime) -> Result<(), OAuthError> {
    if now >= grant.expires_at {
        return Err(OAuthError::new(
            ErrorCode::ExpiredToken,
            "the device_code has expired",
        ));
    }
    Ok(())
}
