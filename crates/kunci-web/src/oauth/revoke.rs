//! `/revoke` (RFC 7009): parse the form and the client's credentials like `/token`, call the
//! core, answer 200 with an empty body, whether or not there was anything to revoke (§2.2).
//! SPAs revoke their own tokens cross-origin, so the answer carries CORS.

use crate::error::JsonError;
use crate::headers::CORS_ALLOW_ORIGIN;
use crate::oauth::token::{ClientForm, client_form};
use crate::state::AppState;
use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, web};
use kunci_core::flow::RevocationRequest;

pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, JsonError> {
    let ClientForm {
        credentials,
        mut form,
    } = client_form(&req, &body)?;
    let request = RevocationRequest {
        credentials,
        token: form.remove("token"),
        token_type_hint: form.remove("token_type_hint"),
    };
    state.provider.revoke(request, state.now()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        .insert_header(CORS_ALLOW_ORIGIN)
        .finish())
}
