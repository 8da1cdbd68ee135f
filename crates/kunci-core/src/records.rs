//! Typed access to the ephemeral store: which record lives under which key, for how long,
//! and how it is encoded.
//!
//! Every value is JSON in an envelope `{"v": N, "d": …}`. Rolling upgrades: a new field is added
//! with `#[serde(default)]` and keeps `v`; a breaking change bumps `v`, and readers keep
//! accepting the previous version until no live record can still hold it (max TTL).

use crate::claims::AccessTokenClaims;
use crate::code::CodeGrant;
use crate::error::PortError;
use crate::interaction::Interaction;
use crate::ports::EphemeralStore;
use crate::secret::token_key;
use crate::sso::SsoSession;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    v: u32,
    d: T,
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(&Envelope {
        v: VERSION,
        d: value,
    })
    .unwrap_or_default()
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, PortError> {
    let env: Envelope<T> = serde_json::from_slice(bytes)
        .map_err(|e| PortError::Corrupt(format!("ephemeral record: {e}")))?;
    if env.v != VERSION {
        return Err(PortError::Corrupt(format!(
            "ephemeral record version {}",
            env.v
        )));
    }
    Ok(env.d)
}

/// A marker left after a code is redeemed, naming the grant it started.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RedeemedCode {
    pub grant_id: String,
}

/// Typed operations over an [`EphemeralStore`]. Keys of secrets (codes, session ids) are
/// digests, so reading the store does not yield usable credentials.
pub struct Records<'a>(pub &'a dyn EphemeralStore);

impl Records<'_> {
    pub async fn put_interaction(&self, ix: &Interaction, ttl: u64) -> Result<(), PortError> {
        self.0
            .put(&format!("ix:{}", token_key(&ix.id)), &encode(ix), ttl)
            .await
    }
    pub async fn interaction(&self, id: &str) -> Result<Option<Interaction>, PortError> {
        self.get(&format!("ix:{}", token_key(id))).await
    }
    pub async fn delete_interaction(&self, id: &str) -> Result<(), PortError> {
        self.0.delete(&format!("ix:{}", token_key(id))).await
    }

    pub async fn put_session(&self, s: &SsoSession, ttl: u64) -> Result<(), PortError> {
        self.0
            .put(&format!("sess:{}", token_key(&s.id)), &encode(s), ttl)
            .await
    }
    pub async fn session(&self, id: &str) -> Result<Option<SsoSession>, PortError> {
        self.get(&format!("sess:{}", token_key(id))).await
    }
    pub async fn delete_session(&self, id: &str) -> Result<(), PortError> {
        self.0.delete(&format!("sess:{}", token_key(id))).await
    }

    pub async fn put_code(&self, code: &str, grant: &CodeGrant, ttl: u64) -> Result<(), PortError> {
        self.0
            .put(&format!("code:{}", token_key(code)), &encode(grant), ttl)
            .await
    }
    /// Takes the code atomically: of two racing redemptions, only one gets the grant.
    pub async fn take_code(&self, code: &str) -> Result<Option<CodeGrant>, PortError> {
        match self.0.take(&format!("code:{}", token_key(code))).await? {
            Some(b) => decode(&b).map(Some),
            None => Ok(None),
        }
    }
    pub async fn mark_code_redeemed(
        &self,
        code: &str,
        grant_id: &str,
        ttl: u64,
    ) -> Result<(), PortError> {
        let marker = RedeemedCode {
            grant_id: grant_id.to_owned(),
        };
        self.0
            .put(&format!("used:{}", token_key(code)), &encode(&marker), ttl)
            .await
    }
    pub async fn redeemed_code(&self, code: &str) -> Result<Option<RedeemedCode>, PortError> {
        self.get(&format!("used:{}", token_key(code))).await
    }

    /// An opaque access token: its claims under the token's digest, for the token's lifetime.
    pub async fn put_access_token(
        &self,
        token: &str,
        claims: &AccessTokenClaims,
        ttl: u64,
    ) -> Result<(), PortError> {
        self.0
            .put(&format!("at:{}", token_key(token)), &encode(claims), ttl)
            .await
    }
    pub async fn access_token(&self, token: &str) -> Result<Option<AccessTokenClaims>, PortError> {
        self.get(&format!("at:{}", token_key(token))).await
    }
    pub async fn delete_access_token(&self, token: &str) -> Result<(), PortError> {
        self.0.delete(&format!("at:{}", token_key(token))).await
    }

    /// Marks a grant revoked for `ttl` seconds, which must outlast every access token the
    /// grant has issued (the access token lifetime).
    pub async fn revoke_grant(&self, grant_id: &str, ttl: u64) -> Result<(), PortError> {
        self.0
            .put(&format!("revoked:{grant_id}"), &encode(&true), ttl)
            .await
    }
    pub async fn is_grant_revoked(&self, grant_id: &str) -> Result<bool, PortError> {
        Ok(self.0.get(&format!("revoked:{grant_id}")).await?.is_some())
    }

    async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, PortError> {
        match self.0.get(key).await? {
            Some(b) => decode(&b).map(Some),
            None => Ok(None),
        }
    }
}

/// What an email verification link proves: that the holder of `account_id`'s mailbox clicked it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmailVerification {
    pub account_id: String,
    /// The interaction to resume after verifying, if the user registered during one.
    pub interaction_id: Option<String>,
}

impl Records<'_> {
    pub async fn put_email_verification(
        &self,
        token: &str,
        v: &EmailVerification,
        ttl: u64,
    ) -> Result<(), PortError> {
        self.0
            .put(&format!("verify:{}", token_key(token)), &encode(v), ttl)
            .await
    }
    /// One use only: the link stops working once clicked.
    pub async fn take_email_verification(
        &self,
        token: &str,
    ) -> Result<Option<EmailVerification>, PortError> {
        match self.0.take(&format!("verify:{}", token_key(token))).await? {
            Some(b) => decode(&b).map(Some),
            None => Ok(None),
        }
    }
}

/// A pushed authorization request (RFC 9126): its client and the parameters it pushed, already
/// validated once; `/authorize` takes it once and validates them again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushedRequest {
    pub client_id: String,
    pub params: Vec<(String, String)>,
}

impl Records<'_> {
    /// Stored under the digest of the random part of the `request_uri`.
    pub async fn put_pushed_request(
        &self,
        id: &str,
        request: &PushedRequest,
        ttl: u64,
    ) -> Result<(), PortError> {
        self.0
            .put(&format!("par:{}", token_key(id)), &encode(request), ttl)
            .await
    }
    /// Takes it atomically: a `request_uri` is used once (RFC 9126 §4).
    pub async fn take_pushed_request(&self, id: &str) -> Result<Option<PushedRequest>, PortError> {
        match self.0.take(&format!("par:{}", token_key(id))).await? {
            Some(b) => decode(&b).map(Some),
            None => Ok(None),
        }
    }
}
