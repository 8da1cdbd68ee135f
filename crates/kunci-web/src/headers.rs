//! Security headers on every response, and CORS for the endpoints browsers' JavaScript calls.

use actix_web::middleware::DefaultHeaders;

/// No inline script or style anywhere (the pages need none); nothing may frame us.
/// `form-action` is left out on purpose: browsers apply it to the redirect that follows a form
/// post, and after sign-in that redirect goes to the client's own origin.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'";

/// The page CSP plus `frame-src` for exactly these origins, for the one response that needs
/// it: the logged-out page with the relying parties' front-channel logout iframes
/// (Front-Channel Logout 1.0 §3). Set on the response itself, it takes the place of the default
/// (`DefaultHeaders` never overwrites a header a handler set). Still no script of any kind.
pub fn csp_with_frames<'a>(origins: impl IntoIterator<Item = &'a str>) -> String {
    let mut list: Vec<&str> = origins
        .into_iter()
        // Origins come from parsed http(s) URLs; an opaque origin ("null") is never allowed.
        .filter(|o| *o != "null" && !o.contains([' ', ';', ',', '\'']))
        .collect();
    list.sort_unstable();
    list.dedup();
    if list.is_empty() {
        return CSP.to_owned();
    }
    format!("{CSP}; frame-src {}", list.join(" "))
}

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

/// Discovery, JWKS, token, revocation and userinfo are called cross-origin by SPAs. They use no cookies, so
/// any origin may read them (the Fetch spec forbids `*` only together with credentials).
pub const CORS_ALLOW_ORIGIN: (&str, &str) = ("Access-Control-Allow-Origin", "*");

/// Response headers a browser client must be able to read: the server's DPoP nonce and the
/// resource's challenge (RFC 9449 §8, §7.1).
pub const CORS_EXPOSE_HEADERS: (&str, &str) = (
    "Access-Control-Expose-Headers",
    "DPoP-Nonce, WWW-Authenticate",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_sources_are_exactly_the_given_origins() {
        assert_eq!(csp_with_frames([]), CSP);
        let csp = csp_with_frames([
            "https://b.example",
            "http://127.0.0.1:9",
            "https://b.example",
            "null",
        ]);
        assert!(csp.starts_with(CSP), "{csp}");
        assert!(
            csp.ends_with("; frame-src http://127.0.0.1:9 https://b.example"),
            "{csp}"
        );
        assert!(!csp.contains("script"), "{csp}");
    }
}
