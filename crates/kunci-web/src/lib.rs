//! # kunci-web
//!
//! Kunci's HTTP surface on actix-web: the protocol endpoints (JSON and redirects) and the hosted
//! pages (askama templates from the top-level `templates/`, assets from `static/`). Handlers
//! stay thin: parse, call `kunci_core::Provider`, map the result. Nothing here knows SQL or Redis.

pub mod cookies;
pub mod csrf;
pub mod error;
pub mod headers;
pub mod health;
pub mod i18n;
pub mod oauth;
pub mod pages;
pub mod state;

pub use state::AppState;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};

/// Every route Kunci serves. The binary and the tests mount exactly this.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use oauth::{authorize, metadata, token, userinfo};
    use pages::{interaction, logout, register};
    cfg.route(
        "/.well-known/openid-configuration",
        web::get().to(metadata::discovery),
    )
    .route(
        "/.well-known/openid-configuration",
        web::method(actix_web::http::Method::OPTIONS).to(metadata::preflight),
    )
    .route("/jwks", web::get().to(metadata::jwks))
    .route(
        "/jwks",
        web::method(actix_web::http::Method::OPTIONS).to(metadata::preflight),
    )
    .route("/authorize", web::get().to(authorize::get))
    .route("/authorize", web::post().to(authorize::post))
    .route("/token", web::post().to(token::post))
    .route(
        "/token",
        web::method(actix_web::http::Method::OPTIONS).to(metadata::preflight),
    )
    .route("/userinfo", web::get().to(userinfo::handle))
    .route("/userinfo", web::post().to(userinfo::handle))
    .route(
        "/userinfo",
        web::method(actix_web::http::Method::OPTIONS).to(metadata::preflight),
    )
    .route("/interaction/{id}", web::get().to(interaction::show))
    .route(
        "/interaction/{id}/login",
        web::post().to(interaction::login),
    )
    .route(
        "/interaction/{id}/consent",
        web::post().to(interaction::consent),
    )
    .route(
        "/interaction/{id}/cancel",
        web::post().to(interaction::cancel),
    )
    .route("/register", web::get().to(register::show))
    .route("/register", web::post().to(register::submit))
    .route("/verify-email", web::get().to(register::verify))
    .route("/logout", web::get().to(logout::show))
    .route("/logout", web::post().to(logout::submit))
    .route("/healthz", web::get().to(health::live))
    .route("/readyz", web::get().to(health::ready))
    .route("/static/kunci.css", web::get().to(stylesheet))
    .default_service(web::to(not_found));
}

const STYLESHEET: &str = include_str!("../../../static/kunci.css");

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(STYLESHEET)
}

async fn not_found(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    pages::not_found(&state, pages::Locale::of(&req, &[]))
}
