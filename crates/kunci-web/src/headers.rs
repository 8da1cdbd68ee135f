//! Security headers on every response, and CORS for the endpoints browsers' JavaScript calls.

use actix_web::middleware::DefaultHeaders;

/// No inline script or style anywhere (the pages need none); nothing may frame us.
/// `form-action` is left out on purpose: browsers apply it to the redirect that follows a form
/// post, and after sign-in that redirect goes to the client's own origin.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

pub fn security(secure: bool) -> DefaultHeaders {
    let h = DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Frame-Options", "DENY"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"));
    if secure {
        h.add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        h
    }
}

/// Discovery, JWKS, token and userinfo are called cross-origin by SPAs. They use no cookies, so
/// any origin may read them (the Fetch spec forbids `*` only together with credentials).
pub const CORS_ALLOW_ORIGIN: (&str, &str) = ("Access-Control-Allow-Origin", "*");
