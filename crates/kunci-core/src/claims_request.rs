//! The `claims` request parameter (OIDC Core §5.5) and Authentication Context Class References
//! (`acr`, OIDC Core §2, §3.1.2.1, §5.5.1.1).
//!
//! A request names individual claims for the ID token and for the userinfo response, each
//! voluntary or essential, optionally with the value(s) wanted. Kunci honours the names it
//! holds data for ([`SUPPORTED`]) and ignores the others (§5.5: "Claims not understood …
//! are ignored"). Values matter for two claims only: `sub` (the response must be about that
//! user, §3.1.2.2) and an essential `acr` (the sign-in must meet one of them, §5.5.1.1).
//!
//! The `acr` of a sign-in follows from its `amr` ([`acr_for`]): today every sign-in is by
//! password, [`ACR_PASSWORD`]. Future second factors add values here, ordered by strength.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A sign-in with a password only (RFC 8176 `pwd`).
pub const ACR_PASSWORD: &str = "urn:kunci:acr:pwd";

/// Every `acr` value Kunci can assert today, for discovery (`acr_values_supported`).
pub const ACR_VALUES: &[&str] = &[ACR_PASSWORD];

/// The claims a `claims` request may name (the rest are ignored).
pub const SUPPORTED: &[&str] = &[
    "sub",
    "email",
    "email_verified",
    "name",
    "locale",
    "updated_at",
    "auth_time",
    "acr",
    "amr",
];

/// One requested claim (OIDC Core §5.5.1): `null` or `{essential, value, values}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRequest {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub essential: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

impl ClaimRequest {
    /// The values asked for: `value`, or else `values` (empty: any value).
    pub fn wanted(&self) -> Vec<&str> {
        match &self.value {
            Some(v) => vec![v.as_str()],
            None => self.values.iter().map(String::as_str).collect(),
        }
    }
}

/// The parsed `claims` parameter, limited to the [`SUPPORTED`] names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsRequest {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub userinfo: BTreeMap<String, ClaimRequest>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub id_token: BTreeMap<String, ClaimRequest>,
}

impl ClaimsRequest {
    /// OIDC Core §5.5: a JSON object whose `userinfo` and `id_token` members are objects of
    /// claim name → `null` or an object. Anything else is an `invalid_request`, described by
    /// the returned text.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let root: Value = serde_json::from_str(raw).map_err(|_| "claims is not valid JSON")?;
        let root = root.as_object().ok_or("claims must be a JSON object")?;
        Ok(Self {
            userinfo: member(root.get("userinfo"))?,
            id_token: member(root.get("id_token"))?,
        })
    }

    /// Names requested for the userinfo response (beyond those the scopes release).
    pub fn userinfo_names(&self) -> Vec<String> {
        self.userinfo.keys().cloned().collect()
    }

    /// Names requested for the ID token.
    pub fn id_token_names(&self) -> Vec<String> {
        self.id_token.keys().cloned().collect()
    }

    /// The `sub` value the request insists on, in either member (OIDC Core §3.1.2.2, §5.5.1).
    pub fn required_sub(&self) -> Option<&str> {
        [&self.id_token, &self.userinfo]
            .into_iter()
            .find_map(|m| m.get("sub").and_then(|c| c.value.as_deref()))
    }

    /// The `acr` values of an essential `acr` request for the ID token (§5.5.1.1), if any.
    pub fn essential_acr(&self) -> Option<Vec<&str>> {
        self.id_token
            .get("acr")
            .filter(|c| c.essential)
            .map(ClaimRequest::wanted)
            .filter(|v| !v.is_empty())
    }
}

fn member(v: Option<&Value>) -> Result<BTreeMap<String, ClaimRequest>, &'static str> {
    let mut out = BTreeMap::new();
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(out);
    };
    let obj = v
        .as_object()
        .ok_or("claims: userinfo and id_token must be JSON objects")?;
    for (name, spec) in obj {
        let req = claim(spec)?;
        if SUPPORTED.contains(&name.as_str()) {
            out.insert(name.clone(), req);
        }
    }
    Ok(out)
}

/// One claim's request: `null`, or an object with optional `essential` (boolean), `value`
/// and `values` (array). Values are compared as strings; non-string values are kept in
/// their JSON form.
fn claim(spec: &Value) -> Result<ClaimRequest, &'static str> {
    let bad = "claims: each claim must be null or an object with essential, value or values";
    let obj = match spec {
        Value::Null => return Ok(ClaimRequest::default()),
        Value::Object(o) => o,
        _ => return Err(bad),
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let essential = match obj.get("essential") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("claims: essential must be true or false"),
    };
    let value = obj.get("value").filter(|v| !v.is_null()).map(text);
    let values = match obj.get("values") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().map(text).collect(),
        Some(_) => return Err("claims: values must be an array"),
    };
    Ok(ClaimRequest {
        essential,
        value,
        values,
    })
}

/// The `acr` a sign-in with these RFC 8176 methods reaches. Only passwords exist today.
pub fn acr_for(amr: &[String]) -> Option<&'static str> {
    amr.iter().any(|m| m == "pwd").then_some(ACR_PASSWORD)
}

/// OIDC Core §5.5.1.1: an essential `acr` is met only by one of its values. `acr_values`
/// (§3.1.2.1) are voluntary and never fail a request.
pub fn meets_essential_acr(claims: Option<&ClaimsRequest>, amr: &[String]) -> bool {
    match claims.and_then(ClaimsRequest::essential_acr) {
        None => true,
        Some(wanted) => acr_for(amr).is_some_and(|acr| wanted.contains(&acr)),
    }
}

/// Whether Kunci could meet an essential `acr` with any sign-in it offers.
pub fn essential_acr_attainable(claims: &ClaimsRequest) -> bool {
    match claims.essential_acr() {
        None => true,
        Some(wanted) => wanted.iter().any(|w| ACR_VALUES.contains(w)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_members_and_ignores_unknown_claims() {
        let c = ClaimsRequest::parse(
            r#"{"userinfo":{"email":{"essential":true},"phone_number":null},
                "id_token":{"acr":{"values":["urn:kunci:acr:pwd"]},"name":null}}"#,
        )
        .unwrap();
        assert_eq!(c.userinfo_names(), vec!["email"]);
        assert_eq!(c.id_token_names(), vec!["acr", "name"]);
        assert!(c.userinfo["email"].essential);
        assert_eq!(c.id_token["acr"].wanted(), vec![ACR_PASSWORD]);
    }

    #[test]
    fn refuses_malformed_requests() {
        for raw in [
            "not json",
            "[]",
            r#"{"userinfo":[]}"#,
            r#"{"id_token":{"email":true}}"#,
            r#"{"id_token":{"email":{"essential":"yes"}}}"#,
            r#"{"id_token":{"acr":{"values":"x"}}}"#,
        ] {
            assert!(ClaimsRequest::parse(raw).is_err(), "{raw}");
        }
        assert_eq!(
            ClaimsRequest::parse("{}").unwrap(),
            ClaimsRequest::default()
        );
    }

    #[test]
    fn essential_acr_is_met_only_by_a_listed_value() {
        let pwd = vec!["pwd".to_owned()];
        let want = |v: &str| {
            ClaimsRequest::parse(&format!(
                r#"{{"id_token":{{"acr":{{"essential":true,"values":["{v}"]}}}}}}"#
            ))
            .unwrap()
        };
        assert!(meets_essential_acr(Some(&want(ACR_PASSWORD)), &pwd));
        assert!(!meets_essential_acr(Some(&want("urn:kunci:acr:mfa")), &pwd));
        assert!(!essential_acr_attainable(&want("urn:kunci:acr:mfa")));
        assert!(meets_essential_acr(None, &pwd));
        assert_eq!(acr_for(&pwd), Some(ACR_PASSWORD));
    }

    #[test]
    fn sub_value_is_found_in_either_member() {
        let c = ClaimsRequest::parse(r#"{"userinfo":{"sub":{"value":"u1"}}}"#).unwrap();
        assert_eq!(c.required_sub(), Some("u1"));
    }
}
