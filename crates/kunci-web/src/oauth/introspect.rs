//! `/introspect` (RFC 7662): parse the form and the client's credentials like `/token`, call
//! the core, answer JSON with `Cache-Control: no-store`. Called server to server, so no CORS.

use crate::error::JsonError;
use crate::oauth::token::{ClientForm, client_form};
use crate::state::AppState;
use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, web};
use kunci_core::flow::IntrospectionRequest;

pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, JsonError> {
    let ClientForm {
        credentials,
        mut form,
    } = client_form(&req, &body)?;
    let request = IntrospectionRequest {
        credentials,
        token: form.remove("token"),
        token_type_hint: form.remove("token_type_hint"),
    };
    let answer = state.provider.introspect(request, state.now()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        .json(answer))
}
