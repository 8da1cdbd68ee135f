//! DPoP at Kunci's own endpoints (RFC 9449): a proof is checked for the endpoint it was sent
//! to (`crate::dpop::check_proof`), then, in this order, the server nonce when the operator
//! requires one (§8, §9) and the single use of its `jti` (§11.1). What comes out is the key's
//! thumbprint (`jkt`), which the token endpoint binds tokens to and `/userinfo` compares with
//! the token's `cnf.jkt`.

use super::Provider;
use crate::clock::UnixTime;
use crate::dpop::{CheckedProof, DpopContext, DpopError, MAX_AGE_SECS, MAX_SKEW_SECS, check_proof};
use crate::error::{OAuthError, PortError};
use crate::secret::{random_token, sha256_hex, token_key};

/// How long a nonce Kunci hands out stays acceptable (RFC 9449 §8.2 leaves it to the server).
pub const DPOP_NONCE_TTL: u64 = 300;

/// The `DPoP` request header as received, and the method of the request it came with.
#[derive(Debug, Clone)]
pub struct PresentedProof {
    pub proof: String,
    pub method: String,
}

impl Provider {
    /// Checks `presented` for a request to `path` (the endpoint's path under the issuer, which
    /// is the URL clients reach Kunci by) and returns the key's thumbprint. With
    /// `access_token`, the proof must cover it (`ath`, §4.3 item 12). `client_id` is the client
    /// sending the proof (at a resource, the token's client), for FAPI 2.0's algorithms.
    pub async fn check_dpop(
        &self,
        presented: &PresentedProof,
        client_id: &str,
        path: &str,
        access_token: Option<&str>,
        now: UnixTime,
    ) -> Result<String, OAuthError> {
        let url = format!("{}{path}", self.settings.issuer);
        let ctx = DpopContext {
            method: &presented.method,
            url: &url,
            access_token,
        };
        let checked = check_proof(&presented.proof, ctx, now).map_err(|e| match e {
            DpopError::Invalid(why) => OAuthError::invalid_dpop_proof(why),
        })?;
        // FAPI 2.0 §5.4.1: a fapi2 client's proofs are not RS256.
        if self.settings.is_fapi2(client_id) && !crate::fapi2::ALGS.contains(&checked.alg) {
            return Err(OAuthError::invalid_dpop_proof(
                "this client's DPoP proofs must be signed with PS256, ES256 or EdDSA (FAPI 2.0)",
            ));
        }
        self.check_dpop_nonce(&checked).await?;
        self.check_dpop_jti_once(&checked).await?;
        Ok(checked.jkt)
    }

    /// §8, §9: when the operator requires nonces, a proof must carry one Kunci handed out in
    /// the last [`DPOP_NONCE_TTL`] seconds; otherwise the client is given a fresh one.
    async fn check_dpop_nonce(&self, checked: &CheckedProof) -> Result<(), OAuthError> {
        if !self.settings.dpop_require_nonce {
            return Ok(());
        }
        if let Some(nonce) = &checked.nonce {
            let key = format!("dpop:nonce:{}", token_key(nonce));
            if self.ephemeral.get(&key).await?.is_some() {
                return Ok(());
            }
        }
        Err(OAuthError::use_dpop_nonce(self.new_dpop_nonce().await?))
    }

    /// A fresh server nonce, valid on every node (it lives in the ephemeral store).
    pub async fn new_dpop_nonce(&self) -> Result<String, PortError> {
        let nonce = random_token();
        let key = format!("dpop:nonce:{}", token_key(&nonce));
        self.ephemeral.put(&key, b"1", DPOP_NONCE_TTL).await?;
        Ok(nonce)
    }

    /// §11.1: a proof is used once. Its `jti` is remembered, per key, for as long as its `iat`
    /// keeps it acceptable.
    async fn check_dpop_jti_once(&self, checked: &CheckedProof) -> Result<(), OAuthError> {
        let key = format!(
            "jti:dpop:{}",
            sha256_hex(format!("{}\n{}", checked.jkt, checked.jti).as_bytes())
        );
        let ttl = (MAX_AGE_SECS + MAX_SKEW_SECS) as u64;
        if !self.ephemeral.put_if_absent(&key, b"1", ttl).await? {
            return Err(OAuthError::invalid_dpop_proof(
                "the DPoP proof has been used before",
            ));
        }
        Ok(())
    }
}
