//! `/device_authorization` (RFC 8628 §3.1, §3.2): the client authenticates as at `/token`
//! (same form and credential parsing), the core mints the codes, and the answer is JSON with
//! `Cache-Control: no-store`.

use crate::error::JsonError;
use crate::oauth::token::{ClientForm, client_form};
use crate::state::AppState;
use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, web};
use kunci_core::flow::DeviceAuthorizationRequest;

pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, JsonError> {
    let ClientForm {
        credentials,
        mut form,
    } = client_form(&req, &body)?;
    let request = DeviceAuthorizationRequest {
        credentials,
        scope: form.remove("scope"),
    };
    let response = state
        .provider
        .device_authorization(request, state.now())
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        .json(response))
}
