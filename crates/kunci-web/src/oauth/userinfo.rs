//! `/userinfo` (OIDC Core §5.3): the access token in the Authorization header, as a Bearer
//! token (RFC 6750 §2.1) or, when it is bound to a DPoP key, with the DPoP scheme and a proof
//! (RFC 9449 §7.1). Errors carry the challenge of the scheme used.

use crate::error::{JsonError, dpop_algs_param};
use crate::headers::{CORS_ALLOW_ORIGIN, CORS_EXPOSE_HEADERS};
use crate::state::AppState;
use actix_web::http::header::{AUTHORIZATION, CACHE_CONTROL, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, web};
use kunci_core::OAuthError;
use kunci_core::flow::TokenScheme;

pub async fn handle(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, JsonError> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(header) = header else {
        // RFC 6750 §3.1, RFC 9449 §7.2: a request without authentication gets no error code,
        // and a challenge for each scheme.
        return Ok(HttpResponse::Unauthorized()
            .insert_header((WWW_AUTHENTICATE, r#"Bearer realm="kunci""#))
            .append_header((
                WWW_AUTHENTICATE,
                format!(r#"DPoP realm="kunci", {}"#, dpop_algs_param()),
            ))
            .insert_header(CORS_ALLOW_ORIGIN)
            .insert_header(CORS_EXPOSE_HEADERS)
            .finish());
    };
    let (scheme, token, wrap): (_, _, fn(OAuthError) -> JsonError) =
        if let Some(t) = strip_scheme(header, "Bearer ") {
            (TokenScheme::Bearer, t, JsonError::bearer)
        } else if let Some(t) = strip_scheme(header, "DPoP ") {
            let proof = crate::oauth::dpop::proof(&req).map_err(JsonError::dpop)?;
            (TokenScheme::Dpop(proof), t, JsonError::dpop)
        } else {
            return Err(JsonError::bearer(OAuthError::invalid_request(
                "use the Bearer or DPoP authentication scheme",
            )));
        };
    let claims = state
        .provider
        .userinfo(token.trim(), &scheme, state.now())
        .await
        .map_err(wrap)?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header(CORS_ALLOW_ORIGIN)
        .insert_header(CORS_EXPOSE_HEADERS)
        .json(claims))
}

/// The credentials after an authentication scheme, whose name is case-insensitive (RFC 9110
/// §11.1).
fn strip_scheme<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let head = header.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| &header[scheme.len()..])
}
