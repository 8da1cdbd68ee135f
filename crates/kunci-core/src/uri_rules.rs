//! Rules for the URIs a client registers, shared by the operator's configuration
//! (`kunci/src/config/clients.rs`) and dynamic client registration (`registration.rs`), so that
//! a URI refused in one is refused in the other. Messages quote the URI and say the fix.

use url::Url;

/// `localhost`, `127.0.0.0/8` or `::1`: where plain http is allowed (RFC 8252 §7.3).
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// RFC 9700 §2.1 and §4.1.3: absolute, no fragment, no wildcards; plain http only to loopback.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let url = Url::parse(uri).map_err(|_| format!("{uri:?} is not an absolute URL"))?;
    if url.fragment().is_some() {
        return Err(format!("{uri:?} must not contain a fragment"));
    }
    if uri.contains('*') {
        return Err(format!(
            "{uri:?}: wildcards are not allowed; list every redirect URI exactly"
        ));
    }
    if url.scheme() == "http" && !is_loopback_host(&url) {
        return Err(format!(
            "{uri:?}: plain http is allowed only for localhost/127.0.0.1; use https"
        ));
    }
    Ok(())
}

/// A URI Kunci itself calls or frames (logout endpoints, `jwks_uri`): absolute https (http
/// only to loopback) without a fragment. Returns its origin.
pub fn check_web_uri(uri: &str) -> Result<String, String> {
    let url = Url::parse(uri).map_err(|_| format!("{uri:?} is not an absolute URL"))?;
    let web = url.scheme() == "https" || (url.scheme() == "http" && is_loopback_host(&url));
    if !web {
        return Err(format!(
            "{uri:?} must be https:// (http:// only for localhost/127.0.0.1)"
        ));
    }
    if url.fragment().is_some() {
        return Err(format!("{uri:?} must not contain a fragment"));
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_rfc_9700() {
        assert!(check_redirect_uri("https://rp.example/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:8080/cb").is_ok());
        assert!(check_redirect_uri("http://localhost/cb").is_ok());
        assert!(check_redirect_uri("com.example.app:/cb").is_ok());
        assert!(check_redirect_uri("http://rp.example/cb").is_err());
        assert!(check_redirect_uri("https://rp.example/cb#x").is_err());
        assert!(check_redirect_uri("https://*.rp.example/cb").is_err());
        assert!(check_redirect_uri("/cb").is_err());
    }

    #[test]
    fn web_uris_are_https_or_loopback_http() {
        assert_eq!(
            check_web_uri("https://rp.example:8443/logout").unwrap(),
            "https://rp.example:8443"
        );
        assert!(check_web_uri("http://[::1]/x").is_ok());
        assert!(check_web_uri("http://rp.example/x").is_err());
        assert!(check_web_uri("com.example.app:/x").is_err());
        assert!(check_web_uri("https://rp.example/x#f").is_err());
    }
}
