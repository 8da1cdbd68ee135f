//! Logout: the end-session endpoint of OIDC RP-Initiated Logout 1.0, with Back- and
//! Front-Channel Logout 1.0 behind it (the decisions are in `kunci_core::flow::logout`).
//!
//! `GET /logout` checks what a relying party sent (a bad hint or an unregistered URI is an
//! error page, never a redirect) and then always asks the user to confirm, so a cross-site
//! link cannot sign anyone out. Even an `id_token_hint` for the current session does not skip
//! the question (§2: the OP SHOULD ask): the hint proves which RP asks, not that the user
//! wants to leave every app, and an ID token travels far more widely than a CSRF token.
//!
//! `POST /logout` carrying the form's CSRF field (or nothing an RP would send) is the user's
//! answer. Any other POST is an RP using §2's form serialization; it continues as a GET (303),
//! so the browser sends its SameSite=Lax session cookie, which a cross-site POST does not carry.

use super::views::{ContinueLink, LoggedOutPage, LogoutFrame, LogoutPage};
use super::{Locale, error_page, form, html, oauth_error_page, unavailable, with_cookie};
use crate::cookies::{self, Kind};
use crate::csrf;
use crate::headers::csp_with_frames;
use crate::oauth::authorize::see_other;
use crate::pages::interaction::CsrfForm;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_SECURITY_POLICY, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use kunci_core::flow::LoggedOut;
use kunci_core::logout::{EndSession, EndSessionParams};

/// GET /logout
pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match serde_urlencoded::from_str::<EndSessionParams>(req.query_string()) {
        Ok(params) => ask(&req, &state, &params).await,
        Err(_) => malformed(&req, &state),
    }
}

/// The confirmation page; without a session there is nothing to confirm, and a checked
/// `post_logout_redirect_uri` is followed at once.
async fn ask(req: &HttpRequest, state: &AppState, params: &EndSessionParams) -> HttpResponse {
    let loc = Locale::of(req, &params.locales());
    let end = match state.provider.check_end_session(params).await {
        Ok(end) => end,
        Err(e) => return oauth_error_page(state, loc, &e),
    };
    let sid = cookies::read(req, Kind::Session, state.secure_cookies);
    let signed_in = match state
        .provider
        .session_account(sid.as_deref(), state.now())
        .await
    {
        Ok(s) => s,
        Err(e) => return unavailable(state, loc, &e),
    };
    if signed_in.is_none()
        && let Some(url) = &end.redirect
    {
        return see_other(url);
    }
    let (token, cookie) = csrf::token_for(req, state.secure_cookies);
    let page = LogoutPage {
        t: loc.strings(state),
        lang: loc.0,
        action: "/logout",
        csrf: &token,
        account_name: signed_in.as_ref().map(|(_, a)| a.name.as_str()),
        client_name: end.client.as_ref().map(|c| c.name.as_str()),
        hidden: carried(params),
    };
    with_cookie(html(StatusCode::OK, &page), cookie)
}

/// The relying party's parameters the confirmation form posts back, to be checked again.
fn carried(p: &EndSessionParams) -> Vec<(&'static str, &str)> {
    [
        ("id_token_hint", &p.id_token_hint),
        ("client_id", &p.client_id),
        ("post_logout_redirect_uri", &p.post_logout_redirect_uri),
        ("state", &p.state),
        ("ui_locales", &p.ui_locales),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (k, v)))
    .collect()
}

fn malformed(req: &HttpRequest, state: &AppState) -> HttpResponse {
    let loc = Locale::of(req, &[]);
    let t = loc.strings(state);
    error_page(
        state,
        loc,
        StatusCode::BAD_REQUEST,
        &t.err_bad_request,
        Some("invalid_request"),
    )
}

/// POST /logout: the user's confirmation, or an RP-initiated request sent as a form.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let Ok(params) = serde_urlencoded::from_bytes::<EndSessionParams>(&body) else {
        return malformed(&req, &state);
    };
    let f: CsrfForm = form(&body);
    if f.csrf.is_none() && !params.is_empty() {
        let query = serde_urlencoded::to_string(&params).unwrap_or_default();
        return see_other(&format!("/logout?{query}"));
    }
    let loc = Locale::of(&req, &params.locales());
    if !csrf::verify(&req, state.secure_cookies, f.csrf.as_deref()) {
        return error_page(
            &state,
            loc,
            StatusCode::FORBIDDEN,
            &loc.strings(&state).err_csrf,
            None,
        );
    }
    // The carried parameters are checked again: the form is the user's to edit.
    let end = match state.provider.check_end_session(&params).await {
        Ok(end) => end,
        Err(e) => return oauth_error_page(&state, loc, &e),
    };
    let sid = cookies::read(&req, Kind::Session, state.secure_cookies);
    let out = match state.provider.logout(sid.as_deref(), state.now()).await {
        Ok(out) => out,
        Err(e) => return unavailable(&state, loc, &e),
    };
    let mut resp = match &end.redirect {
        // Nothing to load in the browser first: straight back to the RP, with its `state`.
        Some(url) if out.frontchannel.is_empty() => see_other(url),
        _ => logged_out(&state, loc, &out, &end),
    };
    let _ = resp.add_cookie(&cookies::removal(Kind::Session, state.secure_cookies));
    resp
}

/// The logged-out page: one iframe per front-channel client (its CSP allows exactly their
/// origins), then on to the RP's post-logout redirect URI, if there is one.
fn logged_out(state: &AppState, loc: Locale, out: &LoggedOut, end: &EndSession) -> HttpResponse {
    let name_of = |id: &str| {
        state
            .provider
            .clients
            .get(id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let names: Vec<String> = out
        .frontchannel
        .iter()
        .map(|f| name_of(&f.client_id))
        .collect();
    let client_name = end.client.as_ref().map(|c| c.name.as_str()).unwrap_or("");
    let page = LoggedOutPage {
        t: loc.strings(state),
        lang: loc.0,
        frames: out
            .frontchannel
            .iter()
            .zip(&names)
            .map(|(f, n)| LogoutFrame {
                url: &f.url,
                client_name: n,
            })
            .collect(),
        continue_to: end
            .redirect
            .as_deref()
            .map(|url| ContinueLink { url, client_name }),
    };
    let mut resp = html(StatusCode::OK, &page);
    if !out.frontchannel.is_empty() {
        let csp = csp_with_frames(out.frontchannel.iter().map(|f| f.origin.as_str()));
        if let Ok(v) = HeaderValue::from_str(&csp) {
            resp.headers_mut().insert(CONTENT_SECURITY_POLICY, v);
        }
    }
    resp
}
