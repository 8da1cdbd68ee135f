//! The registration metadata checks (RFC 7591 §2, OIDC Registration §2), one small function
//! per rule, run in the order of `RequestedMetadata::validate`. Errors are
//! `invalid_redirect_uri` for redirect URIs and `invalid_client_metadata` for the rest
//! (RFC 7591 §3.2.2).

use super::{RegistrationPolicy, RequestedMetadata};
use crate::client::{AuthMethod, GrantType};
use crate::error::{ErrorCode, OAuthError};
use crate::foreign_jws::check_jwk_set;
use crate::jose::Alg;
use crate::uri_rules::{check_redirect_uri, check_web_uri};
use serde_json::Value;

pub(super) fn metadata_error(d: impl Into<std::borrow::Cow<'static, str>>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClientMetadata, d)
}

fn redirect_error(d: impl Into<std::borrow::Cow<'static, str>>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRedirectUri, d)
}

/// The limits of what a client may write into free-text and list fields, so that one
/// registration cannot make every lookup of it expensive.
const MAX_NAME_CHARS: usize = 200;
const MAX_URI_CHARS: usize = 2000;
const MAX_LIST: usize = 20;
/// An inline JWK Set is read on every lookup of the client: a few keys, not a directory.
const MAX_JWKS_BYTES: usize = 16 * 1024;

/// RFC 7591 §2 and §2.1: `grant_types` (default `authorization_code`) among the policy's,
/// `response_types` (default `code` with that grant, none without) consistent with them.
/// `refresh_token` needs `authorization_code`, as for configured clients.
pub(super) fn check_grants(
    m: &RequestedMetadata,
    policy: &RegistrationPolicy,
) -> Result<(Vec<GrantType>, Vec<String>), OAuthError> {
    let mut grants = Vec::new();
    let requested = m
        .grant_types
        .clone()
        .unwrap_or_else(|| vec!["authorization_code".into()]);
    // An explicit empty list would register a client that can do nothing, yet holds a secret.
    if requested.is_empty() {
        return Err(metadata_error(
            "grant_types must name at least one grant (omit it for authorization_code)",
        ));
    }
    for g in &requested {
        let grant = GrantType::parse(g)
            .filter(|g| policy.grant_types.contains(g))
            .ok_or_else(|| {
                metadata_error(format!("the grant type {g:?} may not be registered here"))
            })?;
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    let code = grants.contains(&GrantType::AuthorizationCode);
    if grants.contains(&GrantType::RefreshToken) && !code {
        return Err(metadata_error(
            "refresh_token comes with the authorization_code grant; register both",
        ));
    }
    let response_types = match &m.response_types {
        None if code => vec!["code".to_owned()],
        None => Vec::new(),
        Some(list) => {
            if list.iter().any(|r| r != "code") {
                return Err(metadata_error(
                    "only the response type \"code\" is supported",
                ));
            }
            if list.is_empty() == code {
                return Err(metadata_error(
                    "response_types [\"code\"] and the authorization_code grant go together (RFC 7591 §2.1)",
                ));
            }
            list.iter().take(1).cloned().collect()
        }
    };
    Ok((grants, response_types))
}

/// RFC 7591 §2 `token_endpoint_auth_method` (default `client_secret_basic`): the methods
/// whose credentials Kunci can check with what it stores.
pub(super) fn check_auth_method(
    m: &RequestedMetadata,
    policy: &RegistrationPolicy,
    grants: &[GrantType],
) -> Result<AuthMethod, OAuthError> {
    let method = match m
        .token_endpoint_auth_method
        .as_deref()
        .unwrap_or("client_secret_basic")
    {
        "client_secret_basic" => AuthMethod::ClientSecretBasic,
        "client_secret_post" => AuthMethod::ClientSecretPost,
        "private_key_jwt" => AuthMethod::PrivateKeyJwt,
        "none" if policy.allow_public_clients => AuthMethod::None,
        "none" => {
            return Err(metadata_error(
                "public clients (token_endpoint_auth_method \"none\") may not register here",
            ));
        }
        other => {
            return Err(metadata_error(format!(
                "token_endpoint_auth_method {other:?} is not supported for registered clients (client_secret_basic, client_secret_post, private_key_jwt, none)"
            )));
        }
    };
    if method == AuthMethod::None && grants.contains(&GrantType::ClientCredentials) {
        return Err(metadata_error(
            "client_credentials is for confidential clients only (RFC 6749 §4.4)",
        ));
    }
    Ok(method)
}

/// RFC 7591 §2 `jwks` / `jwks_uri`: never both; one of them for `private_key_jwt`. Other
/// clients may register keys too, to sign request objects (RFC 9101).
pub(super) fn check_keys(
    m: &RequestedMetadata,
    method: AuthMethod,
) -> Result<(Option<Value>, Option<String>), OAuthError> {
    match (&m.jwks, &m.jwks_uri) {
        (Some(_), Some(_)) => Err(metadata_error(
            "jwks and jwks_uri must not both be present (RFC 7591 §2)",
        )),
        (None, None) if method == AuthMethod::PrivateKeyJwt => Err(metadata_error(
            "private_key_jwt needs the client's public keys in jwks or jwks_uri",
        )),
        (Some(set), None) => {
            if set.to_string().len() > MAX_JWKS_BYTES {
                return Err(metadata_error(format!(
                    "jwks is larger than {MAX_JWKS_BYTES} bytes; publish it at a jwks_uri instead"
                )));
            }
            check_jwk_set(set).map_err(|e| metadata_error(format!("jwks: {e}")))?;
            Ok((Some(set.clone()), None))
        }
        (None, Some(uri)) => {
            check_length(uri)?;
            check_web_uri(uri).map_err(|e| metadata_error(format!("jwks_uri: {e}")))?;
            check_public_host(uri).map_err(|e| metadata_error(format!("jwks_uri: {e}")))?;
            Ok((None, Some(uri.clone())))
        }
        (None, None) => Ok((None, None)),
    }
}

/// RFC 7591 §2 `redirect_uris`, required for the code grant (OIDC Registration §2), each
/// under the rules of configured clients (RFC 9700 §2.1) and, since anyone holding an
/// initial access token may register, only https or http to loopback: a private-use scheme
/// proves nothing about which app receives the code (RFC 8252 §8.6).
pub(super) fn check_redirect_uris(
    m: &RequestedMetadata,
    policy: &RegistrationPolicy,
    grants: &[GrantType],
) -> Result<Vec<String>, OAuthError> {
    let uris = m.redirect_uris.clone().unwrap_or_default();
    if uris.is_empty() && grants.contains(&GrantType::AuthorizationCode) {
        return Err(redirect_error(
            "redirect_uris is required for the authorization_code grant",
        ));
    }
    if uris.len() > policy.max_redirect_uris {
        return Err(redirect_error(format!(
            "at most {} redirect_uris may be registered",
            policy.max_redirect_uris
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for uri in uris {
        if uri.len() > MAX_URI_CHARS {
            return Err(redirect_error("a redirect URI is too long"));
        }
        check_redirect_uri(&uri)
            .and_then(|()| check_web_uri(&uri).map(|_| ()))
            .map_err(|e| redirect_error(format!("redirect_uris: {e}")))?;
        if !out.contains(&uri) {
            out.push(uri);
        }
    }
    Ok(out)
}

/// RFC 7591 §2 `scope`: names the policy allows (default: all of them); `offline_access`
/// only with, and always with, the `refresh_token` grant.
pub(super) fn check_scope(
    m: &RequestedMetadata,
    policy: &RegistrationPolicy,
    grants: &[GrantType],
) -> Result<String, OAuthError> {
    let refresh = grants.contains(&GrantType::RefreshToken);
    let mut scopes = match &m.scope {
        Some(raw) => crate::scope::parse(raw)
            .ok_or_else(|| metadata_error("scope contains a character not allowed in scopes"))?,
        None => policy
            .scopes
            .iter()
            .filter(|s| *s != "offline_access")
            .cloned()
            .collect(),
    };
    for s in &scopes {
        if s == "offline_access" {
            if !refresh {
                return Err(metadata_error(
                    "the offline_access scope needs the refresh_token grant",
                ));
            }
        } else if !policy.scopes.contains(s) {
            return Err(metadata_error(format!(
                "the scope {s:?} may not be registered here"
            )));
        }
    }
    if refresh && !scopes.iter().any(|s| s == "offline_access") {
        scopes.push("offline_access".into());
    }
    Ok(crate::scope::join(&scopes))
}

/// OIDC Registration §2 `id_token_signed_response_alg` (default RS256): one this provider
/// signs with; never `none`.
pub(super) fn check_id_token_alg(m: &RequestedMetadata, algs: &[Alg]) -> Result<Alg, OAuthError> {
    let name = m.id_token_signed_response_alg.as_deref().unwrap_or("RS256");
    Alg::parse(name)
        .filter(|a| algs.contains(a))
        .ok_or_else(|| {
            metadata_error(format!(
                "id_token_signed_response_alg {name:?} is not one this server signs with"
            ))
        })
}

/// OIDC Registration §2 `subject_type`: `public` only (pairwise needs a sector the operator
/// vouches for, so it stays with configured clients).
pub(super) fn check_subject_type(m: &RequestedMetadata) -> Result<(), OAuthError> {
    match m.subject_type.as_deref() {
        None | Some("public") => Ok(()),
        Some(other) => Err(metadata_error(format!(
            "subject_type {other:?} is not available for registered clients; use \"public\""
        ))),
    }
}

/// RP-Initiated Logout §3.1: like redirect URIs.
pub(super) fn check_post_logout_redirect_uris(
    m: &RequestedMetadata,
) -> Result<Vec<String>, OAuthError> {
    let uris = m.post_logout_redirect_uris.clone().unwrap_or_default();
    if uris.len() > MAX_LIST {
        return Err(metadata_error(format!(
            "at most {MAX_LIST} post_logout_redirect_uris may be registered"
        )));
    }
    for uri in &uris {
        check_length(uri)?;
        check_redirect_uri(uri)
            .and_then(|()| check_web_uri(uri).map(|_| ()))
            .map_err(|e| metadata_error(format!("post_logout_redirect_uris: {e}")))?;
    }
    Ok(uris)
}

/// Back-Channel Logout §2.2: absolute https (http to loopback), no fragment.
pub(super) fn check_backchannel_logout_uri(m: &RequestedMetadata) -> Result<(), OAuthError> {
    if let Some(uri) = &m.backchannel_logout_uri {
        check_length(uri)?;
        check_web_uri(uri).map_err(|e| metadata_error(format!("backchannel_logout_uri: {e}")))?;
        check_public_host(uri)
            .map_err(|e| metadata_error(format!("backchannel_logout_uri: {e}")))?;
    }
    Ok(())
}

/// A URI Kunci itself requests (`jwks_uri`, `backchannel_logout_uri`) for a registered
/// client: https to a name or a public address. Configured clients may use loopback or
/// internal hosts (the operator vouches for them); a registrant must not aim Kunci's requests
/// at Kunci's own host, the cloud metadata service or the private network (SSRF). A name that
/// resolves to such an address is not caught here.
fn check_public_host(uri: &str) -> Result<(), String> {
    let url = url::Url::parse(uri).map_err(|_| format!("{uri:?} is not an absolute URL"))?;
    let internal = match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => is_internal_v4(ip),
        Some(url::Host::Ipv6(ip)) => match ip.to_ipv4_mapped() {
            Some(v4) => is_internal_v4(v4),
            None => {
                ip.is_loopback()
                    || ip.is_unspecified()
                    || ip.is_unique_local()
                    || ip.is_unicast_link_local()
                    || ip.is_multicast()
            }
        },
        None => true,
    };
    if url.scheme() != "https" || internal {
        return Err(format!(
            "{uri:?} must be https:// to a public host (not loopback, private or link-local)"
        ));
    }
    Ok(())
}

fn is_internal_v4(ip: std::net::Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        // RFC 6598 shared address space (carrier-grade NAT, some cloud internals).
        || (a == 100 && (64..128).contains(&b))
}

/// RFC 7591 §2 `client_name`, shown on the consent and device pages: bounded, no control
/// characters, and none of the invisible ones (zero-width, bidirectional overrides) that would
/// let a name look like another app's on those pages.
pub(super) fn check_client_name(m: &RequestedMetadata) -> Result<Option<String>, OAuthError> {
    match m.client_name.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(name)
            if name.chars().count() > MAX_NAME_CHARS
                || name.chars().any(|c| c.is_control() || is_invisible(c)) =>
        {
            Err(metadata_error(format!(
                "client_name must be at most {MAX_NAME_CHARS} characters without control characters"
            )))
        }
        Some(name) => Ok(Some(name.to_owned())),
    }
}

/// Unicode format characters that change how text reads without being seen: soft hyphen,
/// Arabic letter mark, Mongolian vowel separator, zero-width and directional marks,
/// bidirectional embeddings, overrides and isolates, invisible operators, byte order mark.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
    )
}

fn check_length(uri: &str) -> Result<(), OAuthError> {
    if uri.len() > MAX_URI_CHARS {
        return Err(metadata_error("a URI in the metadata is too long"));
    }
    Ok(())
}
