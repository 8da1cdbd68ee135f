//! A client's `[clients.token_exchange]` table: what it may do with the token exchange grant
//! (RFC 8693). Nothing is allowed by default; the grant and the table go together, so the file
//! says one thing only.

use super::ClientConfig;
use anyhow::bail;
use kunci_core::client::{AuthMethod, GrantType};
use kunci_core::token_exchange::{GRANT_TYPE, TokenExchangePolicy};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenExchangeConfig {
    /// The targets (`audience` or `resource` values, exact match) the client may exchange
    /// tokens into. Required; no wildcard.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// May exchange without an actor token: the new token stands for the subject alone.
    #[serde(default)]
    pub impersonation: bool,
    /// May exchange with its own access token as actor token: the new token carries `act`.
    #[serde(default)]
    pub delegation: bool,
    /// The clients whose access tokens it may present as subject tokens; omitted means any.
    #[serde(default)]
    pub subject_clients: Option<Vec<String>>,
}

impl ClientConfig {
    /// The policy of a client with the token exchange grant, checked; the default (nothing
    /// allowed) for any other client.
    pub(super) fn token_exchange_policy(
        &self,
        grant_types: &[GrantType],
        auth_method: AuthMethod,
    ) -> anyhow::Result<TokenExchangePolicy> {
        let has_grant = grant_types.contains(&GrantType::TokenExchange);
        let Some(cfg) = &self.token_exchange else {
            if has_grant {
                bail!(
                    "token_exchange: the {GRANT_TYPE} grant needs a [clients.token_exchange] table naming the audiences and impersonation and/or delegation"
                );
            }
            return Ok(TokenExchangePolicy::default());
        };
        if !has_grant {
            bail!("token_exchange: add \"{GRANT_TYPE}\" to grant_types, or remove the table");
        }
        if auth_method == AuthMethod::None {
            bail!(
                "grant_types: token exchange is for confidential clients only; give the client a secret and a token_endpoint_auth_method other than \"none\""
            );
        }
        if cfg.audiences.is_empty() {
            bail!(
                "token_exchange.audiences: name at least one target the client may exchange tokens into"
            );
        }
        for (i, a) in cfg.audiences.iter().enumerate() {
            if a.is_empty()
                || a.contains('*')
                || a.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                bail!(
                    "token_exchange.audiences[{i}]: {a:?} must be an exact target (no wildcard, no spaces)"
                );
            }
        }
        if !cfg.impersonation && !cfg.delegation {
            bail!(
                "token_exchange: allow impersonation = true and/or delegation = true, or the client can exchange nothing"
            );
        }
        if cfg.subject_clients.as_ref().is_some_and(Vec::is_empty) {
            bail!(
                "token_exchange.subject_clients: an empty list accepts no token; omit it to accept any client's tokens"
            );
        }
        Ok(TokenExchangePolicy {
            audiences: cfg.audiences.clone(),
            impersonation: cfg.impersonation,
            delegation: cfg.delegation,
            subject_clients: cfg.subject_clients.clone(),
        })
    }
}

/// `token_exchange.subject_clients` must name registered clients (checked once all are known).
pub(super) fn check_subject_clients(clients: &[ClientConfig]) -> anyhow::Result<()> {
    for (i, c) in clients.iter().enumerate() {
        let named = c
            .token_exchange
            .as_ref()
            .and_then(|t| t.subject_clients.as_ref());
        for (j, id) in named.into_iter().flatten().enumerate() {
            if !clients.iter().any(|other| other.client_id == *id) {
                bail!(
                    "clients[{i}] ({:?}): token_exchange.subject_clients[{j}]: {id:?} is not a registered client_id",
                    c.client_id
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::{ClientConfig, Config};

    const GATEWAY: &str = r#"
        client_id = "gateway"
        name = "Gateway"
        secret = "sha256:e4131025a29a30db379f9686b45151b18980a39f892d5e6911be5136441bbd23"
        redirect_uris = []
        grant_types = ["urn:ietf:params:oauth:grant-type:token-exchange"]
        scopes = ["openid", "email"]

        [token_exchange]
        audiences = ["https://orders.example.com", "billing"]
        impersonation = true
        "#;

    fn gateway(from: &str, to: &str) -> anyhow::Result<kunci_core::client::Client> {
        assert!(GATEWAY.contains(from), "{from}");
        let c: ClientConfig = toml::from_str(&GATEWAY.replacen(from, to, 1))?;
        c.to_client()
    }

    fn refused(from: &str, to: &str, fragments: &[&str]) {
        let e = format!("{:#}", gateway(from, to).unwrap_err());
        for f in fragments {
            assert!(e.contains(f), "{f:?} not in {e}");
        }
    }

    #[test]
    fn the_table_becomes_the_clients_policy() {
        let c = gateway("", "").unwrap();
        let p = &c.token_exchange;
        assert_eq!(p.audiences, ["https://orders.example.com", "billing"]);
        assert!(p.impersonation && !p.delegation);
        assert_eq!(p.subject_clients, None);
    }

    #[test]
    fn the_grant_and_the_table_go_together() {
        refused("[token_exchange]", "[other]", &["unknown field"]);
        let c: ClientConfig =
            toml::from_str(GATEWAY.split("[token_exchange]").next().unwrap()).unwrap();
        let e = format!("{:#}", c.to_client().unwrap_err());
        assert!(
            e.starts_with("token_exchange:") && e.contains("table"),
            "{e}"
        );
        refused(
            "grant_types = [\"urn:ietf:params:oauth:grant-type:token-exchange\"]",
            "grant_types = [\"client_credentials\"]",
            &["token_exchange:", "grant_types"],
        );
    }

    #[test]
    fn public_clients_cannot_exchange() {
        let c: ClientConfig = toml::from_str(
            &GATEWAY
                .lines()
                .filter(|l| !l.contains("secret"))
                .collect::<Vec<_>>()
                .join("\n")
                .replacen(
                    "redirect_uris = []",
                    "redirect_uris = []\ntoken_endpoint_auth_method = \"none\"",
                    1,
                ),
        )
        .unwrap();
        let e = format!("{:#}", c.to_client().unwrap_err());
        assert!(
            e.starts_with("grant_types") && e.contains("confidential"),
            "{e}"
        );
    }

    #[test]
    fn audiences_are_exact_and_something_must_be_allowed() {
        refused(
            "audiences = [\"https://orders.example.com\", \"billing\"]",
            "audiences = []",
            &["token_exchange.audiences"],
        );
        refused(
            "\"billing\"",
            "\"https://*.example.com\"",
            &["token_exchange.audiences[1]", "wildcard"],
        );
        refused(
            "impersonation = true",
            "impersonation = false",
            &["impersonation", "delegation"],
        );
        refused(
            "impersonation = true",
            "impersonation = true\nsubject_clients = []",
            &["token_exchange.subject_clients"],
        );
        refused(
            "impersonation = true",
            "impersonate = true",
            &["unknown field"],
        );
    }

    #[test]
    fn subject_clients_must_be_registered() {
        let mut config = Config::default();
        let mut c: ClientConfig = toml::from_str(&GATEWAY.replacen(
            "impersonation = true",
            "impersonation = true\nsubject_clients = [\"web\"]",
            1,
        ))
        .unwrap();
        config.clients.push(c.clone());
        let e = format!("{:#}", config.validate().unwrap_err());
        assert!(
            e.contains("token_exchange.subject_clients[0]") && e.contains("\"web\""),
            "{e}"
        );
        c.token_exchange.as_mut().unwrap().subject_clients = Some(vec!["gateway".into()]);
        config.clients = vec![c];
        config.validate().unwrap();
    }
}
