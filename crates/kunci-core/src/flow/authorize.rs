//! The authorization endpoint's decision: issue a code now, ask the user something, or fail.

use super::Provider;
use crate::authorize::{AuthorizationRequest, AuthorizeError, AuthorizeParams, validate};
use crate::claims_request::meets_essential_acr;
use crate::client::Client;
use crate::clock::UnixTime;
use crate::code::CodeGrant;
use crate::error::{ErrorCode, OAuthError, PortError};
use crate::interaction::{Interaction, Step};
use crate::secret::{constant_time_eq, random_token, random_uuid, token_key};
use crate::sso::SsoSession;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeOutcome {
    /// Send the browser to this URL at the client (a code, or an error the client must see).
    Redirect(String),
    /// Send the browser to the hosted pages of this interaction.
    Interact { interaction_id: String },
    /// Show this error to the user; the redirect URI is not trusted.
    ErrorPage(OAuthError),
}

impl Provider {
    /// Handles an authorization request from a browser that may carry an SSO session id.
    /// `browser_key` is the browser's long-lived random cookie: an interaction can only be
    /// resumed by the browser that started it, which stops an attacker from handing a victim a
    /// half-finished sign-in.
    pub async fn authorize(
        &self,
        params: &AuthorizeParams,
        session_id: Option<&str>,
        browser_key: &str,
        now: UnixTime,
    ) -> Result<AuthorizeOutcome, PortError> {
        // RFC 9126 §4: a `request_uri` from `/par` stands for the whole request.
        let pushed = match self.pushed_params(params).await? {
            Ok(p) => p,
            Err(e) => return Ok(AuthorizeOutcome::ErrorPage(e)),
        };
        // RFC 9101 §6.3: a `request` object stands for the whole request too.
        let signed = match pushed {
            Some(_) => None,
            None => match self.request_object_params(params, now).await? {
                Ok(p) => p,
                Err(e) => return Ok(AuthorizeOutcome::ErrorPage(e)),
            },
        };
        let params = pushed.as_ref().or(signed.as_ref()).unwrap_or(params);
        let clients = self.load_clients(&[params.value("client_id")]).await?;
        let (client, req) = match validate(params, &clients) {
            Ok((client, _)) if client.require_par && pushed.is_none() => {
                // RFC 9126 §6: this client's requests must come through `/par`.
                return Ok(AuthorizeOutcome::ErrorPage(OAuthError::invalid_request(
                    "this application must use pushed authorization requests",
                )));
            }
            Ok(v) => v,
            Err(AuthorizeError::Page(e)) => return Ok(AuthorizeOutcome::ErrorPage(e)),
            Err(AuthorizeError::Redirect {
                redirect_uri,
                state,
                error,
            }) => {
                return Ok(AuthorizeOutcome::Redirect(self.error_redirect(
                    &redirect_uri,
                    state.as_deref(),
                    &error,
                )));
            }
        };
        let reauthenticate = req.prompt.login || req.prompt.select_account;
        let mut usable = self
            .live_session(session_id, now)
            .await?
            .filter(|s| !reauthenticate && !exceeds_max_age(&req, s.auth_time, now));
        if let Some(s) = &usable
            && self.claims_met(&req, s).await.is_err()
        {
            usable = None;
        }
        let session = match usable {
            Some(s) => s,
            _ if req.prompt.none => {
                return Ok(self.fail(&req, ErrorCode::LoginRequired, "the user is not signed in"));
            }
            _ => {
                return self
                    .start_interaction(req, vec![Step::Authenticate], None, browser_key, now)
                    .await;
            }
        };
        if self
            .needs_consent(&client, &req, &session.account_id)
            .await?
        {
            if req.prompt.none {
                return Ok(self.fail(
                    &req,
                    ErrorCode::ConsentRequired,
                    "the user has not consented",
                ));
            }
            return self
                .start_interaction(req, vec![Step::Consent], Some(&session), browser_key, now)
                .await;
        }
        self.issue_code(&req, &session, now)
            .await
            .map(AuthorizeOutcome::Redirect)
    }

    /// The session behind a cookie, if it exists and its account still does.
    /// Expiry is checked here on the provider's clock as well as by the store's TTL, so a session
    /// ends exactly on time whatever the backend purges and however node clocks differ.
    pub(super) async fn live_session(
        &self,
        session_id: Option<&str>,
        now: UnixTime,
    ) -> Result<Option<SsoSession>, PortError> {
        let Some(id) = session_id else {
            return Ok(None);
        };
        let session = match self.records().session(id).await {
            Ok(s) => s,
            // A record we cannot read is treated as no session: the user signs in again.
            Err(PortError::Corrupt(_)) => None,
            Err(e) => return Err(e),
        };
        match session {
            Some(s) if now - s.created_at >= self.settings.session_ttl as i64 => Ok(None),
            Some(s) if self.durable.find_by_id(&s.account_id).await?.is_some() => Ok(Some(s)),
            _ => Ok(None),
        }
    }

    /// Consent is needed unless the client is first-party or a remembered consent covers the
    /// scopes; `prompt=consent` always asks (OIDC Core §3.1.2.1).
    pub(super) async fn needs_consent(
        &self,
        client: &Client,
        req: &AuthorizationRequest,
        account_id: &str,
    ) -> Result<bool, PortError> {
        if req.prompt.consent {
            return Ok(true);
        }
        if client.first_party {
            return Ok(false);
        }
        let remembered = self.durable.find(account_id, &client.id).await?;
        Ok(!remembered.is_some_and(|c| crate::scope::covers(&c.scopes, &req.scopes)))
    }

    async fn start_interaction(
        &self,
        request: AuthorizationRequest,
        pending: Vec<Step>,
        session: Option<&SsoSession>,
        browser_key: &str,
        now: UnixTime,
    ) -> Result<AuthorizeOutcome, PortError> {
        let ix = Interaction {
            id: random_token(),
            request,
            created_at: now,
            pending,
            done: Vec::new(),
            account_id: session.map(|s| s.account_id.clone()),
            session_id: session.map(|s| s.id.clone()),
            auth_time: session.map(|s| s.auth_time),
            amr: session.map(|s| s.amr.clone()).unwrap_or_default(),
            browser_binding: token_key(browser_key),
            return_to: None,
        };
        self.records()
            .put_interaction(&ix, self.settings.interaction_ttl)
            .await?;
        Ok(AuthorizeOutcome::Interact {
            interaction_id: ix.id,
        })
    }

    /// [`check_claims_met`] for the request's client.
    async fn claims_met(
        &self,
        req: &AuthorizationRequest,
        session: &SsoSession,
    ) -> Result<(), OAuthError> {
        let client = self
            .client(&req.client_id)
            .await?
            .ok_or_else(OAuthError::server_error)?;
        let subject = self.subject(&client, &session.account_id)?;
        check_claims_met(req, &subject, session)
    }

    /// Mints a one-time code for `req` in `session` and returns the redirect to the client.
    pub(super) async fn issue_code(
        &self,
        req: &AuthorizationRequest,
        session: &SsoSession,
        now: UnixTime,
    ) -> Result<String, PortError> {
        if let Err(e) = self.claims_met(req, session).await {
            return Ok(self.error_redirect(&req.redirect_uri, req.state.as_deref(), &e));
        }
        let code = random_token();
        let grant = CodeGrant {
            client_id: req.client_id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            scopes: req.scopes.clone(),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            account_id: session.account_id.clone(),
            // Tokens carry this as `sid`: the public form, never the cookie's value.
            session_id: session.public_sid(),
            auth_time: session.auth_time,
            amr: session.amr.clone(),
            issued_at: now,
            grant_id: random_uuid(),
            claims: req.claims.clone(),
            dpop_jkt: req.dpop_jkt.clone(),
        };
        self.records()
            .put_code(&code, &grant, self.settings.code_ttl)
            .await?;
        self.note_client_in_session(session, &req.client_id, now)
            .await?;
        Ok(self.redirect_with(
            &req.redirect_uri,
            &[("code", Some(&code)), ("state", req.state.as_deref())],
        ))
    }

    /// Remembers that `client_id` received tokens in `session`, for logout notifications.
    pub(super) async fn note_client_in_session(
        &self,
        session: &SsoSession,
        client_id: &str,
        now: UnixTime,
    ) -> Result<(), PortError> {
        if !session.clients.iter().any(|c| c == client_id) {
            let mut s = session.clone();
            s.clients.push(client_id.to_owned());
            let left = (s.created_at + self.settings.session_ttl as i64 - now).max(1) as u64;
            self.records().put_session(&s, left).await?;
        }
        Ok(())
    }

    pub(super) fn fail(
        &self,
        req: &AuthorizationRequest,
        code: ErrorCode,
        description: &'static str,
    ) -> AuthorizeOutcome {
        let e = OAuthError::new(code, description);
        AuthorizeOutcome::Redirect(self.error_redirect(&req.redirect_uri, req.state.as_deref(), &e))
    }

    /// RFC 6749 §4.1.2.1 error response, with `iss` (RFC 9207).
    pub(super) fn error_redirect(
        &self,
        redirect_uri: &str,
        state: Option<&str>,
        e: &OAuthError,
    ) -> String {
        self.redirect_with(
            redirect_uri,
            &[
                ("error", Some(e.code.as_str())),
                ("error_description", Some(&e.description)),
                ("state", state),
            ],
        )
    }

    /// Appends parameters and `iss` to a registered redirect URI.
    fn redirect_with(&self, redirect_uri: &str, params: &[(&str, Option<&str>)]) -> String {
        let Ok(mut url) = url::Url::parse(redirect_uri) else {
            // Registered URIs are checked to be absolute URLs when the config is loaded.
            return redirect_uri.to_owned();
        };
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in params {
                if let Some(v) = v {
                    q.append_pair(k, v);
                }
            }
            q.append_pair("iss", &self.settings.issuer);
        }
        url.into()
    }
}

/// OIDC Core §3.1.2.2 and §5.5.1: a requested `sub` value must be the signed-in user's, or
/// no code is issued; §5.5.1.1: an essential `acr` must be reached by this sign-in.
/// The `sub` compared is the one the client sees (public or pairwise, OIDC Core §8).
fn check_claims_met(
    req: &AuthorizationRequest,
    subject: &str,
    session: &SsoSession,
) -> Result<(), OAuthError> {
    let claims = req.claims.as_ref();
    if let Some(sub) = claims.and_then(|c| c.required_sub())
        && !constant_time_eq(sub.as_bytes(), subject.as_bytes())
    {
        return Err(OAuthError::new(
            ErrorCode::AccessDenied,
            "the signed-in user is not the requested subject",
        ));
    }
    if !meets_essential_acr(claims, &session.amr) {
        return Err(OAuthError::new(
            ErrorCode::UnmetAuthenticationRequirements,
            "the sign-in does not reach the essential acr requested",
        ));
    }
    Ok(())
}

/// OIDC Core §3.1.2.1: re-authenticate when more than `max_age` seconds have passed since
/// `auth_time`. `max_age=0` means always (it is `prompt=login`, OpenID Connect issue #993), even
/// within the second of the last sign-in.
fn exceeds_max_age(req: &AuthorizationRequest, auth_time: UnixTime, now: UnixTime) -> bool {
    req.max_age
        .is_some_and(|max| max == 0 || now.saturating_sub(auth_time) > max as i64)
}
