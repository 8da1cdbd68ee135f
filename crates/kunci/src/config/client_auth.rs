//! A client's `token_endpoint_auth_method` and what it authenticates with, checked together:
//! a secret digest for `client_secret_basic`/`_post`; the plain secret (from `env:VAR`) for
//! `client_secret_jwt`, since HMAC cannot be done with a digest; a JWK Set (`jwks` inline, or
//! `jwks_uri`) for `private_key_jwt`; nothing for `none`. Clients of the other methods (not
//! `client_secret_jwt`) may register a JWK Set too, to sign request objects (RFC 9101).

use super::{ClientConfig, is_loopback_host, parse_secret};
use anyhow::{Context, bail};
use kunci_core::client::AuthMethod;
use kunci_core::client_assertion::AssertionKeys;
use kunci_core::foreign_jws::check_jwk_set;
use kunci_core::secret::Secret;

/// The method, the secret's digest (if the method uses one) and the assertion keys.
pub(super) struct ClientAuth {
    pub method: AuthMethod,
    pub secret_sha256: Option<[u8; 32]>,
    pub assertion_keys: Option<AssertionKeys>,
}

impl ClientConfig {
    pub(super) fn client_auth(&self) -> anyhow::Result<ClientAuth> {
        let method = match self.token_endpoint_auth_method.as_str() {
            "client_secret_basic" => AuthMethod::ClientSecretBasic,
            "client_secret_post" => AuthMethod::ClientSecretPost,
            "client_secret_jwt" => AuthMethod::ClientSecretJwt,
            "private_key_jwt" => AuthMethod::PrivateKeyJwt,
            "none" => AuthMethod::None,
            other => bail!(
                "token_endpoint_auth_method: {other:?} is not one of client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, none"
            ),
        };
        let has_keys = self.jwks.is_some() || self.jwks_uri.is_some();
        if method == AuthMethod::ClientSecretJwt && has_keys {
            bail!(
                "jwks: a client_secret_jwt client authenticates with its secret; remove jwks/jwks_uri or use private_key_jwt"
            );
        }
        // Other clients may register keys to sign request objects (RFC 9101).
        let public_keys = if has_keys && method != AuthMethod::PrivateKeyJwt {
            Some(self.jwks_keys()?)
        } else {
            None
        };
        let (secret_sha256, assertion_keys) = match (&self.secret, method) {
            (Some(_), AuthMethod::None) => bail!(
                "secret: a public client (token_endpoint_auth_method = \"none\") must not have a secret"
            ),
            (None, AuthMethod::None) => (None, public_keys),
            (Some(_), AuthMethod::PrivateKeyJwt) => bail!(
                "secret: a private_key_jwt client authenticates with its keys (jwks or jwks_uri); remove the secret"
            ),
            (None, AuthMethod::PrivateKeyJwt) => (None, Some(self.jwks_keys()?)),
            (Some(s), AuthMethod::ClientSecretJwt) => {
                let plain = plain_secret(s)?;
                let digest = kunci_core::secret::sha256(&plain);
                (
                    Some(digest),
                    Some(AssertionKeys::SharedSecret(Secret::new(plain))),
                )
            }
            (None, _) => bail!(
                "secret: a confidential client needs secret = \"sha256:…\" (see `kunci client hash-secret`) or \"env:VAR\""
            ),
            (Some(s), _) => (Some(parse_secret(s)?), public_keys),
        };
        Ok(ClientAuth {
            method,
            secret_sha256,
            assertion_keys,
        })
    }

    /// Exactly one of `jwks` (a JWK Set as JSON text) and `jwks_uri` (https, or http to
    /// loopback; fetched when needed and cached).
    fn jwks_keys(&self) -> anyhow::Result<AssertionKeys> {
        match (&self.jwks, &self.jwks_uri) {
            (Some(_), Some(_)) => bail!("jwks: give either jwks or jwks_uri, not both"),
            (None, None) => bail!(
                "jwks: a private_key_jwt client needs its public keys: jwks = '{{\"keys\": [...]}}' or jwks_uri = \"https://…\""
            ),
            (Some(text), None) => {
                let set: serde_json::Value =
                    serde_json::from_str(text).context("jwks: is not valid JSON")?;
                let keys = check_jwk_set(&set).map_err(|e| anyhow::anyhow!("jwks: {e}"))?;
                Ok(AssertionKeys::Jwks(keys))
            }
            (None, Some(uri)) => {
                let url = url::Url::parse(uri)
                    .with_context(|| format!("jwks_uri: {uri:?} is not an absolute URL"))?;
                let web =
                    url.scheme() == "https" || (url.scheme() == "http" && is_loopback_host(&url));
                if !web || url.fragment().is_some() {
                    bail!(
                        "jwks_uri: {uri:?} must be https:// (http:// only for localhost/127.0.0.1) without a fragment"
                    );
                }
                Ok(AssertionKeys::JwksUri(uri.clone()))
            }
        }
    }
}

/// `client_secret_jwt` signs with the secret itself, so only `env:VAR` works.
fn plain_secret(s: &str) -> anyhow::Result<Vec<u8>> {
    let Some(var) = s.strip_prefix("env:") else {
        bail!(
            "secret: client_secret_jwt needs the plain secret for HMAC; a sha256: digest cannot do that. Use secret = \"env:VAR\""
        );
    };
    // Same rules (set, at least 32 characters) as for the other methods.
    parse_secret(s)?;
    let value = std::env::var(var)
        .with_context(|| format!("secret: environment variable {var} is not set"))?;
    Ok(value.into_bytes())
}
