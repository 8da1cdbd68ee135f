//! Dynamic client registration (RFC 7591 §3) at `POST /connect/register` with a JSON body, and
//! its management (RFC 7592) at `GET`/`PUT`/`DELETE /connect/register/{client_id}`. Both take a
//! Bearer token: the operator's initial access token, then the client's registration access
//! token. The path is not `/register`, the people's sign-up page, so that a person's form and a
//! client's registration can never be mistaken for each other. With registration disabled these
//! endpoints answer 404, as if they did not exist.

use crate::error::JsonError;
use crate::pages::{self, Locale};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, web};
use kunci_core::flow::ClientInformation;

/// RFC 7591 §3.1: the body is JSON (`application/json`, any parameters).
fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// The token of `Authorization: Bearer …` (RFC 6750 §2.1), if that is what was sent.
fn bearer(req: &HttpRequest) -> Option<&str> {
    let header = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn disabled(req: &HttpRequest, state: &AppState) -> Option<HttpResponse> {
    state
        .provider
        .settings
        .registration
        .is_none()
        .then(|| pages::not_found(state, Locale::of(req, &[])))
}

/// RFC 7591 §3.2.1: the client information, never cached (it holds credentials).
fn information(status: StatusCode, info: ClientInformation) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        .json(info.0)
}

/// POST /connect/register (JSON)
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, JsonError> {
    if let Some(resp) = disabled(&req, &state) {
        return Ok(resp);
    }
    if !is_json(&req) {
        return Err(JsonError::client(kunci_core::OAuthError::invalid_request(
            "the registration request must be application/json (RFC 7591 §3.1)",
        )));
    }
    let info = state
        .provider
        .register_client(bearer(&req), &body, state.now())
        .await
        .map_err(JsonError::bearer)?;
    Ok(information(StatusCode::CREATED, info))
}

/// GET /connect/register/{client_id}
pub async fn read(
    req: HttpRequest,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, JsonError> {
    if let Some(resp) = disabled(&req, &state) {
        return Ok(resp);
    }
    let info = state
        .provider
        .read_client_registration(&client_id, bearer(&req))
        .await
        .map_err(JsonError::bearer)?;
    Ok(information(StatusCode::OK, info))
}

/// PUT /connect/register/{client_id}
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, JsonError> {
    if let Some(resp) = disabled(&req, &state) {
        return Ok(resp);
    }
    let info = state
        .provider
        .update_client_registration(&client_id, bearer(&req), &body, state.now())
        .await
        .map_err(JsonError::bearer)?;
    Ok(information(StatusCode::OK, info))
}

/// DELETE /connect/register/{client_id}
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    client_id: web::Path<String>,
) -> Result<HttpResponse, JsonError> {
    if let Some(resp) = disabled(&req, &state) {
        return Ok(resp);
    }
    state
        .provider
        .delete_client_registration(&client_id, bearer(&req))
        .await
        .map_err(JsonError::bearer)?;
    Ok(HttpResponse::NoContent()
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish())
}
