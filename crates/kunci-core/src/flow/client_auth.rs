//! Client authentication for `/token`, `/introspect` and `/revoke` (RFC 6749 §2.3, OIDC Core
//! §9): secrets and public clients through `client::authenticate`, JWT assertions
//! (RFC 7523) here, in order: the client and its method → the algorithm for that method →
//! the signature with the client's keys → the claims → `jti` used once.
//!
//! Every failure is `invalid_client` (RFC 7521 §4.2.1); an unreachable `jwks_uri` too, since
//! the client's keys are the client's responsibility (the detail goes to the log).

use super::Provider;
use crate::client::{AuthMethod, Client, PresentedCredentials, authenticate};
use crate::client_assertion::{
    AssertionKeys, CLIENT_SECRET_JWT_ALGS, CLOCK_SKEW_SECS, PRIVATE_KEY_JWT_ALGS, check_claims,
};
use crate::clock::UnixTime;
use crate::error::OAuthError;
use crate::foreign_jws::{ForeignJwsError, UnverifiedJws};
use crate::secret::sha256_hex;
use std::sync::Arc;

impl Provider {
    /// Authenticates the client by whichever method it presented; the method must be the one
    /// registered for it.
    pub async fn authenticate_client(
        &self,
        presented: &PresentedCredentials,
        now: UnixTime,
    ) -> Result<Arc<Client>, OAuthError> {
        match presented {
            PresentedCredentials::Assertion {
                client_id,
                assertion,
            } => {
                self.authenticate_assertion(client_id, assertion.expose(), now)
                    .await
            }
            _ => {
                let clients = self.load_clients(&[Some(presented.client_id())]).await?;
                authenticate(&clients, presented)
            }
        }
    }

    async fn authenticate_assertion(
        &self,
        client_id: &str,
        assertion: &str,
        now: UnixTime,
    ) -> Result<Arc<Client>, OAuthError> {
        let fail = |why: &'static str| OAuthError::invalid_client(why);
        let client = self
            .client(client_id)
            .await?
            .ok_or_else(|| fail("client authentication failed"))?;
        let fapi2 = self.settings.is_fapi2(&client.id);
        let algs = match client.auth_method {
            AuthMethod::PrivateKeyJwt if fapi2 => &crate::fapi2::ALGS[..],
            AuthMethod::ClientSecretJwt => &CLIENT_SECRET_JWT_ALGS[..],
            AuthMethod::PrivateKeyJwt => &PRIVATE_KEY_JWT_ALGS[..],
            _ => return Err(fail("client authentication failed")),
        };
        let jws = UnverifiedJws::parse(assertion, algs).map_err(|e| fail(jws_message(e)))?;
        self.verify_with_client_keys(&client, &jws)
            .await
            .map_err(|e| fail(jws_message(e)))?;
        let issuer = self.settings.issuer.as_str();
        if fapi2 {
            crate::fapi2::check_assertion_audience(&jws.claims, issuer).map_err(fail)?;
        }
        let token_endpoint = format!("{issuer}/token");
        let checked =
            check_claims(&jws.claims, &client.id, &[&token_endpoint, issuer], now).map_err(fail)?;
        // OIDC Core §9 / RFC 7523 §3 item 7: a `jti` is used once; remembered until it expires.
        let key = format!(
            "jti:client:{}",
            sha256_hex(format!("{}\n{}", client.id, checked.jti).as_bytes())
        );
        let ttl = u64::try_from(checked.exp - now + CLOCK_SKEW_SECS).unwrap_or(1);
        if !self.ephemeral.put_if_absent(&key, b"1", ttl).await? {
            return Err(fail("the assertion's jti has been used before"));
        }
        Ok(client)
    }

    /// The signature, with the secret or the registered keys; a `jwks_uri` set is fetched
    /// again (at most as often as the fetcher allows) when no key matched, for rotation.
    /// Also used for request objects (`request_object.rs`).
    pub(super) async fn verify_with_client_keys(
        &self,
        client: &Client,
        jws: &UnverifiedJws,
    ) -> Result<(), ForeignJwsError> {
        match &client.assertion_keys {
            Some(AssertionKeys::SharedSecret(secret)) => jws.verify_hmac(secret.expose()),
            Some(AssertionKeys::Jwks(keys)) => jws.verify_jwks(keys),
            Some(AssertionKeys::JwksUri(uri)) => {
                let keys = self.jwks_fetcher.keys(uri, false).await.map_err(|e| {
                    tracing::warn!(client = %client.id, error = %e, "cannot fetch the client's jwks_uri");
                    ForeignJwsError::NoKey
                })?;
                match jws.verify_jwks(&keys) {
                    Err(ForeignJwsError::NoKey) => match self.jwks_fetcher.keys(uri, true).await {
                        Ok(fresh) => jws.verify_jwks(&fresh),
                        Err(_) => Err(ForeignJwsError::NoKey),
                    },
                    other => other,
                }
            }
            None => Err(ForeignJwsError::NoKey),
        }
    }
}

fn jws_message(e: ForeignJwsError) -> &'static str {
    match e {
        ForeignJwsError::Malformed => "the client assertion is malformed",
        ForeignJwsError::AlgNotAllowed => {
            "the client assertion's alg is not allowed for this client's authentication method"
        }
        ForeignJwsError::NoKey => "no registered key of the client matches the assertion",
        ForeignJwsError::BadSignature => "the client assertion's signature is invalid",
    }
}
