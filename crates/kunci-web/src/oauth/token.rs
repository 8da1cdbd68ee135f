//! `/token` (RFC 6749 §3.2): parse the form and the client's credentials, call the core,
//! answer JSON with `Cache-Control: no-store`. The form and credential parsing here is shared
//! with `/introspect` and `/revoke`, which authenticate clients the same way.

use crate::error::JsonError;
use crate::headers::{CORS_ALLOW_ORIGIN, CORS_EXPOSE_HEADERS};
use crate::oauth::form_pairs;
use crate::state::AppState;
use actix_web::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kunci_core::OAuthError;
use kunci_core::client::PresentedCredentials;
use kunci_core::client_assertion::{JWT_BEARER, unverified_subject};
use kunci_core::flow::TokenRequest;
use kunci_core::secret::Secret;
use std::collections::HashMap;

pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, JsonError> {
    let ClientForm {
        credentials,
        mut form,
    } = client_form(&req, &body)?;
    let request = TokenRequest {
        credentials,
        grant_type: form.remove("grant_type"),
        code: form.remove("code"),
        redirect_uri: form.remove("redirect_uri"),
        code_verifier: form.remove("code_verifier"),
        refresh_token: form.remove("refresh_token"),
        scope: form.remove("scope"),
        resource: form.remove("resource"),
        dpop: crate::oauth::dpop::proof(&req)?,
        subject_token: form.remove("subject_token"),
        subject_token_type: form.remove("subject_token_type"),
        actor_token: form.remove("actor_token"),
        actor_token_type: form.remove("actor_token_type"),
        requested_token_type: form.remove("requested_token_type"),
        audience: form.remove("audience"),
        device_code: form.remove("device_code"),
    };
    let response = state.provider.token(request, state.now()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((PRAGMA, "no-cache"))
        .insert_header(CORS_ALLOW_ORIGIN)
        .insert_header(CORS_EXPOSE_HEADERS)
        .json(response))
}

/// A form POST from a client: its parameters (each at most once) and its credentials.
/// Shared by `/token`, `/introspect` and `/revoke`.
pub(crate) struct ClientForm {
    pub credentials: Option<PresentedCredentials>,
    pub form: HashMap<String, String>,
}

/// Parses an `application/x-www-form-urlencoded` body and the client authentication.
pub(crate) fn client_form(req: &HttpRequest, body: &[u8]) -> Result<ClientForm, JsonError> {
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        )
        .into());
    }
    let mut form: HashMap<String, String> = HashMap::new();
    for (k, v) in form_pairs(body)? {
        if form.insert(k.clone(), v).is_some() {
            // RFC 8707 allows several resources; Kunci takes one (and says so precisely).
            if k == "resource" {
                return Err(OAuthError::invalid_target(
                    "only one resource per request is supported",
                )
                .into());
            }
            // RFC 8693 §2.1 allows several audiences; Kunci issues a token for one.
            if k == "audience" {
                return Err(OAuthError::invalid_target(
                    "only one audience per request is supported",
                )
                .into());
            }
            return Err(OAuthError::invalid_request(format!(
                "parameter {k} was given more than once"
            ))
            .into());
        }
    }
    let credentials = credentials(req, &mut form)?;
    Ok(ClientForm { credentials, form })
}

/// RFC 6749 §2.3: exactly one authentication method per request.
fn credentials(
    req: &HttpRequest,
    form: &mut HashMap<String, String>,
) -> Result<Option<PresentedCredentials>, JsonError> {
    let form_id = form.remove("client_id");
    let form_secret = form.remove("client_secret");
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let assertion_type = form.remove("client_assertion_type");
    let assertion = form.remove("client_assertion");
    if assertion_type.is_some() || assertion.is_some() {
        let basic =
            header.is_some_and(|h| h.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("basic ")));
        if form_secret.is_some() || basic {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            )
            .into());
        }
        return jwt_assertion(form_id, assertion_type, assertion).map(Some);
    }
    if let Some(h) = header.and_then(|h| {
        h.strip_prefix("Basic ")
            .or_else(|| h.strip_prefix("basic "))
    }) {
        if form_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            )
            .into());
        }
        let (client_id, secret) = parse_basic(h)
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
        if form_id.as_ref().is_some_and(|f| *f != client_id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the Authorization header",
            )
            .into());
        }
        return Ok(Some(PresentedCredentials::Basic {
            client_id,
            secret: Secret::new(secret),
        }));
    }
    Ok(match (form_id, form_secret) {
        (Some(client_id), Some(s)) => Some(PresentedCredentials::Post {
            client_id,
            secret: Secret::new(s),
        }),
        (Some(client_id), None) => Some(PresentedCredentials::None { client_id }),
        (None, _) => None,
    })
}

/// RFC 7521 §4.2 / RFC 7523 §2.2: `client_assertion_type` (the JWT bearer type) and
/// `client_assertion`. Without a `client_id` the assertion's `sub` names the client; the
/// core then checks that `iss` and `sub` are that client.
fn jwt_assertion(
    form_id: Option<String>,
    assertion_type: Option<String>,
    assertion: Option<String>,
) -> Result<PresentedCredentials, JsonError> {
    let (Some(kind), Some(assertion)) = (assertion_type, assertion) else {
        return Err(OAuthError::invalid_request(
            "client_assertion and client_assertion_type go together",
        )
        .into());
    };
    if kind != JWT_BEARER {
        return Err(OAuthError::invalid_client(format!(
            "client_assertion_type must be {JWT_BEARER}"
        ))
        .into());
    }
    let client_id = form_id
        .or_else(|| unverified_subject(&assertion))
        .ok_or_else(|| OAuthError::invalid_client("the client assertion names no client"))?;
    Ok(PresentedCredentials::Assertion {
        client_id,
        assertion: Secret::new(assertion),
    })
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before being joined with `:` and base64'd.
fn parse_basic(b64: &str) -> Option<(String, String)> {
    let raw = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
    let (id, secret) = raw.split_once(':')?;
    let decode = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()?
            .pop()
            .map(|(_, v)| v)
    };
    let id = decode(id)?;
    (!id.is_empty()).then_some(())?;
    Some((id, decode(secret)?))
}

#[cfg(test)]
mod tests {
    use super::parse_basic;

    #[test]
    fn basic_credentials_are_url_decoded() {
        // "my%3Aclient:s%2Bcret" base64
        let b64 = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "my%3Aclient:s%2Bcret",
        );
        assert_eq!(
            parse_basic(&b64),
            Some(("my:client".into(), "s+cret".into()))
        );
        assert_eq!(parse_basic("not base64!"), None);
    }
}
