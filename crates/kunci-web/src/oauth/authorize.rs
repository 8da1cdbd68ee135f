//! `/authorize` (GET and POST, OIDC Core §3.1.2.1): hand the request to the core, then
//! redirect to the client, to the hosted pages, or show an error page.

use crate::cookies::{self, Kind};
use crate::pages::{self, Locale};
use crate::state::AppState;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use kunci_core::authorize::AuthorizeParams;
use kunci_core::flow::AuthorizeOutcome;
use kunci_core::secret::random_token;

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string());
    handle(req, state, pairs.ok()).await
}

pub async fn post(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let pairs = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body);
    handle(req, state, pairs.ok()).await
}

async fn handle(
    req: HttpRequest,
    state: web::Data<AppState>,
    pairs: Option<Vec<(String, String)>>,
) -> HttpResponse {
    let Some(pairs) = pairs else {
        let loc = Locale::of(&req, &[]);
        return pages::error_page(
            &state,
            loc,
            actix_web::http::StatusCode::BAD_REQUEST,
            &state.i18n.strings(loc.0).err_bad_request,
            Some("invalid_request"),
        );
    };
    let params = AuthorizeParams::from_pairs(pairs);
    let secure = state.secure_cookies;
    let session = cookies::read(&req, Kind::Session, secure);
    let existing_key = cookies::read(&req, Kind::Browser, secure);
    let browser_key = existing_key.clone().unwrap_or_else(random_token);
    let outcome = state
        .provider
        .authorize(&params, session.as_deref(), &browser_key, state.now())
        .await;
    let mut resp = match outcome {
        Ok(AuthorizeOutcome::Redirect(url)) => see_other(&url),
        Ok(AuthorizeOutcome::Interact { interaction_id }) => {
            see_other(&format!("/interaction/{interaction_id}"))
        }
        Ok(AuthorizeOutcome::ErrorPage(e)) => {
            let loc = Locale::of(&req, &[]);
            return pages::oauth_error_page(&state, loc, &e);
        }
        Err(e) => return pages::unavailable(&state, Locale::of(&req, &[]), &e),
    };
    if existing_key.is_none() {
        let _ = resp.add_cookie(&cookies::build(Kind::Browser, browser_key, secure));
    }
    resp
}

/// 303 so a POSTed request becomes a GET at the target (RFC 9110 §15.4.4).
pub fn see_other(url: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, url))
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish()
}
