//! Hosted pages: sign-in, registration, consent, logout and errors, rendered on the server.

pub mod device;
pub mod interaction;
pub mod logout;
pub mod register;
pub mod views;

use crate::i18n::{I18n, Strings};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use kunci_core::{OAuthError, PortError};
use serde::de::DeserializeOwned;
use views::ErrorPage;

/// The language a page is shown in.
#[derive(Clone, Copy)]
pub struct Locale(pub &'static str);

impl Locale {
    pub fn of(req: &HttpRequest, ui_locales: &[String]) -> Self {
        let accept = req
            .headers()
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        Self(I18n::negotiate(ui_locales, accept))
    }
    pub fn strings<'a>(&self, state: &'a AppState) -> &'a Strings {
        state.i18n.strings(self.0)
    }
}

/// Renders a page. Pages carry CSRF tokens and personal data, so nothing caches them.
pub fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header((CACHE_CONTROL, "no-store"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            HttpResponse::InternalServerError().body("internal error")
        }
    }
}

pub fn error_page(
    state: &AppState,
    loc: Locale,
    status: StatusCode,
    message: &str,
    code: Option<&str>,
) -> HttpResponse {
    html(
        status,
        &ErrorPage {
            t: loc.strings(state),
            lang: loc.0,
            message,
            code,
            detail: None,
        },
    )
}

/// An OAuth error that must not be redirected (untrusted client or redirect URI).
pub fn oauth_error_page(state: &AppState, loc: Locale, e: &OAuthError) -> HttpResponse {
    let t = loc.strings(state);
    // People read the sentence in their language; the code and the core's (English) public
    // description go on the small line meant for the app's developer and support staff.
    let page = ErrorPage {
        t,
        lang: loc.0,
        message: &t.error_generic,
        code: Some(e.code.as_str()),
        detail: Some(&e.description),
    };
    html(StatusCode::BAD_REQUEST, &page)
}

/// A backend is down: say so plainly, and let the user retry.
pub fn unavailable(state: &AppState, loc: Locale, e: &PortError) -> HttpResponse {
    tracing::error!(error = %e, "backend failure while serving a page");
    let status = match e {
        PortError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut r = error_page(
        state,
        loc,
        status,
        &loc.strings(state).err_unavailable,
        None,
    );
    r.headers_mut().insert(
        actix_web::http::header::RETRY_AFTER,
        actix_web::http::header::HeaderValue::from_static("5"),
    );
    r
}

pub fn not_found(state: &AppState, loc: Locale) -> HttpResponse {
    error_page(
        state,
        loc,
        StatusCode::NOT_FOUND,
        &loc.strings(state).err_not_found,
        None,
    )
}

/// Parses a form body leniently: missing or malformed fields become their defaults, and the
/// handler's own validation then says what is wrong in the user's language.
pub fn form<T: DeserializeOwned + Default>(body: &[u8]) -> T {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// Adds a cookie to a response; cookies we build always serialise.
pub fn with_cookie(
    mut resp: HttpResponse,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> HttpResponse {
    if let Some(c) = cookie {
        let _ = resp.add_cookie(&c);
    }
    resp
}
