//! OAuth 2.0 Token Exchange (RFC 8693) vocabulary: the token type identifiers (§3), the `act`
//! (actor) claim (§4.1), and a client's exchange policy. The grant itself is in
//! `flow/token/token_exchange.rs`.
//!
//! A policy says, per client, what it may exchange into and how. Nothing is allowed by
//! default: a client with the grant but an empty policy can exchange nothing.

use serde::{Deserialize, Serialize};

/// `grant_type` of the token exchange (RFC 8693 §2.1).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// RFC 8693 §3: an OAuth 2.0 access token. The only type Kunci issues, and the usual type of
/// what it accepts.
pub const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
/// RFC 8693 §3: a refresh token. Never exchangeable, never issued here.
pub const REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
/// RFC 8693 §3: an ID token. Not accepted: it is a statement to its client, not a credential.
pub const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
/// RFC 8693 §3: a JWT. Accepted only when it is one of Kunci's own JWT access tokens.
pub const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";

/// RFC 8693 §4.1: who is acting on the subject's behalf. The outermost actor is the current
/// one; a nested `act` names the actor before it, and so on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The actor's subject as its token named it (a service's client id for a client
    /// credentials token).
    pub sub: String,
    /// The client the actor's token was issued to.
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Box<Actor>>,
}

/// What a client may do with the token exchange grant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenExchangePolicy {
    /// The targets (`audience` or `resource` values, exact match) the client may exchange
    /// into. No wildcard.
    pub audiences: Vec<String>,
    /// Without an actor token: the new token stands for the subject alone (§1.1).
    pub impersonation: bool,
    /// With an actor token: the new token carries `act` (§1.1, §4.1).
    pub delegation: bool,
    /// The clients whose tokens it may present as subject tokens; `None` means any client.
    pub subject_clients: Option<Vec<String>>,
}

impl TokenExchangePolicy {
    pub fn allows_target(&self, target: &str) -> bool {
        self.audiences.iter().any(|a| a == target)
    }
    pub fn accepts_subject_from(&self, client_id: &str) -> bool {
        self.subject_clients
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|c| c == client_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_actors_serialize_outermost_first() {
        let act = Actor {
            sub: "gateway".into(),
            client_id: "gateway".into(),
            act: Some(Box::new(Actor {
                sub: "service".into(),
                client_id: "service".into(),
                act: None,
            })),
        };
        let v = serde_json::to_value(&act).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "sub": "gateway", "client_id": "gateway",
                "act": { "sub": "service", "client_id": "service" }
            })
        );
        assert_eq!(serde_json::from_value::<Actor>(v).unwrap(), act);
    }

    #[test]
    fn the_default_policy_allows_nothing_but_accepts_any_subject_client() {
        let p = TokenExchangePolicy::default();
        assert!(!p.allows_target("https://api.example"));
        assert!(!p.impersonation && !p.delegation);
        assert!(p.accepts_subject_from("web"));
        let only_web = TokenExchangePolicy {
            subject_clients: Some(vec!["web".into()]),
            ..p
        };
        assert!(only_web.accepts_subject_from("web"));
        assert!(!only_web.accepts_subject_from("spa"));
    }
}
