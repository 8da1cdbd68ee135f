//! # kunci-web
//!
//! Kunci's HTTP surface on actix-web: the protocol endpoints (JSON and redirects) and the hosted
//! pages (askama templates from the top-level `templates/`, assets from `static/`). Handlers
//! stay thin: parse, call `kunci_core::Provider`, map the result. Nothing here knows SQL or Redis.

pub mod client_ip;
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
///
/// Each path is one resource holding all its methods, so a known path asked with another method
/// answers 405 with an `Allow` header (RFC 9110 §15.5.6) instead of the 404 page.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use actix_web::http::Method;
    use oauth::{authorize, introspect, metadata, par, revoke, token, userinfo};
    use pages::{interaction, logout, register};
    let preflight = || web::method(Method::OPTIONS).to(metadata::preflight);
    cfg.service(
        web::resource("/.well-known/openid-configuration")
            .route(web::get().to(metadata::discovery))
            .route(preflight()),
    )
    // RFC 8414 §3: the same document under the OAuth name, for OAuth-only clients.
    .service(
        web::resource("/.well-known/oauth-authorization-server")
            .route(web::get().to(metadata::discovery))
            .route(preflight()),
    )
    .service(
        web::resource("/jwks")
            .route(web::get().to(metadata::jwks))
            .route(preflight()),
    )
    .service(
        web::resource("/authorize")
            .route(web::get().to(authorize::get))
            .route(web::post().to(authorize::post)),
    )
    .service(
        web::resource("/token")
            .route(web::post().to(token::post))
            .route(preflight()),
    )
    .service(web::resource("/introspect").route(web::post().to(introspect::post)))
    .service(web::resource("/par").route(web::post().to(par::post)))
    .service(
        web::resource("/revoke")
            .route(web::post().to(revoke::post))
            .route(preflight()),
    )
    .service(
        web::resource("/userinfo")
            .route(web::get().to(userinfo::handle))
            .route(web::post().to(userinfo::handle))
            .route(preflight()),
    )
    .service(web::resource("/interaction/{id}").route(web::get().to(interaction::show)))
    .service(web::resource("/interaction/{id}/login").route(web::post().to(interaction::login)))
    .service(web::resource("/interaction/{id}/consent").route(web::post().to(interaction::consent)))
    .service(web::resource("/interaction/{id}/cancel").route(web::post().to(interaction::cancel)))
    .service(
        web::resource("/register")
            .route(web::get().to(register::show))
            .route(web::post().to(register::submit)),
    )
    // RFC 7591 / RFC 7592 (oauth/registration.rs): clients, not people, register here.
    .service(
        web::resource("/connect/register").route(web::post().to(oauth::registration::register)),
    )
    .service(
        web::resource("/connect/register/{client_id}")
            .route(web::get().to(oauth::registration::read))
            .route(web::put().to(oauth::registration::update))
            .route(web::delete().to(oauth::registration::delete)),
    )
    .service(web::resource("/verify-email").route(web::get().to(register::verify)))
    .service(
        web::resource("/logout")
            .route(web::get().to(logout::show))
            .route(web::post().to(logout::submit)),
    )
    .service(
        web::resource("/device_authorization")
            .route(web::post().to(oauth::device_authorization::post)),
    )
    .service(
        web::resource("/device")
            .route(web::get().to(pages::device::show))
            .route(web::post().to(pages::device::enter)),
    )
    .service(web::resource("/device/confirm").route(web::get().to(pages::device::confirm)))
    .service(web::resource("/device/decide").route(web::post().to(pages::device::decide)))
    .service(web::resource("/healthz").route(web::get().to(health::live)))
    .service(web::resource("/readyz").route(web::get().to(health::ready)))
    .service(web::resource("/static/kunci.css").route(web::get().to(stylesheet)))
    .service(web::resource("/static/favicon.svg").route(web::get().to(favicon)))
    // Browsers ask for /favicon.ico on their own; answer with the same icon.
    .service(web::resource("/favicon.ico").route(web::get().to(favicon)))
    .default_service(web::to(not_found));
}

const STYLESHEET: &str = include_str!("../../../static/kunci.css");

const FAVICON: &str = include_str!("../../../static/favicon.svg");

async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "image/svg+xml"))
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(FAVICON)
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(STYLESHEET)
}

async fn not_found(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    pages::not_found(&state, pages::Locale::of(&req, &[]))
}
