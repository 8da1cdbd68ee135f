//! A client's `profile`: a named set of rules it is held to. One exists, `fapi2`, the FAPI 2.0
//! Security Profile (final) without mutual TLS: confidential client with `private_key_jwt`
//! (§5.3.2.1), sender-constrained tokens by DPoP (§5.3.2.1), pushed authorization requests and
//! PKCE S256 only (§5.3.2.2), https redirect URIs (§5.3.2.2), and PS256, ES256 or EdDSA
//! signatures (§5.4.1). What Kunci does for every client already covers the rest: codes live
//! 60 s and are single-use, `iss` is in every authorization response, `request_uri`s are
//! single-use. `private_key_jwt` assertions must name only the issuer, as a string, as audience
//! (§5.3.2.1), and what the client signs (assertions, request objects, DPoP proofs) is never
//! RS256 (§5.4.1): the core checks both (`kunci_core::fapi2`).
//!
//! Settings the profile implies are switched on (`require_pushed_authorization_requests`,
//! `require_pkce`, `dpop_bound_access_tokens`) or off (`refresh_token_rotation`, §5.3.2.1:
//! refresh tokens are not rotated, being bound to the client's authentication); settings it
//! forbids are errors naming the key.

use super::ClientConfig;
use anyhow::bail;
use kunci_core::client::{AuthMethod, Client};
use kunci_core::jose::Alg;

impl ClientConfig {
    pub(super) fn apply_profile(&self, mut client: Client) -> anyhow::Result<Client> {
        match self.profile.as_deref() {
            None => Ok(client),
            Some("fapi2") => {
                check_fapi2(&client)?;
                client.require_par = true;
                client.require_pkce = true;
                client.dpop_bound_access_tokens = true;
                // §5.3.2.1: no refresh token rotation; the tokens are sender-constrained.
                client.refresh.rotate = false;
                Ok(client)
            }
            Some(other) => bail!("profile: {other:?} is not a known profile (known: \"fapi2\")"),
        }
    }
}

fn check_fapi2(client: &Client) -> anyhow::Result<()> {
    if client.auth_method != AuthMethod::PrivateKeyJwt {
        bail!(
            "token_endpoint_auth_method: profile \"fapi2\" needs \"private_key_jwt\" (FAPI 2.0 §5.3.2.1: confidential clients, no shared secrets)"
        );
    }
    if !matches!(client.id_token_alg, Alg::PS256 | Alg::ES256 | Alg::EdDSA) {
        bail!(
            "id_token_signed_response_alg: profile \"fapi2\" needs PS256, ES256 or EdDSA (FAPI 2.0 §5.4.1)"
        );
    }
    if let Some(uri) = client
        .redirect_uris
        .iter()
        .find(|u| !u.starts_with("https://"))
    {
        bail!(
            "redirect_uris: profile \"fapi2\" needs https redirect URIs (FAPI 2.0 §5.3.2.2); {uri:?} is not"
        );
    }
    Ok(())
}
