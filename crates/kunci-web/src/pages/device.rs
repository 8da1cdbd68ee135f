//! The device verification pages (RFC 8628 §3.3): enter the code a TV or kiosk shows, sign in
//! if needed (the ordinary login interaction, returning here), confirm or deny, done.
//!
//! `GET /device[?user_code=]` shows the form (pre-filled from `verification_uri_complete`);
//! `POST /device` looks the code up; `GET /device/confirm?user_code=` is where sign-in returns;
//! `POST /device/decide` records the answer. Every lookup counts against the browser and the
//! code (§5.1, in the core).

use super::interaction::scope_description;
use super::views::ScopeLine;
use super::{Locale, form, html, unavailable, with_cookie};
use crate::cookies::{self, Kind};
use crate::csrf;
use crate::i18n::Strings;
use crate::oauth::authorize::see_other;
use crate::state::AppState;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use kunci_core::flow::{DeviceDecided, DeviceLookup, DeviceRequestView};
use kunci_core::secret::random_token;
use serde::Deserialize;

/// Longer input is not a user code; it is cut before it reaches a page again.
const MAX_INPUT: usize = 32;

#[derive(Template)]
#[template(path = "device.html")]
struct EntryPage<'a> {
    t: &'a Strings,
    lang: &'a str,
    action: &'a str,
    csrf: &'a str,
    user_code: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "device_confirm.html")]
struct ConfirmPage<'a> {
    t: &'a Strings,
    lang: &'a str,
    client_name: &'a str,
    account_name: &'a str,
    account_email: &'a str,
    scopes: Vec<ScopeLine<'a>>,
    user_code: &'a str,
    action: &'a str,
    csrf: &'a str,
}

#[derive(Template)]
#[template(path = "device_done.html")]
struct DonePage<'a> {
    t: &'a Strings,
    lang: &'a str,
    approved: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    user_code: String,
    decision: String,
    csrf: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeQuery {
    user_code: String,
}

fn bounded(input: &str) -> &str {
    match input.char_indices().nth(MAX_INPUT) {
        Some((i, _)) => &input[..i],
        None => input,
    }
}

/// The entry form, with the code typed so far and why it did not work, if it did not.
fn entry_page(
    req: &HttpRequest,
    state: &AppState,
    loc: Locale,
    user_code: &str,
    error: Option<&str>,
    status: StatusCode,
) -> HttpResponse {
    let (csrf, cookie) = csrf::token_for(req, state.secure_cookies);
    let page = EntryPage {
        t: loc.strings(state),
        lang: loc.0,
        action: "/device",
        csrf: &csrf,
        user_code: bounded(user_code),
        error,
    };
    with_cookie(html(status, &page), cookie)
}

/// The browser's long-lived key (throttling, interaction binding), and the cookie to set
/// when it had none.
fn browser_key(req: &HttpRequest, state: &AppState) -> (String, Option<Cookie<'static>>) {
    match cookies::read(req, Kind::Browser, state.secure_cookies) {
        Some(k) => (k, None),
        None => {
            let k = random_token();
            let c = cookies::build(Kind::Browser, k.clone(), state.secure_cookies);
            (k, Some(c))
        }
    }
}

fn device_url(user_code: &str) -> String {
    let q = serde_urlencoded::to_string([("user_code", bounded(user_code))]).unwrap_or_default();
    format!("/device?{q}")
}

/// GET /device: the code entry form, pre-filled from `?user_code=` (§3.3.1).
pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let q: CodeQuery = form(req.query_string().as_bytes());
    let loc = Locale::of(&req, &[]);
    let (_, key_cookie) = browser_key(&req, &state);
    with_cookie(
        entry_page(&req, &state, loc, &q.user_code, None, StatusCode::OK),
        key_cookie,
    )
}

/// POST /device: look the code up; then the confirmation, or sign in first.
pub async fn enter(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let f: CodeForm = form(&body);
    let loc = Locale::of(&req, &[]);
    let t = loc.strings(&state);
    if !csrf::verify(&req, state.secure_cookies, f.csrf.as_deref()) {
        return entry_page(
            &req,
            &state,
            loc,
            &f.user_code,
            Some(&t.err_csrf),
            StatusCode::FORBIDDEN,
        );
    }
    look_up_and_confirm(&req, &state, loc, &f.user_code).await
}

/// GET /device/confirm: where the sign-in returns. Without a session, back to the form.
pub async fn confirm(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let q: CodeQuery = form(req.query_string().as_bytes());
    let loc = Locale::of(&req, &[]);
    let session = cookies::read(&req, Kind::Session, state.secure_cookies);
    match state
        .provider
        .session_account(session.as_deref(), state.now())
        .await
    {
        Ok(Some(_)) => look_up_and_confirm(&req, &state, loc, &q.user_code).await,
        Ok(None) => see_other(&device_url(&q.user_code)),
        Err(e) => unavailable(&state, loc, &e),
    }
}

async fn look_up_and_confirm(
    req: &HttpRequest,
    state: &AppState,
    loc: Locale,
    user_code: &str,
) -> HttpResponse {
    let t = loc.strings(state);
    let (key, key_cookie) = browser_key(req, state);
    let now = state.now();
    let address = crate::client_ip::client_ip(req, &state.trusted_proxies).map(|ip| ip.to_string());
    let view = match state
        .provider
        .device_lookup(user_code, &key, address.as_deref(), now)
        .await
    {
        Ok(DeviceLookup::Found(view)) => view,
        Ok(DeviceLookup::Invalid) => {
            let page = entry_page(
                req,
                state,
                loc,
                user_code,
                Some(&t.err_device_code_invalid),
                StatusCode::BAD_REQUEST,
            );
            return with_cookie(page, key_cookie);
        }
        Ok(DeviceLookup::TooManyAttempts) => {
            let page = entry_page(
                req,
                state,
                loc,
                user_code,
                Some(&t.err_too_many_attempts),
                StatusCode::TOO_MANY_REQUESTS,
            );
            return with_cookie(page, key_cookie);
        }
        Err(e) => return unavailable(state, loc, &e),
    };
    let session = cookies::read(req, Kind::Session, state.secure_cookies);
    let resp = match state
        .provider
        .session_account(session.as_deref(), now)
        .await
    {
        Ok(Some((_, account))) => confirm_page(req, state, loc, &view, &account),
        Ok(None) => {
            let back = format!("/device/confirm?user_code={}", view.user_code);
            match state
                .provider
                .device_sign_in(&view, &key, back, vec![loc.0.to_owned()], now)
                .await
            {
                Ok(id) => see_other(&format!("/interaction/{id}")),
                Err(e) => return unavailable(state, loc, &e),
            }
        }
        Err(e) => return unavailable(state, loc, &e),
    };
    with_cookie(resp, key_cookie)
}

/// §3.3 and §5.4: who asks, for what, the code to compare, and the remote-phishing warning.
fn confirm_page(
    req: &HttpRequest,
    state: &AppState,
    loc: Locale,
    view: &DeviceRequestView,
    account: &kunci_core::ports::Account,
) -> HttpResponse {
    let t = loc.strings(state);
    let (csrf, cookie) = csrf::token_for(req, state.secure_cookies);
    let scopes = view
        .scopes
        .iter()
        .map(|s| ScopeLine {
            name: s,
            description: scope_description(t, s),
        })
        .collect();
    let page = ConfirmPage {
        t,
        lang: loc.0,
        client_name: &view.client.name,
        account_name: &account.name,
        account_email: &account.email,
        scopes,
        user_code: &view.user_code,
        action: "/device/decide",
        csrf: &csrf,
    };
    with_cookie(html(StatusCode::OK, &page), cookie)
}

/// POST /device/decide: approve or deny, then the done page.
pub async fn decide(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let f: CodeForm = form(&body);
    let loc = Locale::of(&req, &[]);
    let t = loc.strings(&state);
    if !csrf::verify(&req, state.secure_cookies, f.csrf.as_deref()) {
        return super::error_page(&state, loc, StatusCode::FORBIDDEN, &t.err_csrf, None);
    }
    let session = cookies::read(&req, Kind::Session, state.secure_cookies);
    let browser = cookies::read(&req, Kind::Browser, state.secure_cookies);
    let approve = f.decision == "approve";
    let decided = state
        .provider
        .device_decide(
            &f.user_code,
            session.as_deref(),
            browser.as_deref(),
            approve,
            state.now(),
        )
        .await;
    let approved = match decided {
        Ok(DeviceDecided::Approved) => true,
        Ok(DeviceDecided::Denied) => false,
        Ok(DeviceDecided::Invalid) => {
            return entry_page(
                &req,
                &state,
                loc,
                &f.user_code,
                Some(&t.err_device_code_invalid),
                StatusCode::BAD_REQUEST,
            );
        }
        Ok(DeviceDecided::SignInRequired) => return see_other(&device_url(&f.user_code)),
        Err(e) => return unavailable(&state, loc, &e),
    };
    let page = DonePage {
        t,
        lang: loc.0,
        approved,
    };
    html(StatusCode::OK, &page)
}
