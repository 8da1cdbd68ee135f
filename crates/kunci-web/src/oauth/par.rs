//! `/par` (RFC 9126 §2): a client pushes its authorization request, authenticated like at
//! `/token`; the answer is 201 with the `request_uri` to send the browser with, or a JSON error.

use crate::error::JsonError;
use crate::oauth::token::{ClientForm, client_form};
use crate::state::AppState;
use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, web};

pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, JsonError> {
    let ClientForm { credentials, form } = client_form(&req, &body)?;
    let params: Vec<(String, String)> = form.into_iter().collect();
    let dpop = crate::oauth::dpop::proof(&req)?;
    let response = state
        .provider
        .push_authorization_request(credentials, params, dpop, state.now())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        .json(response))
}
