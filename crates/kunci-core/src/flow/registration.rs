//! Dynamic client registration (RFC 7591 §3) and management (RFC 7592 §2), and the one
//! client lookup every endpoint uses: configured clients first, then registered ones.
//!
//! Registered clients live in the durable store and are read from it on every lookup (no
//! cache): an update or a deletion holds on every node at once. Configured ids always win;
//! registered ids are random, so they never meet one. With registration disabled the store is
//! never asked, and registered clients do not work (their rows stay).
//!
//! Secrets and registration access tokens are issued once and stored as digests only, so the
//! read and update responses cannot repeat a secret; they repeat the registration access
//! token the request presented.

use super::Provider;
use crate::client::{Client, ClientRegistry, LoadedClients};
use crate::clock::UnixTime;
use crate::error::{OAuthError, PortError};
use crate::ports::RegisteredClient;
use crate::registration::{
    ClientMetadata, RegistrationPolicy, RequestedMetadata, representative_clients,
};
use crate::secret::{constant_time_eq, random_token, sha256_hex, token_key};
use serde_json::{Value, json};
use std::sync::Arc;

/// The client information response (RFC 7591 §3.2.1, RFC 7592 §3): a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientInformation(pub Value);

/// RFC 7592 §2: a wrong registration access token and an unknown client look the same.
fn bad_registration_token() -> OAuthError {
    OAuthError::invalid_token("the registration access token is not valid for this client")
}

impl Provider {
    /// The client `id` names: a configured one, else (registration enabled) a registered one.
    pub async fn client(&self, id: &str) -> Result<Option<Arc<Client>>, PortError> {
        if let Some(c) = self.clients.get(id) {
            return Ok(Some(c));
        }
        if self.settings.registration.is_none() || !could_be_registered(id) {
            return Ok(None);
        }
        let Some(row) = self.durable.find_registered_client(id).await? else {
            return Ok(None);
        };
        registered_client(&row).map(|c| Some(Arc::new(c)))
    }

    /// The clients these ids name, for the synchronous checks (`crate::client::ClientLookup`).
    pub(crate) async fn load_clients(
        &self,
        ids: &[Option<&str>],
    ) -> Result<LoadedClients, PortError> {
        let mut loaded = Vec::new();
        for id in ids.iter().flatten() {
            if let Some(c) = self.client(id).await? {
                loaded.push(c);
            }
        }
        Ok(LoadedClients(loaded))
    }

    /// The configured clients plus, with registration enabled, one standing for each kind a
    /// client may register: what discovery describes.
    pub(super) fn advertised_clients(&self) -> std::borrow::Cow<'_, ClientRegistry> {
        match &self.settings.registration {
            None => std::borrow::Cow::Borrowed(&self.clients),
            Some(policy) => std::borrow::Cow::Owned(ClientRegistry::new(
                self.clients
                    .all()
                    .map(|c| (**c).clone())
                    .chain(representative_clients(policy)),
            )),
        }
    }

    /// RFC 7591 §3.1: registers a client; `initial_token` is the bearer token presented.
    pub async fn register_client(
        &self,
        initial_token: Option<&str>,
        body: &[u8],
        now: UnixTime,
    ) -> Result<ClientInformation, OAuthError> {
        let policy = self.registration_policy()?;
        if !initial_token.is_some_and(|t| policy.accepts_initial_access_token(t)) {
            return Err(OAuthError::invalid_token(
                "a valid initial access token is required to register a client",
            ));
        }
        let metadata =
            RequestedMetadata::parse(body)?.validate(policy, &self.keys.current().algs())?;
        let client_id = random_token();
        let secret = metadata.needs_secret().then(random_token);
        let registration_token = random_token();
        let row = RegisteredClient {
            client_id: client_id.clone(),
            metadata: serde_json::to_string(&metadata).map_err(|_| OAuthError::server_error())?,
            secret_sha256: secret.as_deref().map(|s| sha256_hex(s.as_bytes())),
            registration_token_hash: token_key(&registration_token),
            issued_at: now,
            updated_at: now,
        };
        self.durable.insert_registered_client(&row).await?;
        tracing::info!(client_id = %client_id, "client registered");
        Ok(self.information(&row, &metadata, secret.as_deref(), &registration_token))
    }

    /// RFC 7592 §2.1: the client's current registration.
    pub async fn read_client_registration(
        &self,
        client_id: &str,
        registration_token: Option<&str>,
    ) -> Result<ClientInformation, OAuthError> {
        let (row, metadata, token) = self
            .authorized_registration(client_id, registration_token)
            .await?;
        Ok(self.information(&row, &metadata, None, token))
    }

    /// RFC 7592 §2.2: replaces the metadata with the request's, validated as a new
    /// registration. The secret stays; a client that moves from a method without a secret to
    /// one with gets a new one (and one that moves the other way loses it).
    pub async fn update_client_registration(
        &self,
        client_id: &str,
        registration_token: Option<&str>,
        body: &[u8],
        now: UnixTime,
    ) -> Result<ClientInformation, OAuthError> {
        let (row, _, token) = self
            .authorized_registration(client_id, registration_token)
            .await?;
        let policy = self.registration_policy()?;
        let requested = RequestedMetadata::parse(body)?;
        if requested.client_id.as_deref() != Some(client_id) {
            return Err(OAuthError::invalid_request(
                "client_id must be present and be this client's (RFC 7592 §2.2)",
            ));
        }
        if let Some(presented) = &requested.client_secret {
            let matches = row.secret_sha256.as_deref().is_some_and(|stored| {
                constant_time_eq(
                    sha256_hex(presented.as_bytes()).as_bytes(),
                    stored.as_bytes(),
                )
            });
            if !matches {
                return Err(OAuthError::new(
                    crate::ErrorCode::InvalidClientMetadata,
                    "client_secret is not the client's current secret",
                ));
            }
        }
        let metadata = requested.validate(policy, &self.keys.current().algs())?;
        let new_secret =
            (metadata.needs_secret() && row.secret_sha256.is_none()).then(random_token);
        let secret_sha256 = match (&new_secret, metadata.needs_secret()) {
            (Some(s), _) => Some(sha256_hex(s.as_bytes())),
            (None, true) => row.secret_sha256.clone(),
            (None, false) => None,
        };
        let updated = RegisteredClient {
            metadata: serde_json::to_string(&metadata).map_err(|_| OAuthError::server_error())?,
            secret_sha256,
            updated_at: now,
            ..row
        };
        if !self.durable.update_registered_client(&updated).await? {
            // Deleted between the read and the write.
            return Err(bad_registration_token());
        }
        tracing::info!(client_id = %client_id, "client registration updated");
        Ok(self.information(&updated, &metadata, new_secret.as_deref(), token))
    }

    /// RFC 7592 §2.3: deletes the client; its refresh tokens and consents go with it, and it
    /// can no longer authenticate anywhere.
    pub async fn delete_client_registration(
        &self,
        client_id: &str,
        registration_token: Option<&str>,
    ) -> Result<(), OAuthError> {
        self.authorized_registration(client_id, registration_token)
            .await?;
        if !self.durable.delete_registered_client(client_id).await? {
            return Err(bad_registration_token());
        }
        tracing::info!(client_id = %client_id, "client registration deleted");
        Ok(())
    }

    fn registration_policy(&self) -> Result<&RegistrationPolicy, OAuthError> {
        // The web layer does not route here when registration is off; fail closed anyway.
        self.settings
            .registration
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("client registration is not enabled"))
    }

    /// RFC 7592 §2: the registered client `client_id`, if `token` is its registration access
    /// token (compared by digest in constant time).
    async fn authorized_registration<'t>(
        &self,
        client_id: &str,
        token: Option<&'t str>,
    ) -> Result<(RegisteredClient, ClientMetadata, &'t str), OAuthError> {
        self.registration_policy()?;
        let token = token.ok_or_else(bad_registration_token)?;
        // Only ids shaped like ours reach the database: a hostile path (a NUL byte, which
        // PostgreSQL refuses in text) is an unknown client, not a backend failure.
        if !could_be_registered(client_id) {
            return Err(bad_registration_token());
        }
        let row = self
            .durable
            .find_registered_client(client_id)
            .await?
            .ok_or_else(bad_registration_token)?;
        if !constant_time_eq(
            token_key(token).as_bytes(),
            row.registration_token_hash.as_bytes(),
        ) {
            return Err(bad_registration_token());
        }
        let metadata = stored_metadata(&row).map_err(OAuthError::from)?;
        Ok((row, metadata, token))
    }

    /// RFC 7591 §3.2.1 and RFC 7592 §3: the metadata, the server's fields, and the secret
    /// when one was just issued.
    fn information(
        &self,
        row: &RegisteredClient,
        metadata: &ClientMetadata,
        secret: Option<&str>,
        registration_token: &str,
    ) -> ClientInformation {
        let mut body = serde_json::to_value(metadata).unwrap_or_else(|_| json!({}));
        body["client_id"] = json!(row.client_id);
        body["client_id_issued_at"] = json!(row.issued_at);
        if let Some(secret) = secret {
            body["client_secret"] = json!(secret);
        }
        if row.secret_sha256.is_some() {
            // §3.2.1: REQUIRED with a secret; 0: it does not expire.
            body["client_secret_expires_at"] = json!(0);
        }
        body["registration_access_token"] = json!(registration_token);
        body["registration_client_uri"] = json!(format!(
            "{}/connect/register/{}",
            self.settings.issuer, row.client_id
        ));
        ClientInformation(body)
    }
}

/// Registered ids are [`random_token`]s (43 base64url characters): anything else is answered
/// without asking the database, so junk and typos at `/authorize` cost no query.
fn could_be_registered(id: &str) -> bool {
    id.len() == 43
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn stored_metadata(row: &RegisteredClient) -> Result<ClientMetadata, PortError> {
    serde_json::from_str(&row.metadata)
        .map_err(|e| PortError::Corrupt(format!("registered client metadata: {e}")))
}

/// The `Client` a stored registration stands for.
fn registered_client(row: &RegisteredClient) -> Result<Client, PortError> {
    let secret = match &row.secret_sha256 {
        None => None,
        Some(hex) => Some(decode_digest(hex).ok_or_else(|| {
            PortError::Corrupt("registered client secret digest is not 64 hex digits".into())
        })?),
    };
    stored_metadata(row)?
        .to_client(&row.client_id, secret)
        .map_err(|e| PortError::Corrupt(format!("registered client metadata: {e}")))
}

fn decode_digest(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::sha256;

    #[test]
    fn only_ids_shaped_like_registered_ones_are_looked_up() {
        assert!(could_be_registered(&random_token()));
        assert!(!could_be_registered("web"));
        assert!(!could_be_registered(&"a".repeat(44)));
        assert!(!could_be_registered(&format!("{}=", "a".repeat(42))));
    }

    #[test]
    fn digests_round_trip_through_hex() {
        let d = sha256(b"secret");
        assert_eq!(decode_digest(&sha256_hex(b"secret")), Some(d));
        assert_eq!(decode_digest("zz"), None);
        assert_eq!(decode_digest(&"g".repeat(64)), None);
    }
}
