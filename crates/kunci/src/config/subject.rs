//! Subject identifiers (OIDC Core §8): the top-level `pairwise_salt` and a client's
//! `subject_type` with its sector.
//!
//! The sector of a pairwise client is the host of its redirect URIs when they all share one
//! (§8.1), or else the `sector_identifier` the operator writes. Kunci does not fetch a
//! `sector_identifier_uri` (the JSON list of §5 of OIDC Dynamic Client Registration): clients
//! come from this file, where the operator vouches for their URIs, so the host is enough.

use super::{ClientConfig, Config};
use anyhow::{Context, bail};
use kunci_core::subject::{PairwiseSalt, SubjectType};
use serde::{Deserialize, Serialize};

/// `pairwise_salt`: the salt itself (at least 32 characters) or `env:VAR`. Never printed.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PairwiseSaltSetting(pub String);

impl std::fmt::Debug for PairwiseSaltSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // An `env:` reference names a variable and may show; a salt written inline never does.
        if self.0.is_empty() || self.0.starts_with("env:") {
            write!(f, "{:?}", self.0)
        } else {
            f.write_str("\"<redacted>\"")
        }
    }
}

/// The shortest salt accepted: 32 characters (about 190 bits from `openssl rand -base64 32`).
const MIN_SALT_LEN: usize = 32;

impl Config {
    /// The pairwise salt, resolved: `None` when none is set. Messages name the key and the
    /// variable, never the value.
    pub fn pairwise_salt(&self) -> anyhow::Result<Option<PairwiseSalt>> {
        resolve_salt(&self.pairwise_salt.0, |v| std::env::var(v).ok())
    }

    /// `pairwise_salt` is required when a client is pairwise, and must resolve.
    pub(super) fn validate_pairwise(&self) -> anyhow::Result<()> {
        let salt = self.pairwise_salt()?;
        let pairwise = self
            .clients
            .iter()
            .enumerate()
            .find(|(_, c)| c.subject_type == "pairwise");
        if let (Some((i, c)), None) = (pairwise, &salt) {
            bail!(
                "pairwise_salt: clients[{i}] ({:?}) has subject_type = \"pairwise\", which needs a salt; set pairwise_salt = \"env:KUNCI_PAIRWISE_SALT\" and put at least {MIN_SALT_LEN} random characters there (`openssl rand -base64 32`). Changing the salt later changes every pairwise sub",
                c.client_id
            );
        }
        Ok(())
    }
}

fn resolve_salt(
    setting: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<PairwiseSalt>> {
    if setting.trim().is_empty() {
        return Ok(None);
    }
    let value = match setting.strip_prefix("env:") {
        Some(var) => lookup(var)
            .filter(|v| !v.trim().is_empty())
            .with_context(|| format!("pairwise_salt: environment variable {var} is not set"))?,
        None => setting.to_owned(),
    };
    if value.len() < MIN_SALT_LEN {
        bail!(
            "pairwise_salt: must be at least {MIN_SALT_LEN} characters (`openssl rand -base64 32`)"
        );
    }
    Ok(Some(PairwiseSalt::new(value.as_bytes())))
}

impl ClientConfig {
    /// `subject_type` (`public` or `pairwise`) and, for pairwise, the sector: the
    /// `sector_identifier` host, or the one host all `redirect_uris` share.
    pub(super) fn subject(&self) -> anyhow::Result<SubjectType> {
        match self.subject_type.as_str() {
            "public" => {
                if self.sector_identifier.is_some() {
                    bail!(
                        "sector_identifier: only used with subject_type = \"pairwise\"; remove it or set subject_type"
                    );
                }
                Ok(SubjectType::Public)
            }
            "pairwise" => Ok(SubjectType::Pairwise {
                sector: self.sector()?,
            }),
            other => bail!("subject_type: {other:?} is not one of public, pairwise"),
        }
    }

    fn sector(&self) -> anyhow::Result<String> {
        if let Some(s) = &self.sector_identifier {
            let host = s.to_ascii_lowercase();
            let valid = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !valid {
                bail!(
                    "sector_identifier: {s:?} must be a host name such as \"example.com\" (no scheme, port or path)"
                );
            }
            return Ok(host);
        }
        let mut hosts: Vec<String> = self
            .redirect_uris
            .iter()
            .filter_map(|u| url::Url::parse(u).ok())
            .filter_map(|u| u.host_str().map(str::to_ascii_lowercase))
            .collect();
        hosts.sort();
        hosts.dedup();
        match hosts.as_slice() {
            [one] => Ok(one.clone()),
            [] => bail!(
                "sector_identifier: subject_type = \"pairwise\" needs a sector; the redirect_uris have no host, so set sector_identifier = \"<host>\""
            ),
            _ => bail!(
                "sector_identifier: the redirect_uris have several hosts ({}); set sector_identifier to the host that groups them",
                hosts.join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_resolve_from_the_environment_and_must_be_long() {
        let long = "x".repeat(32);
        let lookup = |v: &str| (v == "SALT").then(|| long.clone());
        assert!(resolve_salt("", lookup).unwrap().is_none());
        assert!(resolve_salt("env:SALT", lookup).unwrap().is_some());
        let e = resolve_salt("env:NOPE", lookup).unwrap_err().to_string();
        assert!(e.contains("NOPE"), "{e}");
        let e = resolve_salt("short", lookup).unwrap_err().to_string();
        assert!(e.contains("pairwise_salt") && !e.contains("short"), "{e}");
        assert_eq!(
            format!("{:?}", PairwiseSaltSetting(long.clone())),
            "\"<redacted>\""
        );
    }
}
