//! The login interaction's pages: show the current step, and take the answers to it.

use super::views::{ConsentPage, LoginPage, ScopeLine};
use super::{Locale, form, html, unavailable, with_cookie};
use crate::cookies::{self, Kind};
use crate::csrf;
use crate::i18n::Strings;
use crate::oauth::authorize::see_other;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use kunci_core::account::normalize_email;
use kunci_core::flow::{
    AuthorizeOutcome, ConsentDecision, InteractionError, InteractionView, StepOutcome,
};
use kunci_core::interaction::Step;
use kunci_core::secret::token_key;
use serde::Deserialize;

/// Loads the interaction for this browser, or answers with the page explaining why not.
async fn load(
    req: &HttpRequest,
    state: &AppState,
    id: &str,
) -> Result<(InteractionView, Locale), HttpResponse> {
    let key = cookies::read(req, Kind::Browser, state.secure_cookies);
    match state
        .provider
        .interaction(id, key.as_deref(), state.now())
        .await
    {
        Ok(view) => {
            let loc = Locale::of(req, &view.interaction.request.ui_locales);
            Ok((view, loc))
        }
        Err(e) => Err(interaction_error(req, state, id, e)),
    }
}

fn interaction_error(
    req: &HttpRequest,
    state: &AppState,
    id: &str,
    e: InteractionError,
) -> HttpResponse {
    let loc = Locale::of(req, &[]);
    match e {
        InteractionError::Gone => super::error_page(
            state,
            loc,
            StatusCode::BAD_REQUEST,
            &loc.strings(state).err_interaction_gone,
            None,
        ),
        InteractionError::WrongStep => see_other(&format!("/interaction/{id}")),
        InteractionError::Port(p) => unavailable(state, loc, &p),
    }
}

fn after_step(state: &AppState, outcome: StepOutcome) -> HttpResponse {
    let mut resp = match outcome.next {
        AuthorizeOutcome::Redirect(url) => see_other(&url),
        AuthorizeOutcome::Interact { interaction_id } => {
            see_other(&format!("/interaction/{interaction_id}"))
        }
        AuthorizeOutcome::ErrorPage(_) => see_other("/"),
    };
    if let Some(sid) = outcome.new_session_id {
        let _ = resp.add_cookie(&cookies::build(Kind::Session, sid, state.secure_cookies));
    }
    resp
}

/// GET /interaction/{id}: the current step's page.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let id = path.into_inner();
    let (view, loc) = match load(&req, &state, &id).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let (csrf, cookie) = csrf::token_for(&req, state.secure_cookies);
    let email = view
        .interaction
        .request
        .login_hint
        .clone()
        .unwrap_or_default();
    let resp = match view.interaction.current() {
        Some(Step::Authenticate) => {
            login_page(&state, loc, &view, &id, &csrf, &email, None, StatusCode::OK)
        }
        Some(Step::Consent) => consent_page(&state, loc, &view, &id, &csrf).await,
        None => interaction_error(&req, &state, &id, InteractionError::Gone),
    };
    with_cookie(resp, cookie)
}

#[allow(clippy::too_many_arguments)]
fn login_page(
    state: &AppState,
    loc: Locale,
    view: &InteractionView,
    id: &str,
    csrf: &str,
    email: &str,
    error: Option<&str>,
    status: StatusCode,
) -> HttpResponse {
    let page = LoginPage {
        t: loc.strings(state),
        lang: loc.0,
        client_name: &view.client.name,
        action: &format!("/interaction/{id}/login"),
        cancel_action: &format!("/interaction/{id}/cancel"),
        register_url: &format!("/register?interaction={id}"),
        csrf,
        email,
        error,
    };
    html(status, &page)
}

async fn consent_page(
    state: &AppState,
    loc: Locale,
    view: &InteractionView,
    id: &str,
    csrf: &str,
) -> HttpResponse {
    let account_id = view.interaction.account_id.as_deref().unwrap_or_default();
    let account = match state.provider.durable.find_by_id(account_id).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            return super::error_page(
                state,
                loc,
                StatusCode::BAD_REQUEST,
                &loc.strings(state).err_interaction_gone,
                None,
            );
        }
        Err(e) => return unavailable(state, loc, &e),
    };
    let t = loc.strings(state);
    let scopes = view
        .interaction
        .request
        .scopes
        .iter()
        .map(|s| ScopeLine {
            name: s,
            description: scope_description(t, s),
        })
        .collect();
    let page = ConsentPage {
        t,
        lang: loc.0,
        client_name: &view.client.name,
        account_name: &account.name,
        account_email: &account.email,
        scopes,
        action: &format!("/interaction/{id}/consent"),
        csrf,
    };
    html(StatusCode::OK, &page)
}

pub(crate) fn scope_description<'a>(t: &'a Strings, scope: &str) -> &'a str {
    match scope {
        "openid" => &t.scope_openid,
        "profile" => &t.scope_profile,
        "email" => &t.scope_email,
        "phone" => &t.scope_phone,
        "address" => &t.scope_address,
        "offline_access" => &t.scope_offline_access,
        _ => "",
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    csrf: Option<String>,
}

/// POST /interaction/{id}/login: email and password.
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let id = path.into_inner();
    let f: LoginForm = form(&body);
    let (view, loc) = match load(&req, &state, &id).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let t = loc.strings(&state);
    // The form shown again must work: if the CSRF cookie was lost (e.g. the browser restarted
    // mid-sign-in), the fresh token in the form is set as the cookie too.
    let (csrf, cookie) = csrf::token_for(&req, state.secure_cookies);
    let retry = |msg: &str, status| {
        let page = login_page(&state, loc, &view, &id, &csrf, &f.email, Some(msg), status);
        with_cookie(page, cookie.clone())
    };
    if !csrf::verify(&req, state.secure_cookies, f.csrf.as_deref()) {
        return retry(&t.err_csrf, StatusCode::FORBIDDEN);
    }
    if view.interaction.current() != Some(Step::Authenticate) {
        return see_other(&format!("/interaction/{id}"));
    }
    let email = normalize_email(&f.email).unwrap_or_default();
    // Throttle per account name, counted before the expensive hash so a flood costs us nothing.
    let counter = format!("rl:login:{}", token_key(&email));
    match state
        .provider
        .ephemeral
        .incr(&counter, state.login_window_secs)
        .await
    {
        Ok(n) if n > state.max_login_failures => {
            return retry(&t.err_too_many_attempts, StatusCode::TOO_MANY_REQUESTS);
        }
        Ok(_) => {}
        Err(e) => return unavailable(&state, loc, &e),
    }
    let account = match state.provider.durable.find_by_email(&email).await {
        Ok(a) => a,
        Err(e) => return unavailable(&state, loc, &e),
    };
    // Unknown accounts still cost one full hash, so timing does not reveal who is registered.
    let hash = account.as_ref().and_then(|a| a.password_hash.as_deref());
    let ok = match state.passwords.verify(hash, &f.password).await {
        Ok(ok) => ok,
        Err(e) => {
            tracing::error!(error = %e, "password verification failed");
            false
        }
    };
    let Some(account) = account.filter(|_| ok) else {
        return retry(&t.err_invalid_credentials, StatusCode::OK);
    };
    if !account.email_verified {
        return retry(&t.err_email_unverified, StatusCode::OK);
    }
    let _ = state.provider.ephemeral.delete(&counter).await;
    if let Some(old) = cookies::read(&req, Kind::Session, state.secure_cookies) {
        let _ = state.provider.end_session(&old).await;
    }
    match state
        .provider
        .authenticated(view, &account, "pwd", state.now())
        .await
    {
        Ok(outcome) => after_step(&state, outcome),
        Err(e) => interaction_error(&req, &state, &id, e),
    }
}

/// Loads the interaction for a form post and checks the form's CSRF token.
async fn load_checked(
    req: &HttpRequest,
    state: &AppState,
    id: &str,
    csrf_token: Option<&str>,
) -> Result<InteractionView, HttpResponse> {
    let (view, loc) = load(req, state, id).await?;
    if !csrf::verify(req, state.secure_cookies, csrf_token) {
        let t = loc.strings(state);
        return Err(super::error_page(
            state,
            loc,
            StatusCode::FORBIDDEN,
            &t.err_csrf,
            None,
        ));
    }
    Ok(view)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ConsentForm {
    decision: String,
    remember: Option<String>,
    csrf: Option<String>,
}

/// POST /interaction/{id}/consent: allow or deny.
pub async fn consent(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let id = path.into_inner();
    let f: ConsentForm = form(&body);
    let view = match load_checked(&req, &state, &id, f.csrf.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let decision = ConsentDecision {
        approve: f.decision == "allow",
        remember: f.remember.as_deref() == Some("1"),
    };
    match state.provider.consented(view, decision, state.now()).await {
        Ok(outcome) => after_step(&state, outcome),
        Err(e) => interaction_error(&req, &state, &id, e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfForm {
    pub csrf: Option<String>,
}

/// POST /interaction/{id}/cancel: the client hears `access_denied`.
pub async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let id = path.into_inner();
    let f: CsrfForm = form(&body);
    let view = match load_checked(&req, &state, &id, f.csrf.as_deref()).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    match state.provider.cancel(view).await {
        Ok(outcome) => after_step(&state, outcome),
        Err(e) => interaction_error(&req, &state, &id, e),
    }
}
