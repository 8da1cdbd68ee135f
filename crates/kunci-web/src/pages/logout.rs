//! Logout: a confirmation page (so a cross-site link cannot sign anyone out), then the SSO
//! session is ended and its cookie removed.

use super::views::{LoggedOutPage, LogoutPage};
use super::{Locale, error_page, form, html, unavailable, with_cookie};
use crate::cookies::{self, Kind};
use crate::csrf;
use crate::pages::interaction::CsrfForm;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

/// GET /logout
pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let loc = Locale::of(&req, &[]);
    let sid = cookies::read(&req, Kind::Session, state.secure_cookies);
    let signed_in = match state.provider.session_account(sid.as_deref()).await {
        Ok(s) => s,
        Err(e) => return unavailable(&state, loc, &e),
    };
    let (token, cookie) = csrf::token_for(&req, state.secure_cookies);
    let page = LogoutPage {
        t: loc.strings(&state),
        lang: loc.0,
        action: "/logout",
        csrf: &token,
        account_name: signed_in.as_ref().map(|(_, a)| a.name.as_str()),
    };
    with_cookie(html(StatusCode::OK, &page), cookie)
}

/// POST /logout
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let loc = Locale::of(&req, &[]);
    let f: CsrfForm = form(&body);
    if !csrf::verify(&req, state.secure_cookies, f.csrf.as_deref()) {
        return error_page(
            &state,
            loc,
            StatusCode::FORBIDDEN,
            &loc.strings(&state).err_csrf,
            None,
        );
    }
    if let Some(sid) = cookies::read(&req, Kind::Session, state.secure_cookies)
        && let Err(e) = state.provider.end_session(&sid).await
    {
        return unavailable(&state, loc, &e);
    }
    let mut resp = html(
        StatusCode::OK,
        &LoggedOutPage {
            t: loc.strings(&state),
            lang: loc.0,
        },
    );
    let _ = resp.add_cookie(&cookies::removal(Kind::Session, state.secure_cookies));
    resp
}
