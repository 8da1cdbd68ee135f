//! The `[registration]` section: dynamic client registration (RFC 7591/7592), off by default.
//! The configuration file stays the main way to register clients; this lets holders of an
//! initial access token register more, within the limits set here.

use super::Config;
use super::clients::parse_secret;
use anyhow::{Context, bail};
use kunci_core::client::GrantType;
use kunci_core::registration::RegistrationPolicy;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationConfig {
    /// Serve `POST /connect/register` and `/connect/register/{client_id}`, and accept registered clients.
    #[serde(default)]
    pub enabled: bool,
    /// Who may register: each `sha256:<64 hex>` (the digest of a token, see
    /// `kunci client hash-secret`) or `env:VAR` (VAR holds the token).
    #[serde(default)]
    pub initial_access_tokens: Vec<String>,
    /// The scopes a registered client may have (and gets without asking).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The grants a registered client may use.
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
    /// Whether public clients (`token_endpoint_auth_method = "none"`) may register.
    #[serde(default)]
    pub allow_public_clients: bool,
    #[serde(default = "default_max_redirect_uris")]
    pub max_redirect_uris: usize,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into(), "email".into()]
}
fn default_grant_types() -> Vec<String> {
    vec!["authorization_code".into(), "refresh_token".into()]
}
fn default_max_redirect_uris() -> usize {
    10
}

impl Default for RegistrationConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            initial_access_tokens: Vec::new(),
            scopes: default_scopes(),
            grant_types: default_grant_types(),
            allow_public_clients: false,
            max_redirect_uris: default_max_redirect_uris(),
        }
    }
}

/// The most redirect URIs an operator may allow per registered client.
const MAX_REDIRECT_URIS: usize = 50;

impl Config {
    /// The registration policy, checked; `None` when registration is disabled. Checked in
    /// full even then, so a mistake shows before someone turns it on.
    pub fn registration_policy(&self) -> anyhow::Result<Option<RegistrationPolicy>> {
        let r = &self.registration;
        let mut initial_access_tokens = Vec::new();
        for (i, t) in r.initial_access_tokens.iter().enumerate() {
            let digest = parse_secret(t).map_err(|e| {
                let msg = e.to_string();
                anyhow::anyhow!(
                    "registration.initial_access_tokens[{i}]: {}",
                    msg.trim_start_matches("secret: ")
                )
            })?;
            initial_access_tokens.push(digest);
        }
        if r.enabled && initial_access_tokens.is_empty() {
            bail!(
                "registration.initial_access_tokens: registration is enabled but nobody could register; add a token digest (`kunci client hash-secret --generate`) or env:VAR"
            );
        }
        let mut grant_types = Vec::new();
        for (i, g) in r.grant_types.iter().enumerate() {
            // Token exchange needs an operator's per-client policy, which registration has not.
            let grant = GrantType::parse(g)
                .filter(|g| *g != GrantType::TokenExchange)
                .with_context(|| {
                    format!(
                        "registration.grant_types[{i}]: {g:?} is not one of authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:device_code"
                    )
                })?;
            if !grant_types.contains(&grant) {
                grant_types.push(grant);
            }
        }
        if grant_types.contains(&GrantType::RefreshToken)
            && !grant_types.contains(&GrantType::AuthorizationCode)
        {
            bail!(
                "registration.grant_types: refresh_token comes with the authorization code flow; add \"authorization_code\""
            );
        }
        for (i, s) in r.scopes.iter().enumerate() {
            if kunci_core::scope::parse(s).as_deref() != Some(std::slice::from_ref(s)) {
                bail!(
                    "registration.scopes[{i}]: {s:?} is not a scope name (RFC 6749 §3.3: printable ASCII without spaces, quotes or backslashes)"
                );
            }
            if s == "offline_access" {
                bail!(
                    "registration.scopes[{i}]: offline_access comes with the refresh_token grant; list \"refresh_token\" in registration.grant_types instead"
                );
            }
        }
        if r.max_redirect_uris == 0 || r.max_redirect_uris > MAX_REDIRECT_URIS {
            bail!(
                "registration.max_redirect_uris: must be between 1 and {MAX_REDIRECT_URIS} (got {})",
                r.max_redirect_uris
            );
        }
        Ok(r.enabled.then(|| RegistrationPolicy {
            initial_access_tokens,
            scopes: r.scopes.clone(),
            grant_types,
            allow_public_clients: r.allow_public_clients,
            max_redirect_uris: r.max_redirect_uris,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(r: RegistrationConfig) -> Config {
        Config {
            registration: r,
            ..Config::default()
        }
    }

    fn error(r: RegistrationConfig) -> String {
        format!("{:#}", with(r).registration_policy().unwrap_err())
    }

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn disabled_by_default_and_then_no_policy() {
        let c = Config::default();
        assert!(!c.registration.enabled);
        assert!(c.registration_policy().unwrap().is_none());
    }

    #[test]
    fn an_enabled_section_becomes_the_policy() {
        let policy = with(RegistrationConfig {
            enabled: true,
            initial_access_tokens: vec![DIGEST.into()],
            ..Default::default()
        })
        .registration_policy()
        .unwrap()
        .unwrap();
        assert_eq!(policy.initial_access_tokens.len(), 1);
        assert_eq!(
            policy.grant_types,
            [GrantType::AuthorizationCode, GrantType::RefreshToken]
        );
        assert!(!policy.allow_public_clients);
    }

    #[test]
    fn every_mistake_names_its_key() {
        let enabled = || RegistrationConfig {
            enabled: true,
            initial_access_tokens: vec![DIGEST.into()],
            ..Default::default()
        };
        let cases = [
            (
                RegistrationConfig {
                    initial_access_tokens: Vec::new(),
                    ..enabled()
                },
                "registration.initial_access_tokens:",
            ),
            (
                RegistrationConfig {
                    initial_access_tokens: vec!["plain-token".into()],
                    ..enabled()
                },
                "registration.initial_access_tokens[0]: must start with sha256: or env:",
            ),
            (
                RegistrationConfig {
                    initial_access_tokens: vec!["sha256:abc".into()],
                    ..enabled()
                },
                "registration.initial_access_tokens[0]: sha256:",
            ),
            (
                RegistrationConfig {
                    grant_types: vec!["password".into()],
                    ..enabled()
                },
                "registration.grant_types[0]",
            ),
            (
                RegistrationConfig {
                    grant_types: vec!["refresh_token".into()],
                    ..enabled()
                },
                "registration.grant_types: refresh_token",
            ),
            (
                RegistrationConfig {
                    scopes: vec!["openid".into(), "offline_access".into()],
                    ..enabled()
                },
                "registration.scopes[1]",
            ),
            (
                RegistrationConfig {
                    max_redirect_uris: 0,
                    ..enabled()
                },
                "registration.max_redirect_uris",
            ),
        ];
        for (config, expected) in cases {
            let message = error(config);
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        }
        // Checked even while disabled.
        let message = error(RegistrationConfig {
            enabled: false,
            ..RegistrationConfig {
                initial_access_tokens: vec!["nope".into()],
                ..Default::default()
            }
        });
        assert!(message.contains("registration.initial_access_tokens[0]"));
    }
}
