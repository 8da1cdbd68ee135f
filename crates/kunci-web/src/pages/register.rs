//! Registration with email verification by a one-time link.
//!
//! Whether an email is already registered is never revealed on the page: the answer is always
//! "check your mailbox". An unverified account gets a fresh link; a verified one gets nothing.

use super::views::{RegisterDonePage, RegisterPage, VerifiedPage};
use super::{Locale, error_page, form, html, unavailable, with_cookie};
use crate::csrf;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use kunci_authn::{Mail, PasswordRejection};
use kunci_core::account::{normalize_email, normalize_name};
use kunci_core::ports::Account;
use kunci_core::records::EmailVerification;
use kunci_core::secret::{Secret, random_token, random_uuid};
use kunci_core::{PortError, Provider};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RegisterQuery {
    interaction: Option<String>,
}

impl RegisterQuery {
    /// Interaction ids are our own random tokens; anything else is dropped rather than echoed.
    fn interaction(&self) -> Option<&str> {
        self.interaction.as_deref().filter(|i| {
            i.len() == 43
                && i.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    }
    fn action(&self) -> String {
        match self.interaction() {
            Some(i) => format!("/register?interaction={i}"),
            None => "/register".into(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RegisterForm {
    name: String,
    email: String,
    password: String,
    csrf: Option<String>,
}

fn page(
    state: &AppState,
    loc: Locale,
    q: &RegisterQuery,
    csrf: &str,
    f: &RegisterForm,
    error: Option<&str>,
    status: StatusCode,
) -> HttpResponse {
    let login_url = q.interaction().map(|i| format!("/interaction/{i}"));
    let page = RegisterPage {
        t: loc.strings(state),
        lang: loc.0,
        action: &q.action(),
        login_url: login_url.as_deref(),
        csrf,
        email: &f.email,
        name: &f.name,
        error,
    };
    html(status, &page)
}

/// GET /register
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<RegisterQuery>,
) -> HttpResponse {
    let loc = Locale::of(&req, &[]);
    let (token, cookie) = csrf::token_for(&req, state.secure_cookies);
    with_cookie(
        page(
            &state,
            loc,
            &q,
            &token,
            &RegisterForm::default(),
            None,
            StatusCode::OK,
        ),
        cookie,
    )
}

/// POST /register
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<RegisterQuery>,
    body: web::Bytes,
) -> HttpResponse {
    let loc = Locale::of(&req, &[]);
    let t = loc.strings(&state);
    let f: RegisterForm = form(&body);
    // A form shown again carries a token that works, even if the CSRF cookie was lost.
    let (token, cookie) = csrf::token_for(&req, state.secure_cookies);
    let again = |msg: &str, status| {
        with_cookie(
            page(&state, loc, &q, &token, &f, Some(msg), status),
            cookie.clone(),
        )
    };
    let retry = |msg: &str| again(msg, StatusCode::OK);
    if !csrf::verify(&req, state.secure_cookies, f.csrf.as_deref()) {
        return again(&t.err_csrf, StatusCode::FORBIDDEN);
    }
    let Some(name) = normalize_name(&f.name) else {
        return retry(&t.err_invalid_name);
    };
    let Some(email) = normalize_email(&f.email) else {
        return retry(&t.err_invalid_email);
    };
    if let Err(r) = state
        .passwords
        .policy()
        .check_new_password(&f.password, &email)
    {
        return retry(match r {
            PasswordRejection::TooShort { .. } => &t.err_password_too_short,
            PasswordRejection::TooLong { .. } => &t.err_password_too_long,
            PasswordRejection::SameAsEmail => &t.err_password_like_email,
            PasswordRejection::TooCommon => &t.err_password_common,
        });
    }
    let hash = match state.passwords.hash(Secret::new(f.password.clone())).await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "password hashing failed");
            return unavailable(&state, loc, &PortError::Unavailable("hasher".into()));
        }
    };
    let now = state.now();
    let account = Account {
        id: random_uuid(),
        email: email.clone(),
        email_verified: false,
        name,
        password_hash: Some(hash),
        locale: Some(loc.0.to_owned()),
        created_at: now,
        updated_at: now,
    };
    let recipient = match state.provider.durable.create(&account).await {
        Ok(()) => Some(account),
        Err(PortError::Conflict(_)) => match state.provider.durable.find_by_email(&email).await {
            Ok(existing) => existing.filter(|a| !a.email_verified),
            Err(e) => return unavailable(&state, loc, &e),
        },
        Err(e) => return unavailable(&state, loc, &e),
    };
    if let Some(account) = recipient
        && let Err(e) = send_verification(&state, loc, &account, q.interaction()).await
    {
        return unavailable(&state, loc, &e);
    }
    html(
        StatusCode::OK,
        &RegisterDonePage {
            t,
            lang: loc.0,
            email: &email,
        },
    )
}

async fn send_verification(
    state: &AppState,
    loc: Locale,
    account: &Account,
    interaction: Option<&str>,
) -> Result<(), PortError> {
    let provider: &Provider = &state.provider;
    let token = random_token();
    let record = EmailVerification {
        account_id: account.id.clone(),
        interaction_id: interaction.map(str::to_owned),
    };
    provider
        .records()
        .put_email_verification(&token, &record, provider.settings.email_verification_ttl)
        .await?;
    let t = loc.strings(state);
    let link = format!("{}/verify-email?token={token}", provider.settings.issuer);
    let mail = Mail {
        to: account.email.clone(),
        subject: t.mail_verify_subject.clone(),
        text_body: t
            .mail_verify_body
            .replace("{name}", &account.name)
            .replace("{link}", &link),
        html_body: None,
    };
    state.mailer.send(&mail).await.map_err(|e| {
        tracing::error!(error = %e, "sending the verification mail failed");
        PortError::Unavailable("mail".into())
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct VerifyQuery {
    token: String,
}

/// GET /verify-email?token=…: one use; the link stops working once clicked.
pub async fn verify(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<VerifyQuery>,
) -> HttpResponse {
    let loc = Locale::of(&req, &[]);
    let t = loc.strings(&state);
    let invalid = || {
        error_page(
            &state,
            loc,
            StatusCode::BAD_REQUEST,
            &t.err_link_invalid,
            None,
        )
    };
    if q.token.is_empty() || q.token.len() > 64 {
        return invalid();
    }
    let record = match state
        .provider
        .records()
        .take_email_verification(&q.token)
        .await
    {
        Ok(Some(r)) => r,
        Ok(None) | Err(PortError::Corrupt(_)) => return invalid(),
        Err(e) => return unavailable(&state, loc, &e),
    };
    match state
        .provider
        .durable
        .mark_email_verified(&record.account_id, state.now())
        .await
    {
        Ok(true) => {}
        Ok(false) => return invalid(),
        Err(e) => return unavailable(&state, loc, &e),
    }
    let continue_url = record.interaction_id.map(|i| format!("/interaction/{i}"));
    html(
        StatusCode::OK,
        &VerifiedPage {
            t,
            lang: loc.0,
            continue_url: continue_url.as_deref(),
        },
    )
}
