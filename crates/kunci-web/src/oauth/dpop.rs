//! The `DPoP` request header (RFC 9449 §4.1), read the same way at `/token`, `/par` and
//! `/userinfo`: at most one (§4.3 item 1), as the core's `PresentedProof` with the request's
//! method. Checking it is the core's work.

use actix_web::HttpRequest;
use kunci_core::OAuthError;
use kunci_core::flow::PresentedProof;

/// The request's `DPoP` proof, if it has one; two or more are `invalid_dpop_proof`.
pub(crate) fn proof(req: &HttpRequest) -> Result<Option<PresentedProof>, OAuthError> {
    let mut values = req.headers().get_all("dpop");
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(OAuthError::invalid_dpop_proof(
            "send exactly one DPoP header",
        ));
    }
    let proof = first
        .to_str()
        .map_err(|_| OAuthError::invalid_dpop_proof("the DPoP header is not a JWT"))?;
    Ok(Some(PresentedProof {
        proof: proof.trim().to_owned(),
        method: req.method().as_str().to_owned(),
    }))
}
