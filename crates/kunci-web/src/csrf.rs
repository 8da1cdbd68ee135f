//! CSRF protection for every form: double-submit of a random token held in an HttpOnly cookie
//! and rendered into the form by the server (no JavaScript needed), compared in constant time.
//! SameSite=Lax on the cookie is the second layer.

use crate::cookies::{self, Kind};
use actix_web::HttpRequest;
use actix_web::cookie::Cookie;
use kunci_core::secret::{constant_time_eq, random_token};

/// The token to put in a form, and the cookie to set if the browser did not have one yet.
pub fn token_for(req: &HttpRequest, secure: bool) -> (String, Option<Cookie<'static>>) {
    match cookies::read(req, Kind::Csrf, secure) {
        Some(t) => (t, None),
        None => {
            let t = random_token();
            (t.clone(), Some(cookies::build(Kind::Csrf, t, secure)))
        }
    }
}

/// True when the form's token matches the cookie.
pub fn verify(req: &HttpRequest, secure: bool, form_token: Option<&str>) -> bool {
    match (cookies::read(req, Kind::Csrf, secure), form_token) {
        (Some(c), Some(f)) => constant_time_eq(c.as_bytes(), f.as_bytes()),
        _ => false,
    }
}
