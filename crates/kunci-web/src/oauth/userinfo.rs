//! `/userinfo` (OIDC Core §5.3, RFC 6750 §2.1): Bearer token in the Authorization header.

use crate::error::JsonError;
use crate::headers::CORS_ALLOW_ORIGIN;
use crate::state::AppState;
use actix_web::http::header::{AUTHORIZATION, CACHE_CONTROL, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, web};
use kunci_core::OAuthError;

pub async fn handle(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, JsonError> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(token) = header.and_then(|h| {
        h.strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
    }) else {
        if header.is_some() {
            return Err(JsonError::bearer(OAuthError::invalid_request(
                "use the Bearer authentication scheme",
            )));
        }
        // RFC 6750 §3.1: a request without authentication gets no error code.
        return Ok(HttpResponse::Unauthorized()
            .insert_header((WWW_AUTHENTICATE, r#"Bearer realm="kunci""#))
            .insert_header(CORS_ALLOW_ORIGIN)
            .finish());
    };
    let claims = state
        .provider
        .userinfo(token.trim(), state.now())
        .await
        .map_err(JsonError::bearer)?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header(CORS_ALLOW_ORIGIN)
        .json(claims))
}
