//! Resuming a login interaction from the hosted pages: authentication and consent steps,
//! and finishing with a code.

use super::Provider;
use super::authorize::AuthorizeOutcome;
use crate::client::Client;
use crate::clock::UnixTime;
use crate::error::{ErrorCode, OAuthError, PortError};
use crate::interaction::{Interaction, Step};
use crate::ports::{Account, Consent};
use crate::secret::{constant_time_eq, random_token, token_key};
use crate::sso::SsoSession;
use std::sync::Arc;

/// An interaction with the client it is for, as the hosted pages need it.
#[derive(Debug, Clone)]
pub struct InteractionView {
    pub interaction: Interaction,
    pub client: Arc<Client>,
}

#[derive(Debug, Clone, Copy)]
pub struct ConsentDecision {
    pub approve: bool,
    pub remember: bool,
}

/// What the browser should do after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    /// Set this as the new SSO session cookie (after authentication).
    pub new_session_id: Option<String>,
    pub next: AuthorizeOutcome,
}

#[derive(Debug, thiserror::Error)]
pub enum InteractionError {
    /// Expired, unknown, or started by another browser: the user must go back to the app.
    #[error("interaction not found")]
    Gone,
    /// The posted step is not the current one (double submit, back button): show it again.
    #[error("not the current step")]
    WrongStep,
    #[error(transparent)]
    Port(#[from] PortError),
}

impl Provider {
    /// Loads an interaction, but only for the browser that started it (see `authorize`).
    pub async fn interaction(
        &self,
        id: &str,
        browser_key: Option<&str>,
        now: UnixTime,
    ) -> Result<InteractionView, InteractionError> {
        let ix = match self.records().interaction(id).await {
            // Exact expiry on the provider's clock, whatever the store has purged.
            Ok(Some(ix)) if now - ix.created_at >= self.settings.interaction_ttl as i64 => {
                return Err(InteractionError::Gone);
            }
            Ok(Some(ix)) => ix,
            Ok(None) | Err(PortError::Corrupt(_)) => return Err(InteractionError::Gone),
            Err(e) => return Err(e.into()),
        };
        let bound = browser_key.is_some_and(|b| {
            constant_time_eq(token_key(b).as_bytes(), ix.browser_binding.as_bytes())
        });
        if !bound {
            return Err(InteractionError::Gone);
        }
        let client = self
            .client(&ix.request.client_id)
            .await?
            .ok_or(InteractionError::Gone)?;
        Ok(InteractionView {
            interaction: ix,
            client,
        })
    }

    /// The user proved to be `account` by `method` (RFC 8176 value, e.g. `pwd`). Starts a fresh
    /// SSO session (a new id, so a planted session id is never upgraded) and moves on.
    pub async fn authenticated(
        &self,
        view: InteractionView,
        account: &Account,
        method: &str,
        now: UnixTime,
    ) -> Result<StepOutcome, InteractionError> {
        let InteractionView {
            mut interaction,
            client,
        } = view;
        if !interaction.complete(Step::Authenticate, now, Some(method)) {
            return Err(InteractionError::WrongStep);
        }
        let session = SsoSession {
            id: random_token(),
            account_id: account.id.clone(),
            created_at: now,
            auth_time: now,
            amr: vec![method.to_owned()],
            clients: Vec::new(),
        };
        self.records()
            .put_session(&session, self.settings.session_ttl)
            .await?;
        interaction.account_id = Some(account.id.clone());
        interaction.session_id = Some(session.id.clone());
        interaction.auth_time = Some(now);
        interaction.amr = session.amr.clone();
        // A device sign-in asks for consent on its own confirmation page (RFC 8628 §3.3).
        if interaction.return_to.is_none()
            && self
                .needs_consent(&client, &interaction.request, &account.id)
                .await?
        {
            interaction.pending.push(Step::Consent);
        }
        let next = self.advance(interaction, &session, now).await?;
        Ok(StepOutcome {
            new_session_id: Some(session.id),
            next,
        })
    }

    /// The user answered the consent page.
    pub async fn consented(
        &self,
        view: InteractionView,
        decision: ConsentDecision,
        now: UnixTime,
    ) -> Result<StepOutcome, InteractionError> {
        let InteractionView {
            mut interaction,
            client,
        } = view;
        if interaction.current() != Some(Step::Consent) {
            return Err(InteractionError::WrongStep);
        }
        if !decision.approve {
            return self
                .abandon(interaction, "the user denied the request")
                .await;
        }
        interaction.complete(Step::Consent, now, None);
        let account_id = interaction
            .account_id
            .clone()
            .ok_or(InteractionError::Gone)?;
        if decision.remember {
            // Remembering adds to what was allowed before; it never silently forgets a scope.
            let mut scopes = match self.durable.find(&account_id, &client.id).await? {
                Some(earlier) => earlier.scopes,
                None => Vec::new(),
            };
            scopes.extend(interaction.request.scopes.iter().cloned());
            scopes.sort();
            scopes.dedup();
            let consent = Consent {
                account_id,
                client_id: client.id.clone(),
                scopes,
                granted_at: now,
            };
            self.durable.save(&consent).await?;
        }
        let session_id = interaction.session_id.clone();
        let session = self
            .live_session(session_id.as_deref(), now)
            .await?
            .ok_or(InteractionError::Gone)?;
        let next = self.advance(interaction, &session, now).await?;
        Ok(StepOutcome {
            new_session_id: None,
            next,
        })
    }

    /// The user cancelled: the client hears `access_denied` (RFC 6749 §4.1.2.1).
    pub async fn cancel(&self, view: InteractionView) -> Result<StepOutcome, InteractionError> {
        self.abandon(view.interaction, "the user cancelled the sign-in")
            .await
    }

    async fn abandon(
        &self,
        ix: Interaction,
        why: &'static str,
    ) -> Result<StepOutcome, InteractionError> {
        self.records().delete_interaction(&ix.id).await?;
        if let Some(to) = ix.return_to {
            return Ok(StepOutcome {
                new_session_id: None,
                next: AuthorizeOutcome::Redirect(to),
            });
        }
        let e = OAuthError::new(ErrorCode::AccessDenied, why);
        let url = self.error_redirect(&ix.request.redirect_uri, ix.request.state.as_deref(), &e);
        Ok(StepOutcome {
            new_session_id: None,
            next: AuthorizeOutcome::Redirect(url),
        })
    }

    /// Saves progress and returns where to go: the next step's page, or the client with a code.
    async fn advance(
        &self,
        ix: Interaction,
        session: &SsoSession,
        now: UnixTime,
    ) -> Result<AuthorizeOutcome, PortError> {
        if ix.current().is_some() {
            let left = (ix.created_at + self.settings.interaction_ttl as i64 - now).max(1) as u64;
            self.records().put_interaction(&ix, left).await?;
            return Ok(AuthorizeOutcome::Interact {
                interaction_id: ix.id,
            });
        }
        self.records().delete_interaction(&ix.id).await?;
        if let Some(to) = ix.return_to {
            return Ok(AuthorizeOutcome::Redirect(to));
        }
        self.issue_code(&ix.request, session, now)
            .await
            .map(AuthorizeOutcome::Redirect)
    }

    /// Ends an SSO session (logout). Unknown ids are fine: the result is the same.
    pub async fn end_session(&self, session_id: &str) -> Result<(), PortError> {
        self.records().delete_session(session_id).await
    }

    /// The signed-in account of a browser, for pages outside an interaction (logout, account).
    pub async fn session_account(
        &self,
        session_id: Option<&str>,
        now: UnixTime,
    ) -> Result<Option<(SsoSession, Account)>, PortError> {
        let Some(s) = self.live_session(session_id, now).await? else {
            return Ok(None);
        };
        Ok(self
            .durable
            .find_by_id(&s.account_id)
            .await?
            .map(|a| (s, a)))
    }
}
