//! The three cookies Kunci sets, all HttpOnly and SameSite=Lax, each holding only a random value:
//! - session: the SSO session id;
//! - browser: a long-lived key binding login interactions to the browser that started them;
//! - csrf: the double-submit token every form echoes back.
//!
//! Over TLS they are `Secure` and carry the `__Host-` prefix (no Domain, Path=/), so a sibling
//! subdomain cannot set or shadow them. Browsers refuse `__Host-` without `Secure`, so plain-HTTP
//! development uses unprefixed names.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration};

#[derive(Clone, Copy)]
pub enum Kind {
    Session,
    Browser,
    Csrf,
}

impl Kind {
    fn base(self) -> &'static str {
        match self {
            Self::Session => "kunci_session",
            Self::Browser => "kunci_browser",
            Self::Csrf => "kunci_csrf",
        }
    }
    pub fn name(self, secure: bool) -> String {
        if secure {
            format!("__Host-{}", self.base())
        } else {
            self.base().to_owned()
        }
    }
}

pub fn read(req: &HttpRequest, kind: Kind, secure: bool) -> Option<String> {
    req.cookie(&kind.name(secure))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// A cookie for `value`. Session and CSRF cookies live as long as the browser session; the
/// browser key lasts a year so interactions survive a browser restart mid-sign-in.
pub fn build(kind: Kind, value: String, secure: bool) -> Cookie<'static> {
    let mut c = Cookie::build(kind.name(secure), value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
    if let Kind::Browser = kind {
        c.set_max_age(Duration::days(365));
    }
    c
}

pub fn removal(kind: Kind, secure: bool) -> Cookie<'static> {
    let mut c = build(kind, String::new(), secure);
    c.make_removal();
    c
}
