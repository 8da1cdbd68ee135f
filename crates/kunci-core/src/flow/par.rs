//! Pushed Authorization Requests (RFC 9126): a client POSTs its authorization request to
//! `/par`, authenticated as at the token endpoint; the request is validated now (errors are
//! JSON, never redirects) and kept for [`PAR_TTL`] seconds under a one-time `request_uri`.
//! `/authorize?client_id&request_uri` then takes it, once, and uses only its parameters (§4).
//! A DPoP proof sent to `/par` binds the future code to its key (RFC 9449 §10.1).

use super::{PresentedProof, Provider};
use crate::authorize::{AuthorizeParams, validate};
use crate::client::{LoadedClients, PresentedCredentials};
use crate::clock::UnixTime;
use crate::error::{ErrorCode, OAuthError, PortError};
use crate::records::PushedRequest;
use crate::secret::random_token;
use serde::Serialize;

/// RFC 9126 §2.2: the `request_uri` scheme Kunci hands out.
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// How long a pushed request waits for the browser (RFC 9126 §2.2 suggests 5–600 s).
pub const PAR_TTL: u64 = 60;

/// RFC 9126 §2.2: the successful response (HTTP 201).
#[derive(Debug, Serialize)]
pub struct ParResponse {
    pub request_uri: String,
    pub expires_in: u64,
}

impl Provider {
    /// RFC 9126 §2.1: authenticate the client, validate the request as `/authorize` would
    /// (every error as JSON), store it under a new `request_uri`.
    pub async fn push_authorization_request(
        &self,
        credentials: Option<PresentedCredentials>,
        mut params: Vec<(String, String)>,
        dpop: Option<PresentedProof>,
        now: UnixTime,
    ) -> Result<ParResponse, OAuthError> {
        let presented = credentials
            .ok_or_else(|| OAuthError::invalid_client("client authentication is missing"))?;
        let client = self.authenticate_client(&presented, now).await?;
        // §2.1: a pushed request cannot itself point at a stored one.
        if params.iter().any(|(k, _)| k == "request_uri") {
            return Err(OAuthError::invalid_request(
                "request_uri is not allowed in a pushed authorization request",
            ));
        }
        // RFC 9126 §3: a request object may be pushed; then only its parameters count.
        if let Some(pos) = params
            .iter()
            .position(|(k, _)| k == "request")
            .filter(|_| client.has_public_keys())
        {
            let (_, request) = params.swap_remove(pos);
            params = self.expand_request_object(&client, &request, now).await?;
        }
        // The authenticated client is the request's client (the form's `client_id`, if any,
        // was already checked against the credentials).
        params.retain(|(k, _)| k != "client_id");
        params.push(("client_id".into(), client.id.clone()));
        if let Some(proof) = &dpop {
            let jkt = self
                .check_dpop(proof, &client.id, "/par", None, now)
                .await?;
            bind_to_dpop_key(&mut params, jkt)?;
        }
        let clients = LoadedClients(vec![client.clone()]);
        validate(&AuthorizeParams::from_pairs(params.clone()), &clients)
            .map_err(|e| e.oauth().clone())?;
        let id = random_token();
        let record = PushedRequest {
            client_id: client.id.clone(),
            params,
        };
        self.records()
            .put_pushed_request(&id, &record, PAR_TTL)
            .await?;
        Ok(ParResponse {
            request_uri: format!("{REQUEST_URI_PREFIX}{id}"),
            expires_in: PAR_TTL,
        })
    }

    /// At `/authorize`: with a `request_uri`, the pushed parameters, taken once (`Some`); without
    /// one, `None`. An unknown, expired or used `request_uri`, or a `client_id` that is not the
    /// pusher's, is an error page: nothing is trusted yet (§4).
    pub(super) async fn pushed_params(
        &self,
        params: &AuthorizeParams,
    ) -> Result<Result<Option<AuthorizeParams>, OAuthError>, PortError> {
        let Some(uri) = params.value("request_uri") else {
            return Ok(Ok(None));
        };
        // Other `request_uri` values (request objects by reference) are refused by the
        // ordinary validation, as `request_uri_not_supported`.
        let Some(id) = uri.strip_prefix(REQUEST_URI_PREFIX) else {
            return Ok(Ok(None));
        };
        let record = match self.records().take_pushed_request(id).await {
            Ok(r) => r,
            Err(PortError::Corrupt(_)) => None,
            Err(e) => return Err(e),
        };
        let Some(record) = record else {
            return Ok(Err(OAuthError::new(
                ErrorCode::InvalidRequestUri,
                "the request_uri is unknown, expired or already used",
            )));
        };
        if params.value("client_id") != Some(record.client_id.as_str()) {
            return Ok(Err(OAuthError::invalid_request(
                "client_id does not match the pushed authorization request",
            )));
        }
        Ok(Ok(Some(AuthorizeParams::from_pairs(record.params))))
    }
}

/// RFC 9449 §10.1: a proof at `/par` binds the code to its key, as `dpop_jkt` would; when both
/// are sent they must name the same key.
fn bind_to_dpop_key(params: &mut Vec<(String, String)>, jkt: String) -> Result<(), OAuthError> {
    match params.iter().find(|(k, _)| k == "dpop_jkt") {
        Some((_, given)) if *given != jkt => Err(OAuthError::invalid_dpop_proof(
            "dpop_jkt does not match the key of the DPoP proof",
        )),
        Some(_) => Ok(()),
        None => {
            params.push(("dpop_jkt".into(), jkt));
            Ok(())
        }
    }
}
