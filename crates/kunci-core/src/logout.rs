//! OpenID Connect logout, the protocol half of three specifications:
//!
//! - **RP-Initiated Logout 1.0**: checking a request to the end-session endpoint
//!   ([`check_end_session`]), as an ordered list of small steps, each citing its section;
//! - **Back-Channel Logout 1.0**: the logout token ([`LogoutTokenClaims`]) and the
//!   [`LogoutNotifier`] port that delivers it (I/O, so implemented outside the core);
//! - **Front-Channel Logout 1.0**: the URL of the iframe each client gets ([`frontchannel_frame`]).
//!
//! Which session ends and who hears about it is decided in `flow/logout.rs`.

use crate::client::{Client, ClientLookup, LogoutChannel};
use crate::error::OAuthError;
use crate::jose::KeySet;
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// The event a logout token carries (Back-Channel Logout §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The JWS `typ` of logout tokens (Back-Channel Logout §2.4: explicit typing, so a logout token
/// can never be mistaken for an ID token).
pub const LOGOUT_TOKEN_TYPE: &str = "logout+jwt";

/// How long a logout token is valid. It is delivered at once, so two minutes is plenty.
pub const LOGOUT_TOKEN_TTL: i64 = 120;

/// The parameters of a request to the end-session endpoint (RP-Initiated Logout §2), from the
/// query string (GET) or the form body (POST). Every one is optional.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct EndSessionParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_hint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_logout_redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_locales: Option<String>,
    /// Left to the OP's discretion (§2); Kunci accepts it and does not use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_hint: Option<String>,
}

impl std::fmt::Debug for EndSessionParams {
    /// The hint is an ID token and `logout_hint` may be an email address: neither is printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndSessionParams")
            .field("id_token_hint", &self.id_token_hint.as_ref().map(|_| "***"))
            .field("client_id", &self.client_id)
            .field("post_logout_redirect_uri", &self.post_logout_redirect_uri)
            .field("state", &self.state.as_ref().map(|_| "***"))
            .field("ui_locales", &self.ui_locales)
            .field("logout_hint", &self.logout_hint.as_ref().map(|_| "***"))
            .finish()
    }
}

impl EndSessionParams {
    /// Whether a relying party sent anything at all (a bare `/logout` is the user's own).
    pub fn is_empty(&self) -> bool {
        [
            &self.id_token_hint,
            &self.client_id,
            &self.post_logout_redirect_uri,
            &self.state,
            &self.ui_locales,
            &self.logout_hint,
        ]
        .iter()
        .all(|v| v.as_deref().is_none_or(str::is_empty))
    }

    /// `ui_locales` as a list (space-separated, OIDC Core §3.1.2.1).
    pub fn locales(&self) -> Vec<String> {
        self.ui_locales
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// An end-session request that passed every check.
#[derive(Debug, Clone, Default)]
pub struct EndSession {
    /// The client the request speaks for, named by `id_token_hint` or `client_id`.
    pub client: Option<Arc<Client>>,
    /// Where to send the browser after logout: a URI registered for `client`, with `state`.
    pub redirect: Option<String>,
    /// The `sid` of the hint, when it has one: the session the client believes is current.
    pub hint_sid: Option<String>,
}

/// What a verified `id_token_hint` tells.
struct Hint {
    client: Arc<Client>,
    sid: Option<String>,
}

/// RP-Initiated Logout §2 and §3, in order: the hint, then the client, then the redirect URI.
/// Every failure is shown to the user as a page and never redirected: until the client and
/// the URI are both proven, there is nowhere safe to send the browser.
pub fn check_end_session(
    params: &EndSessionParams,
    issuer: &str,
    keys: &KeySet,
    clients: &dyn ClientLookup,
) -> Result<EndSession, OAuthError> {
    let hint = match non_empty(&params.id_token_hint) {
        Some(token) => Some(check_id_token_hint(token, issuer, keys, clients)?),
        None => None,
    };
    let client = check_client_id(non_empty(&params.client_id), hint.as_ref(), clients)?;
    let redirect = check_post_logout_redirect_uri(
        non_empty(&params.post_logout_redirect_uri),
        non_empty(&params.state),
        client.as_deref(),
    )?;
    Ok(EndSession {
        client,
        redirect,
        hint_sid: hint.and_then(|h| h.sid),
    })
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// §2 `id_token_hint` and §4: an ID token this OP issued, checked by our own keys and `iss`;
/// its `aud` must be a registered client. An expired hint is still accepted (§4: the RP may
/// well log the user out long after the ID token expired), so `exp` is not checked.
fn check_id_token_hint(
    token: &str,
    issuer: &str,
    keys: &KeySet,
    clients: &dyn ClientLookup,
) -> Result<Hint, OAuthError> {
    let bad =
        || OAuthError::invalid_request("id_token_hint is not an ID token issued by this server");
    let (header, claims) = keys.verify(token).map_err(|_| bad())?;
    // Our access tokens (`at+jwt`) and logout tokens (`logout+jwt`) are signed by the same keys;
    // only an ID token may serve as a hint.
    if !matches!(
        header.get("typ").and_then(Value::as_str),
        None | Some("JWT")
    ) {
        return Err(bad());
    }
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(bad());
    }
    let aud = match claims.get("aud") {
        Some(Value::String(a)) => Some(a.as_str()),
        Some(Value::Array(list)) if list.len() == 1 => list[0].as_str(),
        _ => None,
    };
    let client = aud.and_then(|a| clients.get(a)).ok_or_else(|| {
        OAuthError::invalid_request("id_token_hint was not issued to a registered client")
    })?;
    Ok(Hint {
        client,
        sid: claims.get("sid").and_then(Value::as_str).map(str::to_owned),
    })
}

/// §2 `client_id`: a registered client; with a hint, the client the hint was issued to.
fn check_client_id(
    client_id: Option<&str>,
    hint: Option<&Hint>,
    clients: &dyn ClientLookup,
) -> Result<Option<Arc<Client>>, OAuthError> {
    match (client_id, hint) {
        (None, None) => Ok(None),
        (None, Some(h)) => Ok(Some(h.client.clone())),
        (Some(id), Some(h)) if id == h.client.id => Ok(Some(h.client.clone())),
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "client_id does not match the audience of id_token_hint",
        )),
        (Some(id), None) => clients
            .get(id)
            .map(Some)
            .ok_or_else(|| OAuthError::invalid_request("client_id is not a registered client")),
    }
}

/// §2 `post_logout_redirect_uri` and §3: only a URI registered for the identified client,
/// compared exactly; `state` goes back with it.
fn check_post_logout_redirect_uri(
    uri: Option<&str>,
    state: Option<&str>,
    client: Option<&Client>,
) -> Result<Option<String>, OAuthError> {
    let Some(uri) = uri else {
        return Ok(None);
    };
    let client = client.ok_or_else(|| {
        OAuthError::invalid_request(
            "post_logout_redirect_uri needs id_token_hint or client_id to name the client",
        )
    })?;
    if !client.has_post_logout_redirect_uri(uri) {
        return Err(OAuthError::invalid_request(
            "post_logout_redirect_uri is not registered for this client",
        ));
    }
    let mut url = url::Url::parse(uri).map_err(|_| {
        OAuthError::invalid_request("post_logout_redirect_uri is not registered for this client")
    })?;
    if let Some(state) = state {
        url.query_pairs_mut().append_pair("state", state);
    }
    Ok(Some(url.into()))
}

/// The claims of a logout token (Back-Channel Logout §2.4). Never a `nonce`, so it cannot be
/// replayed as an ID token; `sub` and `sid` both, so the RP can match either.
#[derive(Debug, Serialize)]
pub struct LogoutTokenClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub sid: &'a str,
    pub events: Value,
}

impl<'a> LogoutTokenClaims<'a> {
    pub fn new(iss: &'a str, aud: &'a str, sub: &'a str, sid: &'a str, now: i64) -> Self {
        Self {
            iss,
            sub,
            aud,
            iat: now,
            exp: now + LOGOUT_TOKEN_TTL,
            jti: crate::secret::random_token(),
            sid,
            events: serde_json::json!({ BACKCHANNEL_LOGOUT_EVENT: {} }),
        }
    }
}

/// One logout token to deliver: POST `logout_token=…` (form) to `uri` (Back-Channel Logout §2.5).
#[derive(Debug, Clone)]
pub struct BackChannelNotice {
    pub client_id: String,
    /// The client's configured `backchannel_logout_uri`, and nothing else (no SSRF surface).
    pub uri: String,
    pub logout_token: Secret<String>,
}

/// The port that delivers logout tokens. Implementations return at once and deliver in the
/// background with bounded retries: a user's logout never waits for a relying party, and a
/// failed delivery is logged, never shown to the user.
pub trait LogoutNotifier: Send + Sync {
    fn notify(&self, notices: Vec<BackChannelNotice>);
}

/// A notifier that drops everything: for tools that build a `Provider` but never log anyone out.
#[derive(Debug, Default)]
pub struct NoLogoutNotifier;

impl LogoutNotifier for NoLogoutNotifier {
    fn notify(&self, _notices: Vec<BackChannelNotice>) {}
}

/// One iframe on the logged-out page (Front-Channel Logout §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontChannelFrame {
    pub client_id: String,
    /// The client's `frontchannel_logout_uri`, with `iss` and `sid` when it asked for them.
    pub url: String,
    /// The URL's origin, which the page's `frame-src` must allow.
    pub origin: String,
}

/// Front-Channel Logout §2 and §3: the registered URI, plus `iss` and `sid` as query
/// parameters when the client requires them. `None` only if the URI does not parse, which
/// configuration validation rules out.
pub fn frontchannel_frame(
    client_id: &str,
    channel: &LogoutChannel,
    issuer: &str,
    sid: &str,
) -> Option<FrontChannelFrame> {
    let mut url = url::Url::parse(&channel.uri).ok()?;
    if channel.session_required {
        url.query_pairs_mut()
            .append_pair("iss", issuer)
            .append_pair("sid", sid);
    }
    Some(FrontChannelFrame {
        client_id: client_id.to_owned(),
        origin: url.origin().ascii_serialization(),
        url: url.into(),
    })
}

#[cfg(test)]
mod tests;
