//! Discovery (OIDC Discovery §4) and the JWKS, served from bytes prepared at start-up (the
//! JWKS: whenever the keys are reloaded).

use crate::headers::CORS_ALLOW_ORIGIN;
use crate::state::AppState;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};

pub async fn discovery(state: web::Data<AppState>) -> HttpResponse {
    json_document(state.discovery_json.clone())
}

pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    // RFC 7517 §8.5: application/jwk-set+json; clients also accept plain JSON.
    let mut r = json_document(state.jwks_json());
    r.headers_mut().insert(
        CONTENT_TYPE,
        actix_web::http::header::HeaderValue::from_static("application/jwk-set+json"),
    );
    r
}

fn json_document(body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CACHE_CONTROL, "public, max-age=300"))
        .insert_header(CORS_ALLOW_ORIGIN)
        .body(body)
}

/// CORS preflight for the cross-origin endpoints.
pub async fn preflight() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(CORS_ALLOW_ORIGIN)
        .insert_header(("Access-Control-Allow-Methods", "GET, POST, OPTIONS"))
        .insert_header((
            "Access-Control-Allow-Headers",
            "Authorization, Content-Type, DPoP",
        ))
        .insert_header(("Access-Control-Max-Age", "600"))
        .finish()
}
